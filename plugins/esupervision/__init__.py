"""E-supervision (电子监察) of approvals: monitored cases, clocks, red and yellow signals."""
from __future__ import annotations

from pathlib import Path

import click

from core.api import _l, db, hookimpl

PERMISSIONS = [
    ("esupervision.view", _l("View e-supervision: monitored cases and signals")),
    ("esupervision.manage", _l("Edit e-supervision detectors and warning thresholds")),
    ("esupervision.supervise", _l("Handle supervision cases and accountability records")),
]


@hookimpl
def ql_plugin_info():
    return {"name": "esupervision", "label": _l("E-supervision"), "version": "1.0",
            "description": _l("Clocks, yellow warnings and red correction signals for "
                              "approval cases")}


@hookimpl
def ql_hookspecs():
    from plugins.esupervision import hookspecs
    return hookspecs


@hookimpl
def ql_migrations():
    return ("esupervision", Path(__file__).parent / "migrations")


@hookimpl
def ql_models():
    from plugins.esupervision.models import MODELS
    return MODELS


@hookimpl
def ql_blueprints():
    from plugins.esupervision.api import api
    from plugins.esupervision.views import bp
    return [bp, api]


@hookimpl
def ql_api_scopes():
    return [("esupervision.ingest", _l("Send case events to e-supervision's ingestion API"))]


@hookimpl
def ql_permissions():
    return PERMISSIONS


@hookimpl
def ql_roles():
    return [{"code": "supervisor", "label": _l("Supervisor"),
             "permissions": ["esupervision.view", "esupervision.manage",
                             "esupervision.supervise"]},
            {"code": "staff", "label": _l("Staff member"),
             "permissions": ["esupervision.view"]}]


@hookimpl
def ql_nav_items(user, region):
    return [{"label": _l("E-supervision"), "endpoint": "esupervision.cases", "icon": "eye",
             "order": 40, "permission": "esupervision.view"},
            {"label": _l("Supervision cases"), "endpoint": "esupervision.supervision_list",
             "icon": "flag", "order": 41, "permission": "esupervision.supervise"},
            {"label": _l("Daily supervision"), "endpoint": "esupervision.findings",
             "icon": "clipboard", "order": 42, "permission": "esupervision.supervise"},
            {"label": _l("Efficiency evaluation"), "endpoint": "esupervision.evaluation_runs",
             "icon": "chart", "order": 43, "permission": "esupervision.supervise"}]


@hookimpl
def ql_dashboard_widgets(user, region):
    from plugins.esupervision.widgets import PERMISSION, signals_widget
    return [{"title": _l("Electronic supervision"), "render": signals_widget, "order": 20,
             "permission": PERMISSION}]


@hookimpl
def ql_alert_kinds():
    from plugins.esupervision.detectors import BUILTIN
    kinds = [{"code": "esupervision.deadline.yellow", "label": _l("Time limit nearly used"),
              "level": "yellow", "escalate_after_hours": 24},
             {"code": "esupervision.evaluation.suggestion",
              "label": _l("Rectification suggestion after the monthly evaluation"),
              "level": "yellow", "escalate_after_hours": 0},
             {"code": "esupervision.case.stalled",
              "label": _l("Case stalled: no progress for several working days"),
              "level": "red", "escalate_after_hours": 24},
             {"code": "esupervision.case.handler_absent",
              "label": _l("Case handler absent: account disabled or post vacant"),
              "level": "red", "escalate_after_hours": 24},
             {"code": "esupervision.rectification.overdue",
              "label": _l("Rectification not reported in time"), "level": "red",
              "escalate_after_hours": 24}]
    for det in BUILTIN:
        kinds.append({"code": f"esupervision.signal.{det.code}", "label": det.description,
                      "level": "red", "escalate_after_hours": 24})
    return kinds


@hookimpl
def ql_periodic_tasks(huey):
    from plugins.esupervision.tasks import register_periodic
    register_periodic(huey)


@hookimpl
def ql_handle_event(name, payload):
    if name.startswith("eservice.case."):
        from plugins.esupervision.services import handle_event
        handle_event(name, payload)


@hookimpl
def ql_cli(group):
    @group.group("esupervision", help="E-supervision (电子监察): tokens and the sweep.")
    def es_group():
        pass

    @es_group.group("token", help="Ingestion API tokens, one per source system.")
    def token_group():
        pass

    @token_group.command("create", help="Issue a token for SOURCE (printed once).")
    @click.argument("source")
    def token_create(source):
        from plugins.esupervision.services import create_token
        with db.connection_context():
            try:
                token = create_token(source)
            except ValueError as exc:
                raise click.ClickException(str(exc)) from None
        click.echo(f"token for {source} (shown once, store it now):")
        click.echo(token)

    @token_group.command("revoke", help="End SOURCE's token.")
    @click.argument("source")
    def token_revoke(source):
        from plugins.esupervision.services import revoke_token
        with db.connection_context():
            if not revoke_token(source):
                raise click.ClickException(f"no active token for {source!r}")
        click.echo(f"token of {source} revoked")

    @es_group.command("sweep", help="Run one sweep now and print what it raised.")
    def sweep_cmd():
        from plugins.esupervision.sweep import sweep
        with db.connection_context():
            result = sweep()
        click.echo(f"sweep {result.today}: {result.yellow} yellow, {result.red} red "
                   f"new signal(s); {len(result.alerted)} alert(s) raised")
        for line in result.alerted:
            click.echo(f"  {line}")
        if result.pending:
            click.echo(f"{result.pending} signal(s) still to alert: the next sweeps send them")
