"""The quarterly report-back (回告): each quarter, the supervision and inspection office
(监督检查室) and the investigation office (审查调查室) of a region report back to its
petitions office (信访室) on what became of the items routed to them (检举控告工作规则:
承办部门定期向信访举报部门回告办理情况).

Each region, office and quarter has a clock (kind ``report``) from the day after the
quarter ends to ``REPORT_BACK_DAYS`` working days later; the sweep starts the clocks of
the quarter just ended and raises yellow and red alerts as for every other limit. Filing
the report-back stops its clock and keeps the quarter's figures as filed:

* supervision — received: items accepted (routed to the office) in the quarter; disposed:
  leads taken up from items and decided in the quarter; pending: items accepted by the
  quarter's end not yet taken up, and their leads not yet decided;
* investigation — received: cases opened in the quarter from leads of items; disposed:
  those cases closed in the quarter; pending: those opened by the quarter's end and still
  open.

The office files for a region its grant covers (a county's office never files for the
city); the petitions office and case management see who has reported and who has not,
and read the accounts, for the regions their grants cover."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from core.api import (
    FieldError,
    Region,
    _,
    add_workdays,
    clean_text,
    covers,
    db,
    record,
    regions_enabled,
    regions_in_scope,
    require_level,
    today,
    utc_midnight,
)
from plugins.cases import clocks
from plugins.cases.models import Case, Clock, Item, Lead, ReportBack
from plugins.cases.statistics import Period, parse_period, quarter_of
from plugins.cases.vocab import REPORT_BACK_DAYS, REPORT_OFFICES

KIND = "report"
WATCHERS = ("cases.intake", "cases.manage")  # the petitions office and case management


def clock_ref(region: Region, office: str, period: Period) -> str:
    """The clock's reference, as alerts name it: ``510104 2026-Q3 supervision``."""
    return f"{region.code} {period.code} {office}"


def previous_quarter(day: dt.date) -> Period:
    """The last quarter that has ended on ``day``."""
    return quarter_of(quarter_of(day).start - dt.timedelta(days=1))


def due_day(period: Period) -> dt.date:
    return add_workdays(period.end, REPORT_BACK_DAYS)


def parse_quarter(value, field_name: str = "period", day: dt.date | None = None) -> Period:
    """A quarter written ``YYYY-Qn`` (blank: the last quarter ended); a month, a year or
    anything else is a 422 naming ``field_name``."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return previous_quarter(day or today())
    period = parse_period(value, field_name)
    if period.kind != "quarter":
        raise FieldError(field_name, _("Expected a quarter written YYYY-Q1…Q4."))
    return period


def ensure_clocks(day: dt.date | None = None) -> int:
    """Start the report-back clock of the quarter just ended for every region where the
    plugin runs and each office that reports (none restarted, none for a report-back
    already filed); returns how many were started. Idempotent: the sweep calls it."""
    day = day or today()
    period = previous_quarter(day)
    due = due_day(period)
    regions = Region.select(Region.id, Region.code).where(
        Region.id.in_(regions_enabled("cases")))
    filed = {(r.region_id, r.office) for r in ReportBack.select(
        ReportBack.region, ReportBack.office).where(ReportBack.period == period.code)}
    rows = [{"region": r.id, "kind": KIND, "ref": clock_ref(r, office, period),
             "started_on": period.end + dt.timedelta(days=1), "due_on": due}
            for r in regions for office in REPORT_OFFICES if (r.id, office) not in filed]
    if not rows:
        return 0
    before = Clock.select().where(Clock.kind == KIND).count()
    with db.atomic():
        for start in range(0, len(rows), 200):
            Clock.insert_many(rows[start:start + 200]).on_conflict_ignore().execute()
    return Clock.select().where(Clock.kind == KIND).count() - before


def figures(region: Region, office: str, period: Period) -> dict:
    """The quarter's figures of one office of ``region`` (see the module's docstring)."""
    t0, t1 = utc_midnight(period.start), utc_midnight(period.end + dt.timedelta(days=1))
    if office == "supervision":
        accepted = (Item.region == region.id) & (Item.office == "supervision")
        item_leads = (Lead.region == region.id) & Lead.item.is_null(False)
        received = Item.select().where(accepted & (Item.routed_on >= period.start)
                                       & (Item.routed_on <= period.end)).count()
        disposed = Lead.select().where(item_leads & (Lead.decided_at >= t0)
                                       & (Lead.decided_at < t1)).count()
        pending = (Item.select().where(accepted & (Item.status == "accepted")
                                       & (Item.routed_on <= period.end)).count()
                   + Lead.select().where(item_leads & Lead.status.in_(("open", "proposed"))
                                         & (Lead.created_at < t1)).count())
    else:
        from_items = (Case.region == region.id) & Case.lead.in_(
            Lead.select(Lead.id).where(Lead.item.is_null(False)))
        received = Case.select().where(from_items & (Case.opened_at >= t0)
                                       & (Case.opened_at < t1)).count()
        disposed = Case.select().where(from_items & (Case.closed_on >= period.start)
                                       & (Case.closed_on <= period.end)).count()
        pending = Case.select().where(from_items & (Case.status == "open")
                                      & (Case.opened_at < t1)).count()
    return {"received": received, "disposed": disposed, "pending": pending}


def _office(value) -> str:
    if value not in REPORT_OFFICES:
        raise FieldError("office", _("Choose the supervision and inspection office or the "
                                     "investigation office."))
    return value


def may_file(user, region, office: str) -> bool:
    return covers(user, REPORT_OFFICES[office], region)


def file(user, region: Region, office, period_value, note, day: dt.date | None = None
         ) -> ReportBack:
    """File the report-back of ``office`` of ``region`` for a quarter that has ended:
    its figures are kept as filed, its clock stops, the act is audited."""
    office = _office(office)
    require_level(user, REPORT_OFFICES[office], region)
    day = day or today()
    period = parse_quarter(period_value, day=day)
    if period.end >= day:
        raise FieldError("period", _("A quarter is reported back once it has ended."))
    note = clean_text(note, "note", max_length=4000, multiline=True, required=True)
    if ReportBack.select().where((ReportBack.region == region.id)
                                 & (ReportBack.office == office)
                                 & (ReportBack.period == period.code)).exists():
        raise FieldError("period", _("This quarter has been reported back already."))
    ref = clock_ref(region, office, period)
    due = due_day(period)
    with db.atomic():
        row = ReportBack.create(region=region, office=office, period=period.code, due_on=due,
                                filed_on=day, note=note, filed_by=user.username,
                                **figures(region, office, period))
        if clocks.clock_of(KIND, ref) is None:
            clocks.start(region.id, KIND, ref, period.end + dt.timedelta(days=1), due)
        clocks.finish(KIND, ref, day)
        record("cases.report_back.file", object_type="cases_report_back", object_id=row.id,
               summary=f"{ref} {'late' if day > due else 'on time'}", region_id=region.id,
               user=user)
    return row


@dataclass
class Row:
    """One region and office of the overview: its report-back or its clock."""

    region: Region
    office: str
    due_on: dt.date
    report: ReportBack | None
    fileable: bool

    @property
    def late(self) -> bool:
        if self.report is not None:
            return self.report.filed_on > self.due_on
        return today() > self.due_on

    @property
    def state(self) -> str:
        if self.report is not None:
            return "late" if self.late else "filed"
        return "overdue" if self.late else "waiting"


def overview_regions(user) -> list[Region]:
    """The regions whose report-backs ``user`` sees: those of the petitions office, case
    management and the reporting offices' grants."""
    seen: dict[int, Region] = {}
    for perm in (*WATCHERS, *REPORT_OFFICES.values()):
        for region in regions_in_scope(user, perm):
            seen.setdefault(region.id, region)
    return sorted(seen.values(), key=lambda r: (r.sort, r.code))


def overview(user, period: Period) -> list[Row]:
    """Who has and who has not reported back for ``period``, region by region and office
    by office, as far as ``user``'s grants reach (an office sees only its own rows)."""
    regions = overview_regions(user)
    reports = {(r.region_id, r.office): r for r in ReportBack.select().where(
        (ReportBack.period == period.code)
        & ReportBack.region.in_([r.id for r in regions] or [0]))}
    due = due_day(period)
    out = []
    for region in regions:
        watcher = any(covers(user, perm, region) for perm in WATCHERS)
        for office in REPORT_OFFICES:
            fileable = may_file(user, region, office)
            if not (watcher or fileable):
                continue
            report = reports.get((region.id, office))
            out.append(Row(region, office, report.due_on if report else due, report,
                           fileable=fileable and report is None and period.end < today()))
    return out


def counts(rows: list[Row]) -> dict:
    """{state: n} of the overview's rows."""
    out = {"filed": 0, "late": 0, "waiting": 0, "overdue": 0}
    for row in rows:
        out[row.state] += 1
    return out


def quarters(day: dt.date | None = None, n: int = 8) -> list[str]:
    """The codes of the last ``n`` quarters ended (for the period picker)."""
    period = previous_quarter(day or today())
    out = []
    for _i in range(n):
        out.append(period.code)
        period = previous_quarter(period.start)
    return out

