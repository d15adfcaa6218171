"""``flask --app wsgi eservice …``: service hall commands run by hand."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from core.api import _, db

eservice_cli = AppGroup("eservice", help="The service hall: follow-up jobs run by hand.")


@eservice_cli.command("rectifications-overdue")
def rectifications_overdue_cmd():
    """Raise the alerts of bad-rating rectifications past their due date (once each)."""
    from plugins.eservice.rectification import raise_overdue_rectifications
    with db.connection_context():
        alerts = raise_overdue_rectifications()
        for alert in alerts:
            click.echo(f"alert {alert.id} ({alert.kind}, {alert.level}): {alert.subject}")
    click.echo(_("%(n)d overdue rectification alert(s) raised.", n=len(alerts)))
