"""The organisation part: its models, staff pages (regions, departments, posts, people,
import) and menu entry."""
from __future__ import annotations

from core.hookspecs import hookimpl
from core.i18n import _l


@hookimpl
def ql_models():
    from core.org.models import Department, Person, Post, PostHolding, Region
    return [Region, Department, Post, Person, PostHolding]


@hookimpl
def ql_blueprints():
    from core.org.views import bp
    return [bp]


@hookimpl
def ql_nav_items(user, region):
    return [{"label": _l("Organisation"), "endpoint": "org.departments", "icon": "org",
             "order": 80, "permission": "core.org.read"}]
