"""Time limits (时限) in working days, through the core calendar: routing an item within 5
working days, telling a named reporter of acceptance and of the result within 15, the
written answer of a talk-or-letter inquiry within 15, the review of a lead kept pending,
and each case stage's limit.

A clock runs from ``started_on`` to ``due_on``; a suspension stops it (``stopped_since``)
and its resumption moves the due day on by the working days it stood; ``done_on`` ends
it. The sweep raises a yellow alert once a clock is within ``YELLOW_DAYS`` working days of
its limit and a red one once it is passed (the quarterly report-back's clocks are started
by :func:`plugins.cases.report_back.ensure_clocks` first) — set-based: one indexed query per level, one
batch of alerts, one update. Alerts name the record's number, never its content.
"""
from __future__ import annotations

import datetime as dt

from core.api import (
    AlertSpec,
    Region,
    _,
    add_workdays,
    db,
    deployment_language,
    emit_many,
    supervision_office,
    today,
    utcnow,
    workdays_between,
)
from plugins.cases.models import Clock
from plugins.cases.vocab import YELLOW_DAYS

KINDS = ("route", "ack", "result", "answer", "review", "stage", "report")
YELLOW, RED = "cases.clock.yellow", "cases.clock.red"


def label(kind: str) -> str:
    return {
        "route": _("Route within 5 working days (accept, send up or transfer down)"),
        "ack": _("Tell the named reporter of the acceptance within 15 working days"),
        "result": _("Tell the named reporter of the result within 15 working days"),
        "answer": _("Written answer to the inquiry within 15 working days"),
        "review": _("Review the lead kept pending"),
        "stage": _("Time limit of the case stage"),
        "report": _("Quarterly report-back to the petitions office within 10 working days"),
    }[kind]


def start(region_id: int, kind: str, ref: str, start_day: dt.date, due: dt.date) -> Clock:
    """Start (or restart) the clock ``kind`` of ``ref``."""
    Clock.insert(region=region_id, kind=kind, ref=ref, started_on=start_day,
                 due_on=due).on_conflict(
        conflict_target=[Clock.kind, Clock.ref],
        update={Clock.started_on: start_day, Clock.due_on: due, Clock.done_on: None,
                Clock.stopped_since: None, Clock.yellow_at: None,
                Clock.red_at: None}).execute()
    return Clock.get((Clock.kind == kind) & (Clock.ref == ref))


def start_workdays(region_id: int, kind: str, ref: str, start_day: dt.date,
                   days: int) -> Clock:
    return start(region_id, kind, ref, start_day, add_workdays(start_day, days))


def finish(kind: str, ref: str, day: dt.date) -> None:
    Clock.update(done_on=day).where((Clock.kind == kind) & (Clock.ref == ref)
                                    & Clock.done_on.is_null()).execute()


def suspend(kind: str, ref: str, day: dt.date) -> None:
    Clock.update(stopped_since=day).where(
        (Clock.kind == kind) & (Clock.ref == ref) & Clock.done_on.is_null()
        & Clock.stopped_since.is_null()).execute()


def resume(kind: str, ref: str, day: dt.date) -> Clock | None:
    """Resume a suspended clock: its due day moves on by the working days it stood."""
    clock = Clock.get_or_none((Clock.kind == kind) & (Clock.ref == ref))
    if clock is None or clock.stopped_since is None:
        return clock
    stood = max(0, workdays_between(clock.stopped_since, day))
    clock.due_on = add_workdays(clock.due_on, stood) if stood else clock.due_on
    clock.stopped_since = None
    clock.yellow_at = clock.red_at = None
    clock.save()
    return clock


def extend(kind: str, ref: str, days: int) -> Clock | None:
    clock = Clock.get_or_none((Clock.kind == kind) & (Clock.ref == ref))
    if clock is None:
        return None
    clock.due_on = add_workdays(clock.due_on, days)
    clock.yellow_at = clock.red_at = None
    clock.save()
    return clock


def clock_of(kind: str, ref: str) -> Clock | None:
    return Clock.get_or_none((Clock.kind == kind) & (Clock.ref == ref))


def days_left(clock: Clock, day: dt.date | None = None) -> int:
    """Working days left (negative once passed); a suspended clock stands at its stop."""
    return workdays_between(clock.stopped_since or day or today(), clock.due_on)


def _running():
    return Clock.done_on.is_null() & Clock.stopped_since.is_null()


def due_predicates(day: dt.date):
    """The (yellow, red) predicates of the sweep on ``day``: indexable date comparisons."""
    horizon = add_workdays(day, YELLOW_DAYS)
    yellow = _running() & Clock.yellow_at.is_null() & Clock.red_at.is_null() \
        & (Clock.due_on >= day) & (Clock.due_on <= horizon)
    red = _running() & Clock.red_at.is_null() & (Clock.due_on < day)
    return yellow, red


def sweep(day: dt.date | None = None, batch: int = 5000) -> dict:
    """Raise the yellow alert of each clock near its limit and the red alert of each
    clock past it, once each; returns the counts."""
    day = day or today()
    yellow, red = due_predicates(day)
    out = {"yellow": 0, "red": 0}
    offices: dict[int, object] = {}
    for level, predicate, kind, column in (("yellow", yellow, YELLOW, "yellow_at"),
                                           ("red", red, RED, "red_at")):
        while True:
            with db.atomic():
                # no ORDER BY: with it the planner walks the whole table in id order
                # instead of the (done_on, due_on) index range (4x a count(*) at 200,000
                # open clocks; see bench/cases.py)
                rows = list(Clock.select(Clock.id, Clock.region, Clock.kind, Clock.ref,
                                         Clock.due_on).where(predicate).limit(batch))
                if not rows:
                    break
                regions = {r.id: r for r in Region.select().where(
                    Region.id.in_(sorted({c.region_id for c in rows})))}
                for rid, region in regions.items():
                    if rid not in offices:
                        offices[rid] = supervision_office(region)
                with deployment_language():
                    specs = [AlertSpec(kind, regions[c.region_id],
                                       f"{c.ref}: {label(c.kind)} ({c.due_on.isoformat()})",
                                       target_department=offices[c.region_id],
                                       ref=f"cases.clock:{c.id}",
                                       dedupe_key=f"cases.clock:{level}:{c.kind}:{c.ref}",
                                       details={"due": c.due_on.isoformat(), "kind": c.kind,
                                                "ref": c.ref})
                             for c in rows]
                emit_many(specs)
                Clock.update({getattr(Clock, column): utcnow()}).where(
                    Clock.id.in_([c.id for c in rows])).execute()
            out[level] += len(rows)
            if len(rows) < batch:
                break
    return out


def open_clocks(refs: list[str], done: bool = False) -> list[Clock]:
    """The clocks of these records (running ones only, unless ``done``)."""
    if not refs:
        return []
    query = Clock.select().where(Clock.ref.in_(refs))
    if not done:
        query = query.where(Clock.done_on.is_null())
    return list(query.order_by(Clock.id))
