"""Clocks (时限) in working days, derived from a case's event history.

Replaying the whole history on every event means nothing drifts: a late or out-of-order
event simply changes the replay. Clocks stop during supplement requests (补正) and
special procedures (特别程序); the stopped working days are added to the due day.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from core.api import add_workdays, local_day, workdays_between

WARNED_KINDS = ("acceptance", "step", "completion", "delivery")


@dataclass
class ClockState:
    """One clock while replaying: start, limit, stopped time, end."""

    kind: str
    step_seq: int
    label: str
    start_day: dt.date
    limit_days: int
    post_id: int | None = None
    stopped_days: int = 0
    paused_since: dt.date | None = None
    ended_on: dt.date | None = None
    due: dt.date | None = None
    yellow_on: dt.date | None = None

    def pause(self, day: dt.date) -> None:
        if self.ended_on is None and self.paused_since is None:
            self.paused_since = max(day, self.start_day)

    def resume(self, day: dt.date) -> None:
        if self.paused_since is not None:
            self.stopped_days += max(0, workdays_between(self.paused_since, day))
            self.paused_since = None

    def end(self, day: dt.date) -> None:
        if self.ended_on is None:
            self.resume(day)
            self.ended_on = day


@dataclass
class Replay:
    """The result of replaying a case: its clocks and facts the detectors read."""

    clocks: dict[tuple[str, int], ClockState] = field(default_factory=dict)
    status: str = "received"
    decision: str = ""
    accepted_at: dt.datetime | None = None
    decided_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None
    rating: int | None = None


def yellow_elapsed(limit: int, share_percent: int, days_left: int) -> int:
    """Working days used when the yellow warning starts: a share of the limit used or
    ``days_left`` left, whichever comes first."""
    by_share = math.ceil(limit * share_percent / 100)
    return max(0, min(by_share, limit - days_left))


def replay(case, events: list, acceptance_days: int = 5,
           delivery_days: int = 10) -> Replay:
    """Replay ``events`` (normalised payload dicts, any order) of ``case`` into clocks."""
    out = Replay()
    clocks = out.clocks
    received = local_day(case.submitted_at)
    clocks[("acceptance", 0)] = ClockState("acceptance", 0, "acceptance", received,
                                           acceptance_days, post_id=case.handler_post_id)
    depth = 0
    suspensions = 0
    for ev in sorted(events, key=lambda e: (e["occurred_at"], e.get("_order", 0))):
        name, when = ev["short"], ev["occurred_at"]
        day = local_day(when)
        open_clocks = [c for c in clocks.values() if c.ended_on is None]
        if name == "accepted":
            clocks[("acceptance", 0)].end(day)
            out.status, out.accepted_at = "accepted", when
            clocks[("completion", 0)] = ClockState(
                "completion", 0, "completion", day, case.committed_limit_days,
                post_id=case.handler_post_id)
        elif name == "not_accepted":
            for c in open_clocks:
                c.end(day)
            out.status = "not_accepted"
        elif name in ("supplement_requested", "suspended"):
            depth += 1
            for c in open_clocks:
                if c.kind in WARNED_KINDS and c.kind != "delivery":
                    c.pause(day)
            if name == "suspended":
                suspensions += 1
                proc = ev.get("procedure")
                if proc and proc.get("expected_days"):
                    clocks[("suspension", suspensions)] = ClockState(
                        "suspension", suspensions, proc.get("kind") or "", day,
                        proc["expected_days"])
            out.status = "stopped"
        elif name in ("supplement_received", "resumed"):
            depth = max(0, depth - 1)
            if name == "resumed" and ("suspension", suspensions) in clocks:
                clocks[("suspension", suspensions)].end(day)
            if depth == 0:
                for c in open_clocks:
                    c.resume(day)
                out.status = "accepted" if out.accepted_at else "received"
        elif name == "step_started":
            step = ev["step"]
            clocks[("step", step["seq"])] = ClockState(
                "step", step["seq"], step.get("name") or step.get("code") or "", day,
                step["limit_days"] or 0, post_id=step.get("post_id") or case.handler_post_id)
            if depth:
                clocks[("step", step["seq"])].pause(day)
        elif name == "step_completed":
            clock = clocks.get(("step", ev["step"]["seq"]))
            if clock is not None:
                clock.end(day)
        elif name == "decided":
            out.decision, out.decided_at, out.status = ev["decision"], when, "decided"
            for c in open_clocks:
                if c.kind in ("acceptance", "completion", "step"):
                    c.end(day)
            if ev["decision"] == "approved":
                clocks[("delivery", 0)] = ClockState("delivery", 0, "delivery", day,
                                                     delivery_days,
                                                     post_id=case.handler_post_id)
        elif name == "delivered":
            if ("delivery", 0) in clocks:
                clocks[("delivery", 0)].end(day)
        elif name == "closed":
            for c in open_clocks:
                c.end(day)
            out.status, out.closed_at = "closed", when
        elif name == "evaluated":
            out.rating = ev["rating"]
    return out


def finish(clock: ClockState, share_percent: int, days_left: int) -> ClockState:
    """Fill the derived days: ``due`` and ``yellow_on`` include the stopped time."""
    clock.due = add_workdays(clock.start_day, clock.limit_days + clock.stopped_days)
    if clock.kind in WARNED_KINDS:
        clock.yellow_on = add_workdays(
            clock.start_day,
            yellow_elapsed(clock.limit_days, share_percent, days_left) + clock.stopped_days)
    else:
        clock.yellow_on = None
    return clock


def elapsed(clock, today: dt.date) -> int:
    """Working days the clock has run by ``today`` (stopped time excluded)."""
    end = clock.ended_on or clock.paused_since or today
    return max(0, workdays_between(clock.start_day, end) - clock.stopped_days)


# -- the overdue rule: one for the sweep (its SQL form is sweep._overdue), the pages and
# the history signals ------------------------------------------------------------------
def stands_at(clock, today: dt.date) -> dt.date:
    """The day a clock stands at: the day it ended, the day it stopped (补正, 特别程序:
    not counted), else ``today``."""
    return clock.ended_on or clock.paused_since or today


def is_overdue(clock, today: dt.date) -> bool:
    """Past its due day: ended after it, stopped after it, or still running after it."""
    return clock.due is not None and stands_at(clock, today) > clock.due


def level(clock, today: dt.date) -> str:
    """What a page shows for a clock: ``red`` (overdue), ``yellow`` (running past its
    yellow day), ``ended``, ``stopped`` or ``running``."""
    if is_overdue(clock, today):
        return "red"
    if clock.ended_on is not None:
        return "ended"
    if clock.paused_since is not None:
        return "stopped"
    if clock.yellow_on is not None and clock.yellow_on <= today:
        return "yellow"
    return "running"
