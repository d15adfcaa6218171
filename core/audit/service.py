"""Recording audit events. Call :func:`record` inside the transaction of the change."""
from __future__ import annotations

import json
import secrets

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


def record(action: str, *, object_type: str = "", object_id=None, summary: str = "",
           changes: dict | None = None, region_id: int | None = None, user=None,
           success: bool = True) -> AuditEvent:
    """Write one audit event (审计记录). Who, acting as which roles, where from and in
    which request come from the context; sensitive fields in ``changes`` are masked."""
    in_request = has_request_context()
    actor = user
    if actor is None and in_request:
        actor = current_user if getattr(current_user, "is_authenticated", False) else None
    if region_id is None and in_request and getattr(g, "ql_region", None) is not None:
        region_id = g.ql_region.id
    return _insert(
        ts=utcnow(),
        user_id=getattr(actor, "id", None),
        username=(getattr(actor, "username", "") or "")[:64],
        role=_acting_roles(actor, in_request),
        region_id=region_id,
        ip=(request.remote_addr or "")[:64] if in_request else "",
        user_agent=(request.user_agent.string or "")[:255] if in_request else "",
        request_id=request_id(),
        action=action[:64],
        object_type=object_type[:64],
        object_id="" if object_id is None else str(object_id)[:64],
        summary=str(summary),
        changes=_JSON.encode(_masked(changes)) if changes else "",
        success=success,
    )


_COLUMNS = tuple(name for name in AuditEvent._meta.sorted_field_names if name != "id")
_INSERT_SQL: dict[type, str] = {}


def _insert(**values) -> AuditEvent:
    """Insert one event with a prepared statement.

    record() sits on every write path: a fixed statement (built once per backend from the
    model's fields) costs a fraction of building the INSERT through the query builder."""
    database = db.obj
    sql = _INSERT_SQL.get(type(database))
    if sql is None:
        open_q, close_q = database.quote
        fields = AuditEvent._meta.fields
        columns = ", ".join(f"{open_q}{fields[n].column_name}{close_q}" for n in _COLUMNS)
        sql = (f"INSERT INTO {open_q}{AuditEvent._meta.table_name}{close_q} ({columns}) "
               f"VALUES ({', '.join([database.param] * len(_COLUMNS))})")
        if is_postgres():
            sql += f" RETURNING {open_q}id{close_q}"
        _INSERT_SQL[type(database)] = sql
    cursor = db.execute_sql(sql, [values[n] for n in _COLUMNS])
    values["id"] = cursor.fetchone()[0] if is_postgres() else cursor.lastrowid
    event = AuditEvent(__no_default__=1)  # as peewee builds rows read from the database
    event.__data__.update(values)
    return event


def record_view(object_type: str, object_id, summary: str = "", *,
                region_id: int | None = None) -> AuditEvent:
    """Record that the current user viewed a record marked confidential (涉密查看).

    Plugins call this from the view that shows such a record; it commits on its own."""
    with db.atomic():
        return record("record.view", object_type=object_type, object_id=object_id,
                      summary=summary, region_id=region_id)
