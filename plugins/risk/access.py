"""Level checks in the services, through the core's: the acting user's grant must cover
the region a step touches (a grant on it or on an ancestor), and deployment-wide
settings need a city-wide grant. ``user=None`` is the system acting (jobs, events from
other platforms), which no grant limits.
"""
from __future__ import annotations

from core.api import require_city_wide, require_level


def require_region(user, perm: str, region_id: int) -> None:
    """Refuse (AccessDenied) unless ``user`` holds ``perm`` on ``region_id`` or above."""
    if user is not None:
        require_level(user, perm, region_id)


def require_city(user, perm: str) -> None:
    """Refuse (AccessDenied) unless ``user`` holds ``perm`` city-wide."""
    if user is not None:
        require_city_wide(user, perm)


def actor(user) -> str:
    """The name an audit column keeps for the acting user (``system`` for jobs)."""
    return getattr(user, "username", "") or "system"
