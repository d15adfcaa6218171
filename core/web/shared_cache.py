"""Public pages a shared cache may keep (``Cache-Control: public``).

A page a proxy or CDN hands to every visitor must hold nothing of one visitor: no session
cookie and no per-session CSRF token (else one citizen's token would be served to the
next). :func:`public_cacheable` marks such a page: for an anonymous visitor without
pending messages it is rendered without the session's token and sent without a cookie;
a logged-in user or a visitor with a pending message gets the same page ``no-store``.

The page's few forms (the language switch) fetch their token when submitted
(``data-csrf-fetch`` in ``static/app.js`` asks :data:`TOKEN_URL`, which is ``no-store``)."""
from __future__ import annotations

from functools import wraps

from flask import g, make_response, session
from flask.sessions import SecureCookieSessionInterface


def shared_page() -> bool:
    """Whether the page being rendered is one a shared cache may keep."""
    return bool(g.get("ql_shared_cache"))


def public_cacheable(max_age: int = 300):
    """Decorator of a public view whose answer a shared cache may keep ``max_age``
    seconds (for visitors without a session of their own)."""
    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            shared = g.get("ql_user") is None and "_flashes" not in session
            g.ql_shared_cache = shared
            resp = make_response(view(*args, **kwargs))
            if shared and resp.status_code == 200:
                resp.headers["Cache-Control"] = f"public, max-age={max_age}"
            else:
                resp.headers["Cache-Control"] = "no-store"
            return resp
        return wrapper
    return decorate


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, never written on a shared cacheable page."""

    def should_set_cookie(self, app, session) -> bool:
        if shared_page():
            return False
        return super().should_set_cookie(app, session)

    def save_session(self, app, session, response) -> None:
        if shared_page():
            return
        super().save_session(app, session, response)
