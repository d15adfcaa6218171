"""Hooks of the alert bus: its models, pages, menu, widget, test kind, channels, jobs,
commands."""
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
    return [("core.alerts.board", _l("See the alert board of the region")),
            ("core.alerts.deliveries", _l("See notifications that could not be delivered")),
            ("core.alerts.retry", _l("Retry notifications that could not be delivered"))]


@hookimpl
def ql_roles():
    # The system administrator runs the alert bus and may retry; the audit administrator
    # may only look (三员分立); the security administrator manages grants, not delivery.
    return [{"code": "supervisor", "label": _l("Supervisor"),
             "permissions": ["core.alerts.board"]},
            {"code": "sys_admin", "label": _l("System administrator"),
             "permissions": ["core.alerts.deliveries", "core.alerts.retry"]},
            {"code": "audit_admin", "label": _l("Audit administrator"),
             "permissions": ["core.alerts.deliveries"]}]


@hookimpl
def ql_nav_items(user, region):
    return [
        {"label": _l("Alerts"), "endpoint": "alerts.inbox", "icon": "bell", "order": 5},
        {"label": _l("Alert board"), "endpoint": "alerts.board", "icon": "radar", "order": 6,
         "permission": "core.alerts.board"},
        {"label": _l("Delivery problems"), "endpoint": "alerts.deliveries_page",
         "icon": "alert", "order": 7, "permission": "core.alerts.deliveries"},
    ]


@hookimpl
def ql_dashboard_widgets(user, region):
    from core.alerts.widgets import deliveries_widget
    return [{"title": _l("Delivery problems"), "render": deliveries_widget, "order": 8,
             "permission": "core.alerts.deliveries"}]


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
