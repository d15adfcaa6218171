"""API tokens (接口令牌) for machine clients: an approval system sending case events, a
check-in terminal. Each token belongs to one scope (what it may call, declared by a plugin
with ``ql_api_scopes``) and one subject (who holds it: a source system, a terminal), and
optionally to a region. Only a SHA-256 hash of the token is stored — the token itself is
256 random bits, shown once when it is issued — and every issue and revocation is audited.

A view for machine clients takes ``@api_token_required(scope)``: it reads
``Authorization: Bearer <token>``, answers 401 (JSON, ``WWW-Authenticate``) without a valid
token of that scope, and is exempt from the CSRF check, which protects cookie sessions and
has nothing to protect here: such a view never looks at the session.
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import secrets
from collections.abc import Callable

from flask import g, jsonify, request

from core.audit.service import record
from core.auth.models import ApiToken
from core.db import db, utcnow
from core.errors import FieldError
from core.i18n import _

PREFIX = "ql_"
SEEN_EVERY = dt.timedelta(minutes=10)  # last_used_at is coarse: one write per 10 minutes


def token_hash(token: str) -> str:
    """The stored form of a token: SHA-256, hex (a random 256-bit token needs no slow
    hash; the same digest esupervision's ingestion tokens always had)."""
    return hashlib.sha256(token.encode()).hexdigest()


def declared_scopes() -> dict[str, object]:
    """Scope code -> label, from every enabled plugin's ``ql_api_scopes``."""
    from core.plugins import host
    return {code: label for code, label in host().collect("ql_api_scopes")}


def _check(scope: str, subject: str) -> tuple[str, str]:
    scope, subject = (scope or "").strip(), (subject or "").strip()
    if scope not in declared_scopes():
        known = ", ".join(sorted(declared_scopes())) or _("none")
        raise FieldError("scope", _("Unknown API scope %(scope)s (known: %(known)s).",
                                    scope=scope, known=known))
    if not subject or len(subject) > 64 or not all(c.isalnum() or c in "-_.:@"
                                                   for c in subject):
        raise FieldError("subject", _("Name who holds the token in 1–64 letters, digits, "
                                      "'-', '_', '.', ':' or '@'."))
    return scope, subject


def issue_api_token(scope: str, subject: str, *, region=None, by=None,
                    expires_at: dt.datetime | None = None, replace: bool = True) -> str:
    """Issue a token of ``scope`` for ``subject`` and return it (the only time it is
    seen). With ``replace`` (the default) the subject's earlier tokens of the scope stop
    working at once; without it they keep working until revoked, for a changeover."""
    scope, subject = _check(scope, subject)
    token = PREFIX + secrets.token_urlsafe(32)
    actor = getattr(by, "username", None) or (by if isinstance(by, str) else "cli")
    now = utcnow()
    with db.atomic():
        if replace:
            _revoke(scope, subject, now)
        row = ApiToken.create(scope=scope, subject=subject, region=region,
                              token_hash=token_hash(token), hint=token[-4:], created_at=now,
                              created_by=actor, expires_at=expires_at)
        record("core.api_token.issue", object_type="api_token", object_id=row.id,
               summary=f"{scope} token for {subject} issued by {actor}",
               region_id=getattr(region, "id", region),
               user=by if not isinstance(by, str) else None)
    return token


def _revoke(scope: str, subject: str, now: dt.datetime) -> int:
    return (ApiToken.update(revoked_at=now)
            .where((ApiToken.scope == scope) & (ApiToken.subject == subject)
                   & ApiToken.revoked_at.is_null()).execute())


def revoke_api_token(scope: str, subject: str, *, by=None) -> int:
    """End every token of ``scope`` held by ``subject``; return how many were active."""
    actor = getattr(by, "username", None) or (by if isinstance(by, str) else "cli")
    with db.atomic():
        n = _revoke((scope or "").strip(), (subject or "").strip(), utcnow())
        if n:
            record("core.api_token.revoke", object_type="api_token", object_id=subject,
                   summary=f"{scope} token(s) of {subject} revoked by {actor}",
                   user=by if not isinstance(by, str) else None)
    return n


def authenticate(scope: str, token: str) -> ApiToken | None:
    """The active, unexpired token row of ``scope`` matching ``token``, or None."""
    if not token or len(token) > 200:
        return None
    digest = token_hash(token)
    row = ApiToken.get_or_none((ApiToken.token_hash == digest) & (ApiToken.scope == scope)
                               & ApiToken.revoked_at.is_null())
    now = utcnow()
    if row is None or not hmac.compare_digest(row.token_hash, digest) \
            or (row.expires_at is not None and row.expires_at <= now):
        return None
    if row.last_used_at is None or row.last_used_at < now - SEEN_EVERY:
        with db.atomic():
            ApiToken.update(last_used_at=now).where(ApiToken.id == row.id).execute()
    return row


def api_tokens(scope: str | None = None) -> list[ApiToken]:
    """Tokens, newest first (of ``scope`` when given): for an operator's listing."""
    query = ApiToken.select().order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    if scope is not None:
        query = query.where(ApiToken.scope == scope)
    return list(query)


def _bearer() -> str:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header[:7].lower() == "bearer " else ""


def _unauthorized(scope: str):
    resp = jsonify(error="unauthorized",
                   message=f"send 'Authorization: Bearer <token>' with a valid {scope} token")
    resp.status_code = 401
    resp.headers["WWW-Authenticate"] = f'Bearer realm="qinglian", scope="{scope}"'
    return resp


def api_token_required(scope: str) -> Callable:
    """View decorator for machine clients: 401 without a valid bearer token of
    ``scope``; the token's row is :func:`current_api_token` inside the view."""
    def decorator(view):
        @functools.wraps(view)
        def inner(*args, **kwargs):
            row = authenticate(scope, _bearer())
            if row is None:
                return _unauthorized(scope)
            g.ql_api_token = row
            return view(*args, **kwargs)
        from core.app import csrf
        csrf.exempt(inner)
        inner.ql_api_scope = scope
        return inner
    return decorator


def current_api_token() -> ApiToken:
    """The token that authenticated this request (inside an ``api_token_required`` view)."""
    return g.ql_api_token
