"""``flask --app wsgi alerts …``: raise a test alert, show the outbox, retry failed
notifications."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from core.i18n import _

alerts_cli = AppGroup("alerts", help="The alert bus: test alerts, the outbox, retries.")


@alerts_cli.command("emit")
@click.option("--kind", required=True, help="Alert kind code, e.g. core.test.")
@click.option("--user", "username", required=True, help="The account to alert.")
@click.option("--subject", required=True, help="The alert's subject line.")
@click.option("--level", type=click.Choice(["reminder", "yellow", "red"]), default=None,
              help="Override the kind's default level.")
def emit_cmd(kind, username, subject, level):
    """Raise an alert to one user so a deployment can check its channels."""
    from core.alerts.service import AlertError, emit
    from core.auth.models import Grant, User
    from core.db import db
    with db.connection_context():
        user = User.get_or_none(User.username == username)
        if user is None:
            raise click.ClickException(_("Unknown user %(name)s.", name=username))
        region = user.person.region_id if user.person_id else None
        if region is None:
            grant = Grant.select().where(Grant.user == user).order_by(Grant.id).first()
            region = grant.region_id if grant else None
        if region is None:
            raise click.ClickException(
                _("User %(name)s has neither a person nor a grant: no region to raise the "
                  "alert in.", name=username))
        try:
            alert = emit(kind, region, subject, target_user=user, level=level)
        except AlertError as exc:
            raise click.ClickException(str(exc)) from None
        count = alert.notifications.count()
    click.echo(f"alert {alert.id} ({alert.kind}, {alert.level}) raised for {username}: "
               f"{count} notification(s) queued")


@alerts_cli.command("outbox")
def outbox_cmd():
    """Show pending, failed and delivered notification counts (and recent failures)."""
    from core.alerts.models import Notification
    from core.alerts.service import outbox_counts
    from core.db import db
    with db.connection_context():
        counts = outbox_counts()
        failures = list(Notification.select().where(Notification.state == "failed")
                        .order_by(Notification.id.desc()).limit(10))
    click.echo(f"pending {counts['pending']}  failed {counts['failed']}  "
               f"delivered {counts['sent']}")
    for n in failures:
        click.echo(f"  failed {n.uid} {n.channel} alert {n.alert_id}: {n.last_error}")


@alerts_cli.command("sweep")
def sweep_cmd():
    """Run the outbox sweep once, here (release lost claims, dispatch due rows)."""
    from core.alerts.outbox import sweep
    from core.db import db
    with db.connection_context():
        done = sweep()
    click.echo(f"released {done['released']}, delivered {done['batched']} in the inbox, "
               f"enqueued {done['enqueued']}")


@alerts_cli.command("retry")
@click.option("--id", "ids", type=int, multiple=True,
              help="A failed notification's id (repeat for several); all or none are retried.")
@click.option("--all-failed", is_flag=True,
              help="Every failed notification (skipping those that cannot be delivered).")
@click.option("--channel", default="", help="With --all-failed: only this channel, e.g. email.")
@click.option("--region", "region_code", default="",
              help="With --all-failed: only alerts of this region code.")
def retry_cmd(ids, all_failed, channel, region_code):
    """Queue failed notifications for delivery again (attempts start from 0); audited."""
    from core.alerts.deliveries import SKIP_LABELS, RetryRefused, retry, retry_failed
    from core.alerts.service import AlertError
    from core.db import db
    from core.org.models import Region
    if bool(ids) == all_failed:
        raise click.UsageError(_("Give either --id (one or more) or --all-failed."))
    if ids and (channel or region_code):
        raise click.UsageError(_("--channel and --region go with --all-failed only."))
    with db.connection_context():
        try:
            if ids:
                result = retry(ids, via="cli")
            else:
                region_id = None
                if region_code:
                    region = Region.get_or_none(Region.code == region_code)
                    if region is None:
                        raise click.ClickException(
                            _("Unknown region code %(code)s.", code=region_code))
                    region_id = region.id
                result = retry_failed(channel=channel, region_id=region_id, via="cli")
        except RetryRefused as exc:
            raise click.ClickException("\n".join(exc.reasons)) from None
        except AlertError as exc:
            raise click.ClickException(str(exc)) from None
    shown = ", ".join(str(i) for i in result.ids[:20]) + (" …" if result.count > 20 else "")
    click.echo(f"{result.count} notification(s) queued for delivery again"
               + (f": {shown}" if shown else ""))
    for code, n in sorted(result.skipped.items()):
        click.echo(f"  skipped {n}: {SKIP_LABELS[code]}")
