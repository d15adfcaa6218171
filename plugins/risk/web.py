"""Helpers shared by the view modules of warnings, reminders, talks and evaluation:
workflow refusals answer 422 with the reason, a record outside the user's scope 404, a
redirect back to the page the form came from."""
from __future__ import annotations

import functools

from flask import abort, redirect, request, url_for
from flask_login import current_user

from core.api import has_permission, safe_redirect_target
from plugins.risk.errors import RiskError


def refusals(view):
    """A RiskError raised by a service answers 422 with its message (nothing changed)."""
    @functools.wraps(view)
    def inner(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except RiskError as exc:
            abort(422, description=str(exc))
    return inner


def in_scope(row, perm: str):
    """``row`` when it exists and its region is in the user's scope for ``perm``; else 404."""
    if row is None or not has_permission(current_user, perm, row.region_id):
        abort(404)
    return row


def back(endpoint: str, **values):
    """303 to the form's own page when it is one of ours, else to ``endpoint``."""
    return redirect(safe_redirect_target(request.form.get("next") or "",
                                         url_for(endpoint, **values)), 303)
