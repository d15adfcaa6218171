"""Case supervision (案件监督管理): petitions and reports intake (信访举报受理) with the
reporter's receipt code, registration and routing (登记、分办), problem leads and their four
ways of disposal (问题线索处置), case stages with time limits and gates (案件阶段), and
need-to-know access (知悉范围)."""
from __future__ import annotations

from pathlib import Path

import click

from core.api import _l, hookimpl

PERMISSIONS = [
    ("cases.view", _l("Open the case supervision pages")),
    ("cases.intake", _l("Register, route and answer petitions and reports (petitions office)")),
    ("cases.supervise", _l("Handle problem leads (supervision and inspection office)")),
    ("cases.manage", _l("Hold every problem lead and watch every case (case management)")),
    ("cases.investigate", _l("Investigate the cases one is assigned to")),
    ("cases.review", _l("Review the cases one is assigned to (case review office)")),
    ("cases.approve", _l("Approve the disposal of problem leads and case stages")),
    ("cases.approve_head", _l("Approve for heads of lower-level Party committees "
                              "(commission head)")),
]


@hookimpl
def ql_plugin_info():
    return {"name": "cases", "label": _l("Case supervision"), "version": "1.0",
            "description": _l("Petitions and reports with a receipt code, registration and "
                              "routing, problem leads, case stages with time limits and "
                              "gates, need-to-know access")}


@hookimpl
def ql_migrations():
    return ("cases", Path(__file__).parent / "migrations")


@hookimpl
def ql_models():
    from plugins.cases.models import MODELS
    return MODELS


@hookimpl
def ql_blueprints():
    from plugins.cases.public import bp as public_bp
    from plugins.cases.views import bp
    return [bp, public_bp]


@hookimpl
def ql_permissions():
    return PERMISSIONS


@hookimpl
def ql_roles():
    return [
        {"code": "cases_petition", "label": _l("Petitions office (cases)"),
         "permissions": ["cases.view", "cases.intake", "core.dashboard"]},
        {"code": "cases_supervision", "label": _l("Supervision and inspection office (cases)"),
         "permissions": ["cases.view", "cases.supervise", "core.dashboard"]},
        {"code": "cases_management", "label": _l("Case management office (cases)"),
         "permissions": ["cases.view", "cases.manage", "core.dashboard"]},
        {"code": "cases_investigator", "label": _l("Investigator (cases)"),
         "permissions": ["cases.view", "cases.investigate", "core.dashboard"]},
        {"code": "cases_reviewer", "label": _l("Case reviewer (cases)"),
         "permissions": ["cases.view", "cases.review", "core.dashboard"]},
        {"code": "cases_leader", "label": _l("Commission leader (cases)"),
         "permissions": ["cases.view", "cases.approve", "core.dashboard"]},
        {"code": "cases_head", "label": _l("Commission head (cases)"),
         "permissions": ["cases.view", "cases.approve", "cases.approve_head",
                         "core.dashboard"]},
    ]


@hookimpl
def ql_nav_items(user, region):
    return [
        {"label": _l("Petitions and reports"), "endpoint": "cases.ledger", "icon": "inbox",
         "order": 60, "permission": "cases.view"},
        {"label": _l("Problem leads"), "endpoint": "cases.leads", "icon": "list",
         "order": 61, "permission": "cases.view"},
        {"label": _l("Cases"), "endpoint": "cases.cases", "icon": "folder",
         "order": 62, "permission": "cases.view"},
    ] + ([{"label": _l("Quarterly report-back"), "endpoint": "cases.report_back",
           "icon": "check", "order": 64, "permission": "cases.view"}]
         if _sees_report_back(user) else []) + [
        {"label": _l("Case stages: time limits and gates"), "endpoint": "cases.stage_settings",
         "icon": "clock", "order": 65, "permission": "cases.manage"},
    ] + ([{"label": _l("Case statistics"), "endpoint": "cases.statistics", "icon": "chart",
           "order": 63, "permission": "cases.view"}] if _sees_statistics(user) else [])


def _sees_report_back(user) -> bool:
    from plugins.cases.report_back import overview_regions
    return bool(getattr(user, "is_authenticated", False) and overview_regions(user))


def _sees_statistics(user) -> bool:
    from plugins.cases.statistics import stat_regions
    return bool(getattr(user, "is_authenticated", False) and stat_regions(user))


@hookimpl
def ql_dashboard_widgets(user, region):
    """The overdue clocks and missing gates widget, for case management and commission
    leaders (the regions their grant covers)."""
    if not _sees_statistics(user):
        return []
    from plugins.cases.widgets import clocks_widget
    return [{"title": _l("Case supervision: time limits and gates"), "render": clocks_widget,
             "order": 30, "permission": "cases.view"}]


@hookimpl
def ql_public_links():
    return [{"label": _l("Report a problem of an official"),
             "endpoint": "public_cases.report",
             "description": _l("Petitions and reports to the discipline inspection and "
                               "supervision commission, named or anonymous; follow yours "
                               "with its receipt code")}]


@hookimpl
def ql_alert_kinds():
    return [
        {"code": "cases.clock.yellow", "label": _l("Case supervision: a time limit is near"),
         "level": "yellow", "escalate_after_hours": 24},
        {"code": "cases.clock.red", "label": _l("Case supervision: a time limit has passed"),
         "level": "red", "escalate_after_hours": 24},
        {"code": "cases.gate.irregular",
         "label": _l("Case supervision: a procedure skipped or materials missing"),
         "level": "red", "escalate_after_hours": 24},
        {"code": "cases.portal.news",
         "label": _l("Case supervision: a reporter added information"),
         "level": "reminder", "escalate_after_hours": 48},
    ]


@hookimpl
def ql_periodic_tasks(huey):
    from plugins.cases.tasks import register_periodic
    register_periodic(huey)


@hookimpl
def ql_handle_event(name, payload):
    """A red signal of e-supervision or a red flag of procurement about an official
    becomes an item of the channel "transferred from another platform", once per event."""
    from plugins.cases.platforms import handle_event
    handle_event(name, payload)


@hookimpl
def ql_demo_data(size):
    from plugins.cases.demo import seed
    seed(size)


@hookimpl
def ql_cli(group):
    @group.group("cases", help="Case supervision (案件监督管理): jobs.")
    def cases_group():
        pass

    @cases_group.command("sweep", help="Raise the alerts of near and passed time limits now.")
    def sweep_cmd():
        from core.api import db
        from plugins.cases.tasks import run_sweep
        with db.connection_context():
            click.echo(run_sweep())
