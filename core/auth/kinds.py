"""Account kinds (账号类型): staff and the outside parties a plugin serves.

Every account is ``staff`` unless a plugin declares another kind through
``ql_account_kinds`` (e.g. procurement's ``supplier`` 供应商). An account of another kind
logs in through the same login, lockout and second factor, holds no grants, and may use
only the views marked for its kind (:func:`for_accounts`), the public pages and a few
pages of its own account (password, language, logout): every staff page answers 403.
"""
from __future__ import annotations

import functools

from flask import abort, current_app, request
from flask_login import current_user

from core.i18n import _

STAFF = "staff"
# Endpoints every account may use, whatever its kind.
OWN_ACCOUNT = frozenset({"static", "auth.login", "auth.totp", "auth.logout", "auth.password",
                         "auth.set_locale", "web.home", "web.healthz"})


def account_kinds() -> dict[str, dict]:
    """The kinds other than staff declared by enabled plugins: code -> {code, label, home}."""
    cache = current_app.extensions.get("qinglian.account_kinds")
    if cache is None:
        from core.plugins import host
        cache = {spec["code"]: spec for spec in host().collect("ql_account_kinds")}
        if STAFF in cache:
            raise ValueError("the account kind 'staff' is the core's own")
        current_app.extensions["qinglian.account_kinds"] = cache
    return cache


def kind_of(user) -> str:
    return getattr(user, "kind", STAFF) or STAFF


def is_staff(user) -> bool:
    return user is not None and kind_of(user) == STAFF


def home_endpoint(user) -> str:
    """Where an account lands after login: the dashboard for staff, its kind's home else."""
    kind = kind_of(user)
    if kind == STAFF:
        return "web.dashboard"
    spec = account_kinds().get(kind)
    if spec is None:  # its plugin is disabled: nowhere to go but the public portal
        return "public_portal.index"
    return spec["home"]


def check_kind(kind: str) -> str:
    """``kind`` if the core or an enabled plugin declares it, else ValueError."""
    if kind != STAFF and kind not in account_kinds():
        raise ValueError(_("Unknown account kind %(kind)s.", kind=kind))
    return kind


def for_accounts(*kinds: str):
    """View decorator: the view serves accounts of ``kinds`` only (others get 403;
    anonymous visitors are sent to the login page)."""
    allowed = frozenset(kinds)

    def decorator(view):
        @functools.wraps(view)
        def inner(*args, **kwargs):
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()
            if kind_of(current_user) not in allowed:
                abort(403)
            return view(*args, **kwargs)
        inner.ql_account_kinds = allowed
        return inner
    return decorator


def gate(user) -> None:
    """Before each request of a logged-in account: 403 for an account that is not staff
    on any endpoint outside its kind's views, the public pages and its own account's."""
    if user is None or kind_of(user) == STAFF:
        return
    endpoint = request.endpoint or ""
    if endpoint in OWN_ACCOUNT or endpoint.endswith(".static"):
        return
    if request.blueprints and request.blueprints[-1].startswith("public_"):
        return
    view = current_app.view_functions.get(endpoint)
    if view is not None and kind_of(user) in getattr(view, "ql_account_kinds", ()):
        return
    abort(403)
