"""Level checks in the services: the acting user's grant must cover the region a step
touches (a grant on it or on an ancestor), and deployment-wide settings need a grant on
the top of the tree (a county grant never changes a city-wide setting).

The core plans ``covers``/``require_level``/``require_city_wide`` in ``core.api``
(hardening); until they land these two functions say the same with ``has_permission``,
which already counts a grant on an ancestor; they are the one place to switch over.
``user=None`` is the system acting (jobs, events from other platforms).
"""
from __future__ import annotations

from core.api import Region, _, has_permission


class Forbidden(PermissionError):
    """The acting user's grants do not cover what the step touches (HTTP 403)."""


def require_region(user, perm: str, region_id: int) -> None:
    """Refuse unless ``user`` holds ``perm`` on ``region_id`` or an ancestor of it."""
    if user is not None and not has_permission(user, perm, region_id):
        raise Forbidden(_("Your grants do not cover this region for this step."))


def require_city_wide(user, perm: str) -> None:
    """Refuse unless ``user`` holds ``perm`` on every top region of the tree."""
    if user is None:
        return
    roots = [rid for (rid,) in Region.select(Region.id).where(Region.parent.is_null())
             .tuples()]
    if not roots or not all(has_permission(user, perm, rid) for rid in roots):
        raise Forbidden(_("Only a city-wide grant may change this setting."))


def actor(user) -> str:
    """The name an audit column keeps for the acting user (``system`` for jobs)."""
    return getattr(user, "username", "") or "system"
