"""Post integrity-risk prevention (岗位廉政风险防控): the risk register of posts and
duties, warnings and triggered reminders, talks, notices and accountability, integrity
education, the prevention rules library and the evaluation of the effect."""
from __future__ import annotations

from pathlib import Path

from core.api import _l, hookimpl

PERMISSIONS = [
    ("risk.view", _l("View risk prevention: registers, warnings, reminders, rules")),
    ("risk.register.edit", _l("Draft and submit a unit's risk register; track its measures")),
    ("risk.register.review", _l("Review risk registers: approve or return them")),
    ("risk.warning.manage", _l("Raise and handle post warnings")),
    ("risk.talk.manage", _l("Record talks, issue notices, record accountability")),
    ("risk.education.manage", _l("Publish integrity education and assign it")),
    ("risk.rules.manage", _l("Edit the prevention rules library")),
    ("risk.sites.manage", _l("Set up project sites for arrival reminders")),
    ("risk.evaluation.run", _l("Run the evaluation of the prevention effect")),
    ("risk.settings", _l("Change the risk matrix and the risk prevention settings")),
    ("risk.self", _l("Own integrity tasks: check in at sites, study, hand in self-analyses")),
]


@hookimpl
def ql_plugin_info():
    return {"name": "risk", "label": _l("Risk prevention"), "version": "1.0",
            "description": _l("Post risk registers, warnings, site reminders, talks, "
                              "education, rules and evaluation")}


@hookimpl
def ql_migrations():
    return ("risk", Path(__file__).parent / "migrations")


@hookimpl
def ql_models():
    from plugins.risk.models import MODELS
    return MODELS


@hookimpl
def ql_blueprints():
    from plugins.risk.education_views import bp as education_bp
    from plugins.risk.evaluation_views import bp as evaluation_bp
    from plugins.risk.public import bp as public_bp
    from plugins.risk.reminder_views import api as risk_api
    from plugins.risk.reminder_views import bp as reminders_bp
    from plugins.risk.rules_views import bp as rules_bp
    from plugins.risk.talk_views import bp as talks_bp
    from plugins.risk.views import bp
    from plugins.risk.warning_views import bp as warnings_bp
    return [bp, rules_bp, warnings_bp, reminders_bp, risk_api, talks_bp, evaluation_bp,
            public_bp, education_bp]


@hookimpl
def ql_public_links():
    """The portal's link to the public page of the registers in force and the rules."""
    return [{"label": _l("Integrity risk disclosure"), "endpoint": "public_risk.index",
             "description": _l("Each unit's posts, their integrity risks and prevention "
                               "measures in force, and the prevention rules library")}]


@hookimpl
def ql_demo_data(size):
    """Demo registers, rules, warnings, reminders, talks, notices and accountability for
    every region, through the plugin's services (``size`` ``large``: about 50,000 risk
    points and 100,000 warnings and reminders, in bulk)."""
    from plugins.risk.demo import seed
    seed(size)


@hookimpl
def ql_api_scopes():
    return [("risk.checkin", _l("Send site check-ins (attendance or GPS systems)"))]


@hookimpl
def ql_nav_items(user, region):
    from plugins.risk.nav import nav_items
    return nav_items()


@hookimpl
def ql_permissions():
    return PERMISSIONS


@hookimpl
def ql_roles():
    everything = [code for code, _label in PERMISSIONS]
    return [{"code": "supervisor", "label": _l("Supervisor"), "permissions": everything},
            {"code": "staff", "label": _l("Staff member"),
             "permissions": ["risk.view", "risk.register.edit", "risk.self"]}]


@hookimpl
def ql_alert_kinds():
    from plugins.risk.kinds import alert_kinds
    return alert_kinds()


@hookimpl
def ql_periodic_tasks(huey):
    from plugins.risk.tasks import register_periodic
    register_periodic(huey)


@hookimpl
def ql_handle_event(name, payload):
    from plugins.risk.signals import handle_event
    handle_event(name, payload)


@hookimpl
def ql_audit_actions():
    from plugins.risk.wording import AUDIT_ACTIONS
    return AUDIT_ACTIONS


@hookimpl
def ql_dashboard_widgets(user, region):
    """The counter board's four headline figures of the user's scope (risk points,
    reminders and warnings, talks, people held accountable)."""
    from plugins.risk.widgets import counters_widget
    return [{"title": _l("Risk prevention"), "render": counters_widget, "order": 30,
             "permission": "risk.view"}]
