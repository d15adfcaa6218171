"""Hooks of the alert bus: its models, pages, menu, test kind, channels, jobs, commands."""
from __future__ import annotations

from core.hookspecs import hookimpl
from core.i18n import _l


@hookimpl
def ql_models():
    from core.alerts.models import Alert, AlertPreference, InboxItem, Notification
    return [Alert, Notification, InboxItem, AlertPreference]


@hookimpl
def ql_blueprints():
    from core.alerts.views import bp
    return [bp]


@hookimpl
def ql_permissions():
    return [("core.alerts.board", _l("See the alert board of the region"))]


@hookimpl
def ql_roles():
    return [{"code": "supervisor", "label": _l("Supervisor"),
             "permissions": ["core.alerts.board"]}]


@hookimpl
def ql_nav_items(user, region):
    return [
        {"label": _l("Alerts"), "endpoint": "alerts.inbox", "icon": "bell", "order": 5},
        {"label": _l("Alert board"), "endpoint": "alerts.board", "icon": "radar", "order": 6,
         "permission": "core.alerts.board"},
    ]


@hookimpl
def ql_alert_kinds():
    return [{"code": "core.test", "label": _l("Test alert"), "level": "reminder",
             "escalate_after_hours": 0}]


@hookimpl
def ql_alert_channels():
    from core.alerts.channels import CORE_CHANNELS
    return list(CORE_CHANNELS)


@hookimpl
def ql_periodic_tasks(huey):
    from core.alerts.tasks import register_periodic
    register_periodic(huey)


@hookimpl
def ql_cli(group):
    from core.alerts.cli import alerts_cli
    group.add_command(alerts_cli)
