"""Recording audit events. Call :func:`record` inside the transaction of the change."""
from __future__ import annotations

import functools
import json
import secrets
import sqlite3

from flask import g, has_app_context, has_request_context, request
from flask_login import current_user

from core.audit.models import AuditEvent
from core.db import db, is_postgres, utcnow

SENSITIVE = {"password", "password_hash", "totp_secret", "id_number", "id_number_enc"}
_JSON = json.JSONEncoder(ensure_ascii=False, sort_keys=True, default=str)


def request_id() -> str:
    """The id of the current request (``X-Request-Id`` from the proxy, else a new one)."""
    if not has_request_context():
        return ""
    if not hasattr(g, "ql_request_id"):
        g.ql_request_id = request.headers.get("X-Request-Id", "")[:64] or secrets.token_hex(16)
    return g.ql_request_id


def mask(field: str, value):
    """Mask sensitive values: ID numbers keep their first 4 and last 4 characters."""
    if value is None:
        return None
    text = str(value)
    if field in ("id_number",) and len(text) >= 8:
        return text[:4] + "*" * (len(text) - 8) + text[-4:]
    if field in SENSITIVE:
        return "***"
    return value


def diff(old: dict | None, new: dict | None) -> dict:
    """{field: [old, new]} for fields that changed, sensitive values masked."""
    old, new = old or {}, new or {}
    out = {}
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            out[key] = [mask(key, old.get(key)), mask(key, new.get(key))]
    return out


def _masked(changes: dict) -> dict:
    """Mask sensitive fields in a ``{field: [old, new]}`` (or ``{field: value}``) dict."""
    out = {}
    for key, value in changes.items():
        if key in SENSITIVE:
            value = ([mask(key, v) for v in value] if isinstance(value, (list, tuple))
                     else mask(key, value))
        out[key] = value
    return out


def _acting_roles(actor, in_request: bool) -> str:
    """Roles held by the acting user, comma-separated (the request's, when it is them)."""
    if actor is None or not has_app_context():
        return ""
    current = getattr(g, "ql_user", None) if in_request else None
    if current is not None and getattr(current, "id", None) == getattr(actor, "id", None):
        acting = getattr(g, "ql_roles", None) or set()
    else:
        from core.auth.scope import roles
        acting = roles(actor) if getattr(actor, "id", None) is not None else set()
    return ",".join(sorted(acting))[:200]


def _context(user) -> dict:
    """Who acts (as which roles), where from and in which request: from the context."""
    in_request = has_request_context()
    actor = user
    if actor is None and in_request:
        actor = current_user if getattr(current_user, "is_authenticated", False) else None
    region = getattr(g, "ql_region", None) if in_request else None
    return {
        "user_id": getattr(actor, "id", None),
        "username": (getattr(actor, "username", "") or "")[:64],
        "role": _acting_roles(actor, in_request),
        "region_id": region.id if region is not None else None,
        "ip": (request.remote_addr or "")[:64] if in_request else "",
        "user_agent": (request.user_agent.string or "")[:255] if in_request else "",
        "request_id": request_id(),
    }


def _values(context: dict, ts, action: str, *, object_type: str = "", object_id=None,
            summary: str = "", changes: dict | None = None, region_id: int | None = None,
            success: bool = True) -> dict:
    return {
        **context,
        "ts": ts,
        "region_id": context["region_id"] if region_id is None else region_id,
        "action": action[:64],
        "object_type": object_type[:64],
        "object_id": "" if object_id is None else str(object_id)[:64],
        "summary": str(summary),
        "changes": _JSON.encode(_masked(changes)) if changes else "",
        "success": success,
    }


def record(action: str, *, object_type: str = "", object_id=None, summary: str = "",
           changes: dict | None = None, region_id: int | None = None, user=None,
           success: bool = True) -> AuditEvent:
    """Write one audit event (审计记录). Who, acting as which roles, where from and in
    which request come from the context; sensitive fields in ``changes`` are masked."""
    return _insert(**_values(_context(user), utcnow(), action, object_type=object_type,
                             object_id=object_id, summary=summary, changes=changes,
                             region_id=region_id, success=success))


def record_many(action: str, events, *, user=None) -> int:
    """Write one ``action`` event per item of ``events`` (dicts of :func:`record`'s
    ``object_type``, ``object_id``, ``summary``, ``changes``, ``region_id``, ``success``)
    with multi-row inserts, for a service that acts on many objects at once. Same context,
    masking and time for each; returns how many were written."""
    context, ts = _context(user), utcnow()
    rows = [_values(context, ts, action, **event) for event in events]
    per = max_variables() // len(_COLUMNS) if len(rows) * len(_COLUMNS) > 999 else 999
    for start in range(0, len(rows), per):
        chunk = rows[start:start + per]
        db.execute_sql(_insert_sql(type(db.obj), len(chunk)),
                       [row[n] for row in chunk for n in _COLUMNS])
    return len(rows)


def max_variables() -> int:
    """How many parameters one statement may bind on this connection: SQLite's compiled
    limit (999 before 3.32, 32766 since, more in some builds), at most 32766."""
    conn = db.connection()
    if isinstance(conn, sqlite3.Connection):
        return min(conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER), 32766)
    return 32766


_COLUMNS = tuple(name for name in AuditEvent._meta.sorted_field_names if name != "id")


@functools.lru_cache(maxsize=32)
def _insert_sql(database_type: type, rows: int = 1, returning: bool = False) -> str:
    """A fixed INSERT of ``rows`` events, built once per backend from the model's fields."""
    open_q, close_q = database_type.quote
    fields = AuditEvent._meta.fields
    columns = ", ".join(f"{open_q}{fields[n].column_name}{close_q}" for n in _COLUMNS)
    one = f"({', '.join([database_type.param] * len(_COLUMNS))})"
    return (f"INSERT INTO {open_q}{AuditEvent._meta.table_name}{close_q} ({columns}) "
            f"VALUES {', '.join([one] * rows)}"
            + (f" RETURNING {open_q}id{close_q}" if returning else ""))


def _insert(**values) -> AuditEvent:
    """Insert one event with a prepared statement.

    record() sits on every write path: a fixed statement (built once per backend from the
    model's fields) costs a fraction of building the INSERT through the query builder."""
    sql = _insert_sql(type(db.obj), 1, is_postgres())
    cursor = db.execute_sql(sql, [values[n] for n in _COLUMNS])
    values["id"] = cursor.fetchone()[0] if is_postgres() else cursor.lastrowid
    event = AuditEvent(__no_default__=1)  # as peewee builds rows read from the database
    event.__data__.update(values)
    return event


def first_record(action: str, object_type: str, object_id, *, region_id: int | None = None,
                 since=None) -> AuditEvent | None:
    """The first successful ``action`` event recorded about one object (its ``ts``,
    ``username``, ``summary``…), or None: for a service whose only record of a one-time
    step is the audit trail. The trail is indexed by time and region, not by object:
    give ``since`` (a time the step cannot precede) and ``region_id`` where known."""
    query = AuditEvent.select().where((AuditEvent.action == action)
                                      & (AuditEvent.object_type == object_type)
                                      & (AuditEvent.object_id == str(object_id))
                                      & (AuditEvent.success == True))
    if region_id is not None:
        query = query.where(AuditEvent.region_id == region_id)
    if since is not None:
        query = query.where(AuditEvent.ts >= since)
    return query.order_by(AuditEvent.id).first()


def record_view(object_type: str, object_id, summary: str = "", *,
                region_id: int | None = None) -> AuditEvent:
    """Record that the current user viewed a record marked confidential (涉密查看).

    Plugins call this from the view that shows such a record; it commits on its own."""
    with db.atomic():
        return record("record.view", object_type=object_type, object_id=object_id,
                      summary=summary, region_id=region_id)
