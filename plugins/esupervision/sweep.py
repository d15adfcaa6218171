"""The sweep (巡检): set-based evaluation of every open clock, then alerts for new signals.

Two INSERT … SELECT statements turn clocks past their yellow day or their due day into
signals, and two UPDATEs mark those clocks as raised (``yellow_at``/``red_at``, part of
the sweep's indexes), so a second sweep over unchanged data reads only index entries and
inserts nothing (the signals' unique dedupe keys guard it as well); then
each signal not yet alerted goes through ``core.alerts.emit_many`` (in batches) and is
marked alerted in the same transaction. Last, rectifications and suggestion letters not
reported by their deadline escalate, and so do stalled cases and absent handlers
(``escalation.py``).

Settings per region (``regional.py``) enter the statements, not a loop over cases: a red
detector switched off or on by a county becomes a condition on the case's region; the
yellow day of each clock already holds the threshold in force for its case.

The first sweep over a backlog is write-bound, not Python-bound: each new signal is one
row with its index entries and foreign-key checks, and each raised clock one updated row
(on SQLite the marks dirty most pages of the clock table, about 200 MB of WAL for 120,000
clocks among 2,000,000). Its alerts drain ``ALERTS_PER_SWEEP`` at a time.
"""
from __future__ import annotations

import datetime as dt
import operator
from dataclasses import dataclass, field
from functools import reduce

from peewee import Case, Value

from core.api import _, db, deployment_language, is_postgres, utcnow
from core.api import today as current_day
from plugins.esupervision import regional
from plugins.esupervision.detectors import KIND_CODE
from plugins.esupervision.models import Clock, MonitoredCase, Signal

YELLOW_KIND = "esupervision.deadline.yellow"
ALERTS_PER_SWEEP = 2000  # a backlog (e.g. after a backfill) drains over the next minutes


@dataclass
class SweepResult:
    """What one sweep raised."""

    today: dt.date
    yellow: int = 0
    red: int = 0
    alerted: list = field(default_factory=list)
    pending: int = 0


def _key(prefix: str):
    return (Value(prefix).concat(Clock.case.cast("text")).concat(":")
            .concat(Clock.kind).concat(":").concat(Clock.step_seq.cast("text")))


def switched_on(region, detectors: regional.Detectors | None = None):
    """Condition: the clock's overdue detector is on for the case's region (``region``,
    an SQL expression); None when it is off everywhere. Kinds on in every region need no
    region; the others name the regions that differ from the city."""
    detectors = detectors or regional.Detectors()
    everywhere, parts = [], []
    for kind, code in KIND_CODE.items():
        for on, inside, ids in detectors.groups(code, lambda r: r.enabled):
            where = regional.region_condition(region, inside, ids)
            if not on:
                continue
            if where is None:
                everywhere.append(kind)
            else:
                parts.append((Clock.kind == kind) & where)
    if everywhere:
        parts.insert(0, Clock.kind.in_(everywhere))
    return reduce(operator.or_, parts) if parts else None


def overdue_query(today: dt.date, on, now: dt.datetime | None = None, replay: bool = False):
    """Open clocks past their due day (a clock stopped after its due day still counts)
    whose detector is on for the case's region (``on``:
    ``switched_on(MonitoredCase.region)``), as signals raised ``now``."""
    code = Case(Clock.kind, list(KIND_CODE.items()))
    with deployment_language():
        detail = _("past its due day")
    return _in_case_order(
        Clock.select(Clock.case, MonitoredCase.region, Value("red"), code, _key("R:"),
                     Value(detail), Clock.id, Value(now or utcnow()))
        .join(MonitoredCase)
        .where(_overdue(today, replay) & on))


def _in_case_order(query):
    """On PostgreSQL, rows in case order: the join and the foreign-key checks of the new
    signals (one per row, each locking its case and clock) then walk those tables in
    order, which makes the first sweep over a backlog about a fifth faster. SQLite's
    checks are cheap and its sort is not, so it takes the index order."""
    return query.order_by(Clock.case) if is_postgres() else query


def _running(today: dt.date, replay: bool):
    """Clocks open on ``today``: not ended — in a replay of a past day, also those that
    ended after it and had started by it (the live sweep keeps the plain, indexed test)."""
    if not replay:
        return Clock.ended_on.is_null()
    return ((Clock.ended_on.is_null() | (Clock.ended_on > today))
            & (Clock.start_day <= today))


def _overdue(today: dt.date, replay: bool = False):
    """``clocks.is_overdue`` for the open clocks not yet raised, as SQL."""
    return (_running(today, replay) & (Clock.due < today) & Clock.red_at.is_null()
            & (Clock.paused_since.is_null() | (Clock.paused_since > Clock.due)))


def _case_region():
    """The clock's case region, for statements on the clock table alone."""
    return (MonitoredCase.select(MonitoredCase.region)
            .where(MonitoredCase.id == Clock.case))


def _yellow(today: dt.date, replay: bool = False):
    return (_running(today, replay) & (Clock.yellow_on <= today) & Clock.yellow_at.is_null()
            & (Clock.due >= today) & Clock.paused_since.is_null())


def yellow_query(today: dt.date, now: dt.datetime | None = None, replay: bool = False):
    """Open, running clocks past their yellow day but not yet due (the yellow day already
    holds the threshold in force for the case's region and item), as signals raised
    ``now``."""
    with deployment_language():
        detail = _("time limit nearly used")
    return _in_case_order(
        Clock.select(Clock.case, MonitoredCase.region, Value("yellow"),
                     Value("DEADLINE_YELLOW"), _key("Y:"), Value(detail),
                     Clock.id, Value(now or utcnow()))
        .join(MonitoredCase)
        .where(_yellow(today, replay)))


def sweep(today: dt.date | None = None, emit_alerts: bool = True,
          now: dt.datetime | None = None, replay: bool = False) -> SweepResult:
    """Evaluate all open clocks once; raise signals and their alerts. ``now`` (default:
    the current time) stamps them: a replay of past days (the demo, ``replay=True``)
    passes each day's, and counts as open the clocks that were open on that day (ended
    later, started by then)."""
    today = today or current_day()
    result = SweepResult(today)
    detectors = regional.Detectors()
    columns = [Signal.case, Signal.region, Signal.level, Signal.code, Signal.dedupe_key,
               Signal.detail, Signal.clock, Signal.raised_at]
    now = now or utcnow()
    with db.atomic():
        on = switched_on(MonitoredCase.region, detectors)
        if on is not None:
            result.red = _insert(overdue_query(today, on, now, replay), columns)
            Clock.update(red_at=now).where(
                _overdue(today, replay) & switched_on(_case_region(), detectors)).execute()
        result.yellow = _insert(yellow_query(today, now, replay), columns)
        Clock.update(yellow_at=now).where(_yellow(today, replay)).execute()
    if emit_alerts:
        from plugins.esupervision.alerting import alert_pending
        from plugins.esupervision.escalation import escalate_cases
        from plugins.esupervision.letters import escalate_overdue as letters_overdue
        from plugins.esupervision.supervision import escalate_overdue
        result.alerted = (alert_pending(ALERTS_PER_SWEEP, now=now)
                          + escalate_overdue(today, now=now) + letters_overdue(today, now=now)
                          + escalate_cases(today, now=now))
        result.pending = Signal.select().where(Signal.alerted_at.is_null()).count()
    return result


def _insert(query, columns) -> int:
    return Signal.insert_from(query, columns).on_conflict_ignore().as_rowcount().execute()
