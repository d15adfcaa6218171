"""Statistics of case supervision (统计): aggregate figures per region and period, never a
name or a text.

A period is a month (``2026-09``), a quarter (``2026-Q3``) or a year (``2026``). For each
region shown (its own records, not those of the regions below it) and for all of them:

* items received in the period (by ``received_on``), by channel and by category, and how
  many of them were repeats linked to a first report (``repeat_of``);
* of the items received in the period and routed, how many were routed within the
  5-working-day limit (the ``route`` clock finished on or before its due day), and the
  share;
* problem leads taken up in the period, and those decided in the period by way of
  disposal (谈话函询, 初步核实, 暂存待查, 予以了结);
* cases opened in the period, cases closed in the period by outcome, cases open now by
  their stage;
* clocks overdue now (running, not suspended, past their due day) by kind, and clocks
  finished late in the period.

Only users holding case management (``cases.manage``) or a leader's permission
(``cases.approve``) see them, for the regions their grant covers.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import peewee as pw

from core.api import (
    AccessDenied,
    FieldError,
    Region,
    Sheet,
    _,
    covers,
    month_bounds,
    parse_id,
    regions_in_scope,
    today,
    utc_midnight,
)
from plugins.cases.clocks import KINDS
from plugins.cases.clocks import label as clock_label
from plugins.cases.models import Case, Clock, Item, Lead
from plugins.cases.vocab import CATEGORIES, CHANNELS, OUTCOMES, STAGES, WAYS, label

PERMISSIONS = ("cases.manage", "cases.approve")
_PERIOD = re.compile(r"([0-9]{4})(?:-(?:([0-9]{2})|[Qq]([1-4])))?")
YEAR_MIN, YEAR_MAX = 2000, 2099


@dataclass(frozen=True)
class Period:
    """A month, quarter or year: its code (``2026-09``, ``2026-Q3``, ``2026``), kind and
    first and last day."""

    code: str
    kind: str
    start: dt.date
    end: dt.date


def parse_period(value, field_name: str = "period") -> Period:
    """``YYYY``, ``YYYY-Qn`` or ``YYYY-MM`` (blank: the current month); anything else is a
    422 naming ``field_name``."""
    if value is None or (isinstance(value, str) and not value.strip()):
        day = today()
        return month_period(day.year, day.month)
    if not isinstance(value, str) or len(value) > 16:
        raise FieldError(field_name, _("Expected a period written YYYY, YYYY-Q1…Q4 or YYYY-MM."))
    m = _PERIOD.fullmatch(value.strip())
    if m is None:
        raise FieldError(field_name, _("Expected a period written YYYY, YYYY-Q1…Q4 or YYYY-MM."))
    year = int(m.group(1))
    if not YEAR_MIN <= year <= YEAR_MAX:
        raise FieldError(field_name, _("The year must be between %(lo)s and %(hi)s.",
                                       lo=YEAR_MIN, hi=YEAR_MAX))
    if m.group(2):
        month = int(m.group(2))
        if not 1 <= month <= 12:
            raise FieldError(field_name, _("Expected a month between 01 and 12."))
        return month_period(year, month)
    if m.group(3):
        q = int(m.group(3))
        start = month_bounds(year, 3 * q - 2)[0]
        return Period(f"{year}-Q{q}", "quarter", start, month_bounds(year, 3 * q)[1])
    return Period(str(year), "year", dt.date(year, 1, 1), dt.date(year, 12, 31))


def month_period(year: int, month: int) -> Period:
    start, end = month_bounds(year, month)
    return Period(f"{year}-{month:02d}", "month", start, end)


def quarter_of(day: dt.date) -> Period:
    return parse_period(f"{day.year}-Q{(day.month - 1) // 3 + 1}")


def stat_regions(user) -> list[Region]:
    """The regions whose figures ``user`` may see: those covered by a grant of case
    management or of a leader, each checked with ``covers`` (the grant's level)."""
    seen: dict[int, Region] = {}
    for perm in PERMISSIONS:
        for region in regions_in_scope(user, perm):
            if region.id not in seen and covers(user, perm, region):
                seen[region.id] = region
    return sorted(seen.values(), key=lambda r: (r.sort, r.code))


def choose_regions(user, region_arg) -> list[Region]:
    """The regions shown: every one in scope, or the one asked for (``region``), which must
    be in scope (else AccessDenied). None in scope: AccessDenied."""
    regions = stat_regions(user)
    if not regions:
        raise AccessDenied(_("Statistics are for case management and commission leaders."))
    if region_arg is None or region_arg == "":
        return regions
    rid = parse_id(region_arg, "region")
    chosen = [r for r in regions if r.id == rid]
    if not chosen:
        raise AccessDenied(_("This region is outside your scope."))
    return chosen


@dataclass
class Figures:
    """The figures of one region (or of all the regions shown, ``region`` None)."""

    region: Region | None
    received: int = 0
    repeats: int = 0
    by_channel: dict = field(default_factory=dict)
    by_category: dict = field(default_factory=dict)
    routed: int = 0
    routed_in_time: int = 0
    leads_taken: int = 0
    leads_by_way: dict = field(default_factory=dict)
    cases_opened: int = 0
    closed_by_outcome: dict = field(default_factory=dict)
    open_by_stage: dict = field(default_factory=dict)
    overdue_by_kind: dict = field(default_factory=dict)
    late_in_period: int = 0

    @property
    def first_reports(self) -> int:
        return self.received - self.repeats

    @property
    def routed_share(self) -> float | None:
        return self.routed_in_time / self.routed if self.routed else None

    @property
    def cases_closed(self) -> int:
        return sum(self.closed_by_outcome.values())

    @property
    def overdue(self) -> int:
        return sum(self.overdue_by_kind.values())

    @property
    def cases_open(self) -> int:
        return sum(self.open_by_stage.values())

    @property
    def leads_decided(self) -> int:
        return sum(self.leads_by_way.values())


def _grouped(query):
    """{(region_id, key…): count} of a grouped query."""
    out = {}
    for row in query.tuples():
        out[tuple(row[:-1])] = row[-1]
    return out


def _add(figs: dict, total: Figures, attr: str, rid: int, key, n: int) -> None:
    for f in (figs[rid], total):
        if key is None:
            setattr(f, attr, getattr(f, attr) + n)
        else:
            d = getattr(f, attr)
            d[key] = d.get(key, 0) + n


def compute(regions: list[Region], period: Period, day: dt.date | None = None) -> dict:
    """The figures of ``regions`` over ``period`` (snapshots "now" as of ``day``):
    ``{"period", "regions": [Figures…], "total": Figures}``."""
    day = day or today()
    ids = [r.id for r in regions]
    figs = {r.id: Figures(r) for r in regions}
    total = Figures(None)
    if not ids:
        return {"period": period, "regions": [], "total": total}
    n = pw.fn.COUNT(pw.SQL("*"))
    in_period = (Item.region.in_(ids) & (Item.received_on >= period.start)
                 & (Item.received_on <= period.end))
    for (rid, channel, repeat), c in _grouped(
            Item.select(Item.region, Item.channel, Item.repeat_of.is_null(False), n)
            .where(in_period).group_by(Item.region, Item.channel,
                                       Item.repeat_of.is_null(False))).items():
        _add(figs, total, "received", rid, None, c)
        _add(figs, total, "by_channel", rid, channel, c)
        if repeat:
            _add(figs, total, "repeats", rid, None, c)
    for (rid, cat), c in _grouped(Item.select(Item.region, Item.category, n).where(in_period)
                                  .group_by(Item.region, Item.category)).items():
        _add(figs, total, "by_category", rid, cat, c)
    in_time = pw.Case(None, [(Clock.done_on <= Clock.due_on, 1)], 0)
    for (rid, routed, ok) in (Item.select(Item.region, n, pw.fn.SUM(in_time))
                              .join(Clock, on=((Clock.ref == Item.number)
                                               & (Clock.kind == "route")))
                              .where(in_period & Item.routed_on.is_null(False)
                                     & Clock.done_on.is_null(False))
                              .group_by(Item.region).tuples()):
        _add(figs, total, "routed", rid, None, routed)
        _add(figs, total, "routed_in_time", rid, None, int(ok or 0))
    t0, t1 = utc_midnight(period.start), utc_midnight(period.end + dt.timedelta(days=1))
    for (rid,), c in _grouped(Lead.select(Lead.region, n).where(
            Lead.region.in_(ids) & (Lead.created_at >= t0) & (Lead.created_at < t1))
            .group_by(Lead.region)).items():
        _add(figs, total, "leads_taken", rid, None, c)
    for (rid, way), c in _grouped(Lead.select(Lead.region, Lead.way, n).where(
            Lead.region.in_(ids) & Lead.decided_at.is_null(False) & (Lead.way != "")
            & (Lead.decided_at >= t0) & (Lead.decided_at < t1))
            .group_by(Lead.region, Lead.way)).items():
        _add(figs, total, "leads_by_way", rid, way, c)
    for (rid,), c in _grouped(Case.select(Case.region, n).where(
            Case.region.in_(ids) & (Case.opened_at >= t0) & (Case.opened_at < t1))
            .group_by(Case.region)).items():
        _add(figs, total, "cases_opened", rid, None, c)
    for (rid, outcome), c in _grouped(Case.select(Case.region, Case.outcome, n).where(
            Case.region.in_(ids) & (Case.status == "closed") & (Case.closed_on >= period.start)
            & (Case.closed_on <= period.end)).group_by(Case.region, Case.outcome)).items():
        _add(figs, total, "closed_by_outcome", rid, outcome, c)
    for (rid, stage), c in _grouped(Case.select(Case.region, Case.stage, n).where(
            Case.region.in_(ids) & (Case.status == "open"))
            .group_by(Case.region, Case.stage)).items():
        _add(figs, total, "open_by_stage", rid, stage, c)
    for (rid, kind), c in _grouped(Clock.select(Clock.region, Clock.kind, n).where(
            Clock.region.in_(ids) & Clock.done_on.is_null() & Clock.stopped_since.is_null()
            & (Clock.due_on < day)).group_by(Clock.region, Clock.kind)).items():
        _add(figs, total, "overdue_by_kind", rid, kind, c)
    for (rid,), c in _grouped(Clock.select(Clock.region, n).where(
            Clock.region.in_(ids) & (Clock.done_on >= period.start)
            & (Clock.done_on <= period.end) & (Clock.done_on > Clock.due_on))
            .group_by(Clock.region)).items():
        _add(figs, total, "late_in_period", rid, None, c)
    return {"period": period, "regions": [figs[i] for i in ids], "total": total}


def pct(share: float | None) -> str:
    return "" if share is None else f"{share * 100:.1f}%"


def chart(data: dict) -> dict:
    """The chart data (ECharts): items by channel and cases open by stage, all regions."""
    total = data["total"]
    return {"channels": [label(CHANNELS, c) for c in CHANNELS],
            "received": [total.by_channel.get(c, 0) for c in CHANNELS],
            "stages": [str(s.label) for s in STAGES.values()],
            "open": [total.open_by_stage.get(s, 0) for s in STAGES],
            "received_label": _("Items received"), "open_label": _("Cases open now")}


def sheets(data: dict) -> list[Sheet]:
    """The workbook: the summary per region, then one sheet per breakdown. Written by the
    core's formula-safe export writer."""
    rows = [*data["regions"], data["total"]]

    def name(f: Figures) -> str:
        return f.region.name if f.region is not None else _("All regions shown")

    summary = Sheet(_("Summary"), [
        _("Region"), _("Period"), _("Items received"), _("First reports"),
        _("Repeats linked"), _("Routed"), _("Routed within 5 working days"),
        _("Share routed in time"), _("Leads taken up"), _("Leads decided"),
        _("Cases opened"), _("Cases closed"), _("Cases open now"), _("Clocks overdue now"),
        _("Clocks finished late")],
        [[name(f), data["period"].code, f.received, f.first_reports, f.repeats, f.routed,
          f.routed_in_time, round(f.routed_share, 4) if f.routed_share is not None else None,
          f.leads_taken, f.leads_decided, f.cases_opened, f.cases_closed, f.cases_open,
          f.overdue, f.late_in_period] for f in rows])

    def breakdown(title, attr, vocab):
        codes = list(vocab)
        return Sheet(title, [_("Region"), *[label(vocab, c) if isinstance(vocab, dict)
                                            else c for c in codes]],
                     [[name(f), *[getattr(f, attr).get(c, 0) for c in codes]] for f in rows])

    return [summary,
            breakdown(_("By channel"), "by_channel", CHANNELS),
            breakdown(_("By category"), "by_category", CATEGORIES),
            breakdown(_("Leads by way"), "leads_by_way", WAYS),
            breakdown(_("Cases by outcome"), "closed_by_outcome", OUTCOMES),
            breakdown(_("Open cases by stage"), "open_by_stage",
                      {code: s.label for code, s in STAGES.items()}),
            breakdown(_("Overdue clocks"), "overdue_by_kind",
                      {k: clock_label(k) for k in KINDS})]


def widget_counts(user, day: dt.date | None = None) -> dict | None:
    """The dashboard widget's figures for ``user``'s statistics regions: clocks overdue and
    near (within the yellow horizon), and open alerts of skipped procedures or missing
    gate materials. None when the user sees no statistics."""
    from core.api import Alert, add_workdays
    from plugins.cases.vocab import YELLOW_DAYS
    regions = stat_regions(user)
    if not regions:
        return None
    day = day or today()
    ids = [r.id for r in regions]
    running = Clock.region.in_(ids) & Clock.done_on.is_null() & Clock.stopped_since.is_null()
    return {
        "overdue": Clock.select().where(running & (Clock.due_on < day)).count(),
        "near": Clock.select().where(running & (Clock.due_on >= day)
                                     & (Clock.due_on <= add_workdays(day, YELLOW_DAYS)))
        .count(),
        "gates": Alert.select().where((Alert.kind == "cases.gate.irregular")
                                      & (Alert.state != "resolved")
                                      & Alert.region.in_(ids)).count(),
    }

