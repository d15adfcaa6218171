"""The service hall plugin (网上政务大厅): power catalogue, cases, public lookup, ratings.

Publishes the case events of docs/events.md (``eservice.case.*``) for other plugins."""
from __future__ import annotations

from pathlib import Path

from core.api import _l, hookimpl


@hookimpl
def ql_plugin_info():
    return {"name": "eservice", "label": _l("Service hall"), "version": "1.0",
            "description": _l("Power catalogue, cases, public lookup and ratings")}


@hookimpl
def ql_migrations():
    return ("eservice", Path(__file__).parent / "migrations")


@hookimpl
def ql_models():
    from plugins.eservice.models import MODELS
    return MODELS


@hookimpl
def ql_blueprints():
    from plugins.eservice.public import bp as public_bp
    from plugins.eservice.views import bp
    return [bp, public_bp]


@hookimpl
def ql_permissions():
    return [
        ("eservice.case.handle", _l("Handle service-hall cases")),
        ("eservice.case.read", _l("Read service-hall cases")),
        ("eservice.catalogue.manage", _l("Manage the power catalogue")),
        ("eservice.id.unmask", _l("See applicants' full ID numbers")),
        ("eservice.rating.follow_up", _l("Follow up bad ratings")),
    ]


@hookimpl
def ql_roles():
    return [
        {"code": "clerk", "label": _l("Service-hall clerk"),
         "permissions": ["core.dashboard", "eservice.case.handle", "eservice.case.read"]},
        {"code": "eservice_manager", "label": _l("Service-hall manager"),
         "permissions": ["core.dashboard", "eservice.case.handle", "eservice.case.read",
                         "eservice.catalogue.manage", "eservice.id.unmask",
                         "eservice.rating.follow_up"]},
        {"code": "supervisor", "label": _l("Supervisor"),
         "permissions": ["eservice.case.read"]},
    ]


@hookimpl
def ql_nav_items(user, region):
    return [
        {"label": _l("Worklist"), "endpoint": "eservice.worklist", "icon": "inbox",
         "order": 20, "permission": "eservice.case.read"},
        {"label": _l("Power catalogue"), "endpoint": "eservice.catalogue", "icon": "list",
         "order": 21, "permission": "eservice.case.read"},
        {"label": _l("Bad-rating follow-up"), "endpoint": "eservice.rectifications",
         "icon": "flag", "order": 22, "permission": "eservice.rating.follow_up"},
        {"label": _l("Step delegations"), "endpoint": "eservice.delegations",
         "icon": "users", "order": 23, "permission": "eservice.case.handle"},
        {"label": _l("Hall address and contact"), "endpoint": "eservice.hall_contacts",
         "icon": "home", "order": 24, "permission": "eservice.catalogue.manage"},
    ]


@hookimpl
def ql_public_links():
    return [
        {"label": _l("Service guide"), "endpoint": "public_eservice.catalogue",
         "description": _l("Every government service with its materials, fees and time "
                           "limits")},
        {"label": _l("Track my application"), "endpoint": "public_eservice.track",
         "description": _l("Follow your case by its serial number and rate the service")},
        {"label": _l("Service statistics"), "endpoint": "public_eservice.stats",
         "description": _l("Cases handled, on-time rates and satisfaction by department")},
    ]


@hookimpl
def ql_dashboard_widgets(user, region):
    from plugins.eservice.widgets import PERMISSION, worklist_widget
    return [{"title": _l("Service hall cases"), "render": worklist_widget, "order": 10,
             "permission": PERMISSION}]


@hookimpl
def ql_alert_kinds():
    return [{"code": "eservice.rating.bad", "label": _l("Bad service rating to rectify"),
             "level": "yellow", "escalate_after_hours": 72},
            {"code": "eservice.rectification.overdue",
             "label": _l("Bad-rating rectification overdue"), "level": "red",
             "escalate_after_hours": 24}]


@hookimpl
def ql_demo_data(size):
    from plugins.eservice.demo import seed
    seed(size)


@hookimpl
def ql_periodic_tasks(huey):
    from plugins.eservice.tasks import register
    register(huey)


@hookimpl
def ql_handle_event(name, payload):
    if name == "core.calendar.changed":
        from plugins.eservice.cases import calendar_changed
        calendar_changed(payload)


@hookimpl
def ql_cli(group):
    from plugins.eservice.cli import eservice_cli
    group.add_command(eservice_cli)
