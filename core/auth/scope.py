"""Region scoping: the one helper every query of region-owned data goes through.

A grant is (role, region) and covers that region and its descendants. Records outside
the current user's scope answer 404, so their existence is not revealed.
"""
from __future__ import annotations

import functools

from flask import abort, g, request
from flask_login import current_user
from peewee import JOIN

from core.auth.models import Grant, Role, RolePermission
from core.errors import AccessDenied
from core.org.models import Region


def region_tree() -> dict[int | None, list[int]]:
    """parent id -> child ids, cached for the request."""
    tree = getattr(g, "_ql_tree", None) if _has_g() else None
    if tree is None:
        tree = {}
        for rid, pid in Region.select(Region.id, Region.parent).tuples():
            tree.setdefault(pid, []).append(rid)
        if _has_g():
            g._ql_tree = tree
    return tree


def descendants(region_id: int) -> set[int]:
    """The region and every region below it."""
    tree, out, stack = region_tree(), set(), [region_id]
    while stack:
        rid = stack.pop()
        if rid not in out:
            out.add(rid)
            stack.extend(tree.get(rid, []))
    return out


def _has_g() -> bool:
    from flask import has_app_context
    return has_app_context()


def grants_of(user) -> list[tuple[str, int, set[str]]]:
    """[(role code, region id, permissions)] for ``user``, cached per request."""
    cache = g.setdefault("_ql_grants", {})
    if user.id not in cache:
        rows = (Grant.select(Grant.region, Role.code, RolePermission.permission)
                .join(Role).join(RolePermission, JOIN.LEFT_OUTER,
                                 on=(RolePermission.role == Role.id))
                .where(Grant.user == user.id).tuples())
        by_grant: dict[tuple[str, int], set[str]] = {}
        for region_id, role, perm in rows:
            by_grant.setdefault((role, region_id), set())
            if perm:
                by_grant[(role, region_id)].add(perm)
        cache[user.id] = [(r, rid, perms) for (r, rid), perms in by_grant.items()]
    return cache[user.id]


def permissions(user) -> set[str]:
    """Every permission the user holds somewhere."""
    if user is None or not getattr(user, "is_authenticated", False):
        return set()
    return set().union(*[p for _r, _g, p in grants_of(user)]) if grants_of(user) else set()


def roles(user) -> set[str]:
    if user is None or not getattr(user, "is_authenticated", False):
        return set()
    return {r for r, _g, _p in grants_of(user)}


def has_permission(user, perm: str, region_id: int | None = None) -> bool:
    """True if ``user`` holds ``perm`` (in ``region_id``, when given)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    for _role, rid, perms in grants_of(user):
        if perm in perms and (region_id is None or region_id in descendants(rid)):
            return True
    return False


def region_ids(user, perm: str | None = None) -> set[int]:
    """Every region id the user's grants cover (for ``perm``, when given)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return set()
    out: set[int] = set()
    for _role, rid, perms in grants_of(user):
        if perm is None or perm in perms:
            out |= descendants(rid)
    return out


def regions_in_scope(user, perm: str | None = None) -> list[Region]:
    """The regions in the user's scope (辖区) for ``perm``, in the organisation's order
    (city first, then its districts and counties): for region pickers and per-region
    pages. The one helper for it; ids alone are :func:`region_ids`."""
    ids = sorted(region_ids(user, perm))
    if not ids:
        return []
    return list(Region.select().where(Region.id.in_(ids)).order_by(Region.sort, Region.code))


def scoped(query, region_field, perm: str | None = None, user=None):
    """Restrict ``query`` to rows whose ``region_field`` lies in the user's scope."""
    user = current_user if user is None else user
    ids = region_ids(user, perm)
    if not ids:
        return query.where(region_field.is_null(True) & ~region_field.is_null(True))
    return query.where(region_field.in_(sorted(ids)))


def get_scoped(query, region_field, perm: str | None = None, user=None):
    """The one row of ``query`` in scope, or 404."""
    row = scoped(query, region_field, perm, user).first()
    if row is None:
        abort(404)
    return row


def require(perm: str, *, city_wide: bool = False):
    """View decorator: 403 unless the current user holds ``perm`` somewhere — or, for a
    city-wide setting (``city_wide=True``), holds it by a grant covering the whole city.

    The city-wide check applies to writes; reading the page stays the view's business.
    ``city_wide`` also marks the view (``ql_city_wide``): the access matrix posts to every
    marked route as a county user. The service behind it checks the level again
    (:func:`require_city_wide`); the view's check only answers early."""
    def decorator(view):
        @functools.wraps(view)
        def inner(*args, **kwargs):
            if not current_user.is_authenticated:
                from flask import current_app
                return current_app.login_manager.unauthorized()
            if not has_permission(current_user, perm):
                abort(403)
            if (city_wide and request.method not in ("GET", "HEAD")
                    and not covers_city(current_user, perm)):
                raise AccessDenied(_city_wide_message())
            return view(*args, **kwargs)
        inner.ql_permission = perm
        inner.ql_city_wide = city_wide
        return inner
    return decorator


# -- levels: a county grant never changes what holds for the whole city ----------------
def _region_id(region) -> int:
    return region if isinstance(region, int) else region.id


def covers(user, perm: str, region) -> bool:
    """True if one of ``user``'s grants carrying ``perm`` is on ``region`` (a Region or
    its id) or on a region above it."""
    return has_permission(user, perm, _region_id(region))


def city_region_ids() -> set[int]:
    """The top regions (the city; several only in a deployment of several cities)."""
    return set(region_tree().get(None, []))


def covers_city(user, perm: str) -> bool:
    """True if ``user`` holds ``perm`` over every top region: a city-wide grant."""
    tops = city_region_ids()
    return bool(tops) and all(has_permission(user, perm, rid) for rid in tops)


def _city_wide_message() -> str:
    from core.i18n import _
    return _("This setting holds for the whole city: it needs a grant at city level, not "
             "one for a district or county.")


def require_level(user, perm: str, region) -> None:
    """Refuse (AccessDenied, 403) unless ``user``'s grant for ``perm`` covers ``region``
    itself — a county grant does not reach the city or a neighbouring county. Call it in
    the service, before writing."""
    if not covers(user, perm, region):
        from core.i18n import _
        raise AccessDenied(_("Your grant does not cover this region: the change needs a "
                             "grant for it or for a region above it."))


def require_city_wide(user, perm: str) -> None:
    """Refuse (AccessDenied, 403) unless ``user`` holds ``perm`` city-wide: for settings
    that hold for every district and county. Call it in the service, before writing."""
    if not covers_city(user, perm):
        raise AccessDenied(_city_wide_message())


def acting_region(user):
    """The region the user is acting in: chosen in the session, else the top grant."""
    from flask import session
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    allowed = region_ids(user)
    chosen = session.get("region_id")
    if chosen in allowed:
        return Region.get_by_id(chosen)
    tops = [rid for _r, rid, _p in grants_of(user)]
    if not tops:
        return None
    regions = list(Region.select().where(Region.id.in_(tops)))
    regions.sort(key=lambda r: (len(r.lineage()), r.sort, r.id))
    return regions[0] if regions else None
