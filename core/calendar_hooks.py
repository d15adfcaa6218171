"""The calendar's hooks: its CLI commands, the provisional-year alert and its daily job."""
from __future__ import annotations

import datetime as dt
import sys

import click

from core.hookspecs import hookimpl
from core.i18n import _, _l

PROVISIONAL_KIND = "core.calendar.provisional"


def _provisional_subject(details: dict) -> str:
    return _("The %(year)s holiday schedule is not published: its holidays are provisional",
             year=details.get("year", "?"))


def _calendar_link(ref: str) -> str | None:
    from flask import url_for
    year = ref.removeprefix("calendar:")
    return url_for("admin.calendar_page", year=int(year), month=1) \
        if year.isascii() and year.isdigit() else None


@hookimpl
def ql_alert_kinds():
    return [{"code": PROVISIONAL_KIND, "label": _l("Holiday schedule not yet published"),
             "level": "yellow", "escalate_after_hours": 0, "subject": _provisional_subject,
             "link": _calendar_link}]


@hookimpl
def ql_periodic_tasks(huey):
    from huey import crontab

    from core.queue import periodic

    @periodic(crontab(hour="1", minute="10"), name="core.calendar.check",
              label=_l("Calendar check (schedule sources, provisional years)"))
    def calendar_check():
        check_provisional()


def check_provisional(today: dt.date | None = None) -> list:
    """Daily (09:10 in Beijing): bring the calendar up to its sources (a newer package),
    then alert each administrator whose grant covers the whole city once for each year
    they should know is provisional (this year; the coming one from October)."""
    from core import calendar, clock
    from core.alerts.service import AlertSpec, emit_many
    from core.auth.models import Grant, RolePermission, User
    from core.db import db
    from core.org.models import Region
    today = today or clock.today()
    with db.atomic():
        first, last = calendar.package_years()
        calendar.refresh("package", f"{first}–{last}")
        years = calendar.provisional_years(today)
        tops = list(Region.select().where(Region.parent.is_null()).order_by(Region.id))
        if not years or not tops:
            return []
        admins = list(User.select().distinct().join(Grant)
                      .join(RolePermission, on=(RolePermission.role == Grant.role))
                      .where((RolePermission.permission == "core.settings.manage")
                             & Grant.region.in_([r.id for r in tops]) & (User.active == True))
                      .order_by(User.id))
        specs = [AlertSpec(PROVISIONAL_KIND, tops[0],
                           f"The {year} holiday schedule is not published: provisional",
                           target_user=user, ref=f"calendar:{year}", level="yellow",
                           dedupe_key=f"calendar.provisional:{year}:{user.id}",
                           details={"year": year})
                 for year in years for user in admins]
        return [a for a in emit_many(specs) if not a.deduplicated] if specs else []


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

    @calendar_group.command("status", help="Each year's source; provisional years flagged.")
    def status():
        from core import calendar
        from core.db import db
        with db.connection_context():
            for year in range(calendar.FIRST_DAY.year, calendar.LAST_DAY.year + 1):
                source = calendar.year_source(year)
                flag = "  PROVISIONAL" if source == "provisional" else ""
                click.echo(f"{year}  {source}{flag}")

    @calendar_group.command("import", help="Import a year's published holiday schedule (CSV: "
                            "date or date/date, 放假|上班, festival); all or nothing.")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    @click.option("--by", default="cli", show_default=True, help="Who imports (recorded).")
    def import_(path, by):
        from pathlib import Path

        from core import calendar
        from core.audit.service import record
        from core.db import db
        data = Path(path).read_bytes()
        with db.connection_context():
            try:
                with db.atomic():
                    year, change = calendar.import_schedule(calendar.schedule_text(data), by)
                    record("calendar.schedule.import", object_type="calendar_schedule",
                           object_id=str(year), summary=f"published {year} schedule imported "
                           f"by {by} (command line)")
            except calendar.ScheduleError as exc:
                for line, message in exc.errors:
                    click.echo(f"{path}:{line}: {message}" if line else f"{path}: {message}",
                               err=True)
                click.echo("nothing imported", err=True)
                sys.exit(1)
        changed = change.count if change else 0
        click.echo(f"{year}: published schedule imported; {changed} working day(s) changed")
