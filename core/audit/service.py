"""Recording audit events. Call :func:`record` inside the transaction of the change."""
from __future__ import annotations

import json
import uuid

from flask import g, has_request_context, request

from core.audit.models import AuditEvent

SENSITIVE = {"password", "password_hash", "totp_secret", "id_number", "id_number_enc"}


def request_id() -> str:
    if not has_request_context():
        return ""
    if not hasattr(g, "ql_request_id"):
        g.ql_request_id = request.headers.get("X-Request-Id", "")[:64] or uuid.uuid4().hex
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


def record(action: str, *, object_type: str = "", object_id=None, summary: str = "",
           changes: dict | None = None, region_id: int | None = None, user=None,
           success: bool = True) -> AuditEvent:
    """Write one audit event. Who, where from and which request come from the context."""
    from flask_login import current_user
    actor = user
    if actor is None and has_request_context():
        actor = current_user if getattr(current_user, "is_authenticated", False) else None
    role = ""
    if actor is not None and has_request_context():
        acting = getattr(g, "ql_roles", None)
        role = ",".join(sorted(acting)) if acting else ""
    if region_id is None and has_request_context() and getattr(g, "ql_region", None):
        region_id = g.ql_region.id
    return AuditEvent.create(
        user_id=getattr(actor, "id", None),
        username=getattr(actor, "username", "") or "",
        role=role[:200],
        region_id=region_id,
        ip=(request.remote_addr or "")[:64] if has_request_context() else "",
        user_agent=(request.user_agent.string or "")[:255] if has_request_context() else "",
        request_id=request_id(),
        action=action,
        object_type=object_type,
        object_id="" if object_id is None else str(object_id),
        summary=summary,
        changes=json.dumps(changes, ensure_ascii=False, sort_keys=True, default=str)
        if changes else "",
        success=success,
    )
