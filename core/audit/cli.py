"""``flask --app wsgi audit seal|verify``: seal the audit trail now, or check its chain."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup

audit_cli = AppGroup("audit", help="The tamper-evident audit trail: seal and verify.")


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
        click.echo(f"newest seal exported to {anchor_path()}: copy or e-mail it to the "
                   "audit administrator")


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
