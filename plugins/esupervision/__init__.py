"""E-supervision (电子监察) of approvals: monitored cases, clocks, red and yellow signals."""
from __future__ import annotations

from pathlib import Path

import click

from core.api import _l, db, hookimpl

PERMISSIONS = [
    ("esupervision.view", _l("View e-supervision: monitored cases and signals")),
    ("esupervision.manage", _l("Edit e-supervision detectors and warning thresholds")),
    ("esupervision.supervise", _l("Handle supervision cases and accountability records")),
    ("esupervision.respond", _l("Answer for one's own department: read the suggestion "
                                "letters and rectification demands addressed to it and "
                                "report the rectification (整改回告)")),
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
    from plugins.esupervision import letter_views  # noqa: F401 - its routes join bp
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
             "permissions": ["esupervision.view"]},
            {"code": "department_liaison",
             "label": _l("Supervised department's liaison (整改联络员)"),
             "permissions": ["esupervision.respond"]}]


@hookimpl
def ql_nav_items(user, region):
    return [{"label": _l("E-supervision"), "endpoint": "esupervision.cases", "icon": "eye",
             "order": 40, "permission": "esupervision.view"},
            {"label": _l("Supervision cases"), "endpoint": "esupervision.supervision_list",
             "icon": "flag", "order": 41, "permission": "esupervision.supervise"},
            {"label": _l("Daily supervision"), "endpoint": "esupervision.findings",
             "icon": "clipboard", "order": 42, "permission": "esupervision.supervise"},
            {"label": _l("Efficiency evaluation"), "endpoint": "esupervision.evaluation_runs",
             "icon": "chart", "order": 43, "permission": "esupervision.supervise"},
            {"label": _l("Suggestion letters"), "endpoint": "esupervision.letter_list",
             "icon": "mail", "order": 44, "permission": "esupervision.supervise"},
            {"label": _l("Rectification reports"), "endpoint": "esupervision.letter_list",
             "icon": "mail", "order": 44, "permission": "esupervision.respond"}]


@hookimpl
def ql_dashboard_widgets(user, region):
    from plugins.esupervision.widgets import PERMISSION, signals_widget
    return [{"title": _l("Electronic supervision"), "render": signals_widget, "order": 20,
             "permission": PERMISSION}]


@hookimpl
def ql_alert_kinds():
    from plugins.esupervision import wording
    from plugins.esupervision.detectors import BUILTIN

    def kind(code, label, level, words, hours=24):
        return {"code": code, "label": label, "level": level, "escalate_after_hours": hours,
                "subject": words, "link": wording.link}
    kinds = [kind("esupervision.deadline.yellow", _l("Time limit nearly used"), "yellow",
                  wording.signal),
             kind("esupervision.evaluation.suggestion",
                  _l("Suggestion letter (监察建议书) after the monthly evaluation"), "yellow",
                  wording.letter, 0),
             kind("esupervision.letter.overdue",
                  _l("Suggestion letter: no rectification report by its deadline"), "red",
                  wording.letter_overdue),
             kind("esupervision.case.stalled",
                  _l("Case stalled: no progress for several working days"), "red",
                  wording.stalled),
             kind("esupervision.case.handler_absent",
                  _l("Case handler absent: account disabled or post vacant"), "red",
                  wording.absent),
             kind("esupervision.rectification.overdue", _l("Rectification not reported in time"),
                  "red", wording.rectification_overdue),
             kind("esupervision.report.returned",
                  _l("Rectification report returned to the department for more"), "yellow",
                  wording.report_returned)]
    for det in BUILTIN:
        kinds.append(kind(f"esupervision.signal.{det.code}", det.description, "red",
                          wording.signal))
    return kinds


@hookimpl
def ql_audit_actions():
    return {
        "esupervision.event.ingest": _l("Case event received"),
        "esupervision.token.create": _l("Ingestion token issued"),
        "esupervision.token.revoke": _l("Ingestion token revoked"),
        "esupervision.detector.update": _l("Detector set"),
        "esupervision.detector.clear": _l("Detector override cleared"),
        "esupervision.threshold.update": _l("Yellow threshold set"),
        "esupervision.threshold.delete": _l("Yellow threshold removed"),
        "esupervision.supervision.open": _l("Supervision case opened"),
        "esupervision.supervision.verify": _l("Signal verified"),
        "esupervision.supervision.demand": _l("Rectification demanded"),
        "esupervision.supervision.report": _l("Rectification reported"),
        "esupervision.supervision.close": _l("Supervision case closed"),
        "esupervision.supervision.return": _l("Rectification report returned for more"),
        "esupervision.supervision.escalate": _l("Overdue rectification escalated"),
        "esupervision.supervision.transfer": _l("Transferred as a problem lead"),
        "esupervision.accountability.record": _l("Accountability recorded"),
        "esupervision.finding.record": _l("Daily supervision finding recorded"),
        "esupervision.evaluation.config": _l("Evaluation weights changed"),
        "esupervision.evaluation.run": _l("Efficiency evaluation run"),
        "esupervision.letter.issue": _l("Suggestion letter issued"),
        "esupervision.letter.reply": _l("Rectification report on a suggestion letter"),
        "esupervision.letter.review": _l("Rectification report reviewed"),
        "esupervision.letter.escalate": _l("Suggestion letter overdue, escalated"),
    }


@hookimpl
def ql_periodic_tasks(huey):
    from plugins.esupervision.tasks import register_periodic
    register_periodic(huey)


@hookimpl
def ql_handle_event(name, payload):
    if name.startswith("eservice.case."):
        from plugins.esupervision.services import handle_event
        handle_event(name, payload)
    elif name == "core.calendar.changed":
        from plugins.esupervision.services import calendar_changed
        calendar_changed(payload)


@hookimpl(trylast=True)  # after the service hall's demo, whose events it supervises
def ql_demo_data(size):
    from plugins.esupervision.demo import seed
    seed(size)


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
