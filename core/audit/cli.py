"""``flask --app wsgi audit seal|verify|anchor``: seal the audit trail now, check its chain,
send its newest seal off-site and show those deliveries."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from core.i18n import _

audit_cli = AppGroup("audit", help="The tamper-evident audit trail: seal, verify and "
                     "send the anchor off-site.")


@audit_cli.command("seal")
@click.option("--lag", type=click.FloatRange(min=0), default=None,
              help="Seal only events older than this many seconds (default 5).")
def seal_cmd(lag):
    """Seal unsealed events now and export the newest seal to the anchor file."""
    from core.audit.seal import SEAL_LAG_SECONDS, ChainError, anchor_path, seal
    from core.db import db
    with db.connection_context():
        try:
            result = seal(SEAL_LAG_SECONDS if lag is None else lag)
        except ChainError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"sealed {result.events} event(s) into {len(result.blocks)} block(s)")
    if result.blocks:
        from core.audit.anchor import after_seal, destinations
        click.echo(f"newest seal exported to {anchor_path()}")
        if destinations():
            with db.connection_context():
                after_seal()
            click.echo("off-site anchor delivery queued where due (see `audit anchor status`)")
        else:
            click.echo("no off-site destination is configured (QL_AUDIT_ANCHOR_EMAIL, "
                       "QL_AUDIT_ANCHOR_URL): copy the anchor file out of this system")


@audit_cli.command("verify")
@click.option("--anchor", "anchor", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="The anchor file to compare with (default: "
              "QL_AUDIT_ANCHOR_PATH, else instance/audit_anchor.json), e.g. the copy the "
              "audit administrator keeps.")
@click.option("--no-anchor", is_flag=True,
              help="Check the chain only; a truncated tail then goes unnoticed.")
def verify_cmd(anchor, no_anchor):
    """Recompute the seal chain; exit 0 when intact, else name the first bad block."""
    from core.audit.seal import verify
    from core.db import db
    with db.connection_context():
        result = verify(anchor, use_anchor=not no_anchor)
    if not result.ok:
        where = f"block {result.block_id}" if result.block_id is not None else "the anchor"
        click.echo(f"audit chain BROKEN at {where}: {result.reason}", err=True)
        sys.exit(1)
    click.echo(f"audit chain intact: {result.blocks} block(s), {result.events} sealed "
               f"event(s), {result.unsealed} not yet sealed")
    if no_anchor:
        click.echo("warning: the anchor was not compared; a truncated tail would pass",
                   err=True)
    elif result.anchor:
        click.echo(f"newest seal matches the anchor: block {result.anchor['block_id']} "
                   f"({result.anchor_path})")


anchor_cli = AppGroup("anchor", help="Send the newest seal off-site; show the deliveries.")
audit_cli.add_command(anchor_cli)


@anchor_cli.command("send")
@click.option("--now", "now_", is_flag=True,
              help="Send to every destination now, whatever the interval.")
def anchor_send_cmd(now_):
    """Deliver the newest anchor to each destination that is due one (every destination
    with --now), here and at once; exit 1 naming the destinations that failed."""
    from core.audit.anchor import deliver, destinations, newest_block, queue
    from core.audit.seal import ChainError
    from core.db import db
    if not destinations():
        raise click.ClickException(_("No off-site destination is configured: set "
                                     "QL_AUDIT_ANCHOR_EMAIL or QL_AUDIT_ANCHOR_URL."))
    with db.connection_context():
        try:
            head = newest_block()
            ids = queue(force=now_, trigger="command")
            outcomes = deliver(ids) if ids else []
        except ChainError as exc:
            raise click.ClickException(str(exc)) from None
    if not ids and head is None:
        click.echo(_("Nothing has been sealed yet: there is no anchor to send."))
        return
    if not ids:
        click.echo(_("Nothing is due: no new seal since the last delivery, or the last one "
                     "is younger than the interval. Use --now to send anyway."))
        return
    for o in outcomes:
        line = f"{o.state:<7} {o.destination.channel:<5} {o.destination.address} " \
               f"block {o.block_id}"
        click.echo(line + (f": {o.error}" if o.error else ""))
    busy = len(ids) - len(outcomes)
    if busy:
        click.echo(_("Deliveries being sent by a worker right now: %(n)d.", n=busy))
    failed = [o for o in outcomes if o.state != "sent"]
    if failed:
        click.echo(_("Not delivered to: %(names)s (a delivery that can be retried stays "
                     "queued for the worker).",
                     names=", ".join(o.destination.address for o in failed)), err=True)
        sys.exit(1)


@anchor_cli.command("status")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True,
              help="How many of the newest deliveries to list.")
def anchor_status_cmd(limit):
    """Show the newest seal, the destinations and the newest deliveries."""
    from core.audit.anchor import panel, recent
    from core.db import db
    with db.connection_context():
        state = panel()
        rows = recent(limit)
    head = state.head
    if head is None:
        click.echo(_("Nothing has been sealed yet."))
    else:
        click.echo(_("Newest seal: block %(id)d, last seq %(seq)d, hash %(hash)s, sealed "
                     "%(when)s UTC", id=head.id, seq=head.last_seq, hash=head.hash,
                     when=f"{head.created_at:%Y-%m-%d %H:%M:%S}"))
    if state.rows:
        click.echo(_("Destinations (a new seal at most every %(n)d minutes): %(names)s",
                     n=state.interval,
                     names=", ".join(d.address for d, _last in state.rows)))
    else:
        click.echo(_("No off-site destination is configured: set QL_AUDIT_ANCHOR_EMAIL or "
                     "QL_AUDIT_ANCHOR_URL."))
    if not rows:
        click.echo(_("No deliveries yet."))
        return
    click.echo(f"{'id':>5}  {'state':<7} {'via':<5} {'destination':<32} {'block':>6} "
               f"{'hash':<12} {'tries':>5}  {'created (UTC)':<19}  {'sent / next try':<19}  "
               "last error")
    for r in rows:
        when = r.sent_at if r.state == "sent" else (
            r.next_attempt_at if r.state == "pending" else r.last_attempt_at)
        click.echo(f"{r.id:>5}  {r.state:<7} {r.channel:<5} {r.destination:<32} "
                   f"{r.block_id:>6} {r.hash[:12]:<12} {r.attempts:>5}  "
                   f"{r.created_at:%Y-%m-%d %H:%M:%S}  "
                   f"{f'{when:%Y-%m-%d %H:%M:%S}' if when else '-':<19}  {r.last_error}")
