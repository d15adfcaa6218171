"""The web part registers its pages and menu entries like any plugin."""
from __future__ import annotations

from core.hookspecs import hookimpl
from core.i18n import _l


@hookimpl
def ql_blueprints():
    from core.web.views import admin, bp, public
    return [bp, public, admin]


@hookimpl
def ql_nav_items(user, region):
    return [
        {"label": _l("Dashboard"), "endpoint": "web.dashboard", "icon": "home", "order": 0,
         "permission": "core.dashboard"},
        {"label": _l("Plugins"), "endpoint": "admin.plugins", "icon": "plug", "order": 90,
         "permission": "core.settings.manage"},
        {"label": _l("Working-day calendar"), "endpoint": "admin.calendar_page", "icon": "calendar",
         "order": 91, "permission": "core.settings.manage"},
        {"label": _l("Background jobs"), "endpoint": "admin.jobs_page", "icon": "clock",
         "order": 92, "permission": "core.settings.manage"},
    ]


@hookimpl
def ql_dashboard_widgets(user, region):
    from core.web.widgets import overview_widget
    return [{"title": _l("Overview"), "render": overview_widget, "order": 0,
             "permission": "core.dashboard"}]


@hookimpl
def ql_periodic_tasks(huey):
    from core.tasks import register_periodic
    register_periodic(huey)
