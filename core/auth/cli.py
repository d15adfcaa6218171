"""``flask --app wsgi tokens issue|revoke|list``: API tokens of machine clients."""
from __future__ import annotations

import datetime as dt

import click
from flask.cli import AppGroup

tokens_cli = AppGroup("tokens", help="API tokens of machine clients (an approval system, a "
                      "check-in terminal): one scope each, only a hash stored.")


@tokens_cli.command("issue")
@click.argument("scope")
@click.argument("subject")
@click.option("--region", "region_code", default=None, help="Region code the token is for.")
@click.option("--expires-days", type=click.IntRange(1, 3650), default=None,
              help="The token stops working after this many days.")
@click.option("--keep-old", is_flag=True,
              help="Keep SUBJECT's earlier tokens of SCOPE working (for a changeover).")
def issue_cmd(scope, subject, region_code, expires_days, keep_old):
    """Issue a token of SCOPE for SUBJECT and print it (shown once)."""
    from core.auth.tokens import issue_api_token
    from core.db import db, utcnow
    from core.errors import FieldError
    from core.org.models import Region
    with db.connection_context():
        region = None
        if region_code is not None:
            region = Region.get_or_none(Region.code == region_code)
            if region is None:
                raise click.ClickException(f"unknown region code {region_code!r}")
        expires = utcnow() + dt.timedelta(days=expires_days) if expires_days else None
        try:
            token = issue_api_token(scope, subject, region=region, expires_at=expires,
                                    replace=not keep_old)
        except FieldError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"{scope} token for {subject} (shown once, store it now):")
    click.echo(token)


@tokens_cli.command("revoke")
@click.argument("scope")
@click.argument("subject")
def revoke_cmd(scope, subject):
    """End every token of SCOPE held by SUBJECT."""
    from core.auth.tokens import revoke_api_token
    from core.db import db
    with db.connection_context():
        n = revoke_api_token(scope, subject)
    if not n:
        raise click.ClickException(f"no active {scope} token for {subject!r}")
    click.echo(f"{n} {scope} token(s) of {subject} revoked")


@tokens_cli.command("list")
@click.option("--scope", default=None)
def list_cmd(scope):
    """Every token: scope, subject, its last characters, state and last use."""
    from core.auth.tokens import api_tokens
    from core.db import db, utcnow
    with db.connection_context():
        rows = api_tokens(scope)
        now = utcnow()
        if not rows:
            click.echo("no tokens")
            return
        click.echo(f"{'scope':<24}{'subject':<24}{'token':<10}{'state':<10}"
                   f"{'issued':<18}last used")
        for t in rows:
            state = "revoked" if t.revoked_at else \
                "expired" if t.expires_at and t.expires_at <= now else "active"
            used = f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "-"
            click.echo(f"{t.scope:<24}{t.subject:<24}{'…' + t.hint:<10}{state:<10}"
                       f"{t.created_at:%Y-%m-%d %H:%M}  {used}")
