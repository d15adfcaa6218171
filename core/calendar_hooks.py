"""The calendar's CLI commands."""
from __future__ import annotations

import datetime as dt

import click

from core.hookspecs import hookimpl


@hookimpl
def ql_cli(group):
    @group.group("calendar", help="Working-day calendar (工作日).")
    def calendar_group():
        pass

    @calendar_group.command("check", help="Is DAY (YYYY-MM-DD) a working day?")
    @click.argument("day")
    def check(day):
        from core import calendar
        try:
            d = dt.date.fromisoformat(day)
            click.echo(f"{d} {'workday' if calendar.is_workday(d) else 'rest day'}")
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None

    @calendar_group.command("add", help="The N-th working day after START.")
    @click.argument("start")
    @click.argument("n", type=int)
    def add(start, n):
        from core import calendar
        try:
            click.echo(calendar.add_workdays(dt.date.fromisoformat(start), n).isoformat())
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None

    @calendar_group.command("rebuild", help="Recompute every day from the schedule and overrides.")
    def rebuild():
        from core import calendar
        click.echo(f"{calendar.rebuild()} days")
