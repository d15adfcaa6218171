"""The auth part registers its pages, permissions and the three administrator roles."""
from __future__ import annotations

from core.hookspecs import hookimpl
from core.i18n import _l


@hookimpl
def ql_blueprints():
    from core.auth.admin_views import bp as admin_bp
    from core.auth.views import bp
    return [bp, admin_bp]


@hookimpl
def ql_nav_items(user, region):
    return [
        {"label": _l("Accounts"), "endpoint": "accounts.users", "icon": "users", "order": 85,
         "permission": "core.users.manage"},
        {"label": _l("Roles"), "endpoint": "accounts.roles", "icon": "shield", "order": 86,
         "permission": "core.roles.manage"},
        {"label": _l("Grants"), "endpoint": "accounts.grant_users", "icon": "key", "order": 87,
         "permission": "core.roles.manage"},
    ]


@hookimpl
def ql_permissions():
    return [
        ("core.users.manage", _l("Manage accounts")),
        ("core.settings.manage", _l("Manage settings, plugins and the calendar")),
        ("core.roles.manage", _l("Manage roles and grants")),
        ("core.audit.read", _l("Read the audit trail")),
        ("core.org.read", _l("Browse the organisation")),
        ("core.org.manage", _l("Edit the organisation")),
        ("core.dashboard", _l("Use the staff dashboard")),
    ]


@hookimpl
def ql_roles():
    # Separation of the three administrators (三员分立): none can do another's job.
    return [
        {"code": "sys_admin", "label": _l("System administrator"),
         "permissions": ["core.users.manage", "core.settings.manage", "core.org.read",
                         "core.org.manage", "core.dashboard"]},
        {"code": "security_admin", "label": _l("Security administrator"),
         "permissions": ["core.roles.manage", "core.dashboard"]},
        {"code": "audit_admin", "label": _l("Audit administrator"),
         "permissions": ["core.audit.read", "core.dashboard"]},
        {"code": "staff", "label": _l("Staff member"),
         "permissions": ["core.dashboard", "core.org.read"]},
        {"code": "supervisor", "label": _l("Supervisor"),
         "permissions": ["core.dashboard", "core.org.read"]},
    ]


@hookimpl
def ql_models():
    from core.auth.models import (
        ApiToken,
        Grant,
        Role,
        RolePermission,
        User,
        UserSession,
    )
    from core.models import (
        CalendarChange,
        CalendarDay,
        CalendarOverride,
        CalendarSchedule,
        PeriodicJob,
        PluginSwitch,
        WorkerHeartbeat,
    )
    from core.numbering import DocumentSequence
    from core.ratelimit import RateCounter
    return [User, Role, RolePermission, Grant, UserSession, PluginSwitch, CalendarDay,
            CalendarOverride, WorkerHeartbeat, DocumentSequence, RateCounter, PeriodicJob,
            ApiToken, CalendarSchedule, CalendarChange]


@hookimpl
def ql_cli(group):
    from core.auth.cli import tokens_cli
    group.add_command(tokens_cli)
