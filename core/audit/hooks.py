"""Hooks of the audit trail: its models, viewer, menu entry, alert kind, sealing and
anchor jobs, and commands."""
from __future__ import annotations

from core.hookspecs import hookimpl
from core.i18n import _l


@hookimpl
def ql_models():
    from core.audit.models import (
        AuditAnchorDelivery,
        AuditBlock,
        AuditEvent,
        AuditSealEntry,
    )
    return [AuditEvent, AuditBlock, AuditSealEntry, AuditAnchorDelivery]


@hookimpl
def ql_blueprints():
    from core.audit.views import bp
    return [bp]


@hookimpl
def ql_nav_items(user, region):
    return [{"label": _l("Audit trail"), "endpoint": "audit.index", "icon": "audit",
             "order": 89, "permission": "core.audit.read"}]


@hookimpl
def ql_alert_kinds():
    return [{"code": "audit.anchor.undelivered",
             "label": _l("Audit anchor not delivered off-site"), "level": "red",
             "escalate_after_hours": 24}]


@hookimpl
def ql_periodic_tasks(huey):
    import core.audit.tasks  # noqa: F401 - registers the sealing and anchor jobs at import


@hookimpl
def ql_cli(group):
    from core.audit.cli import audit_cli
    group.add_command(audit_cli)
