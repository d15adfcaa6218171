"""Escalation (升级督办) of stalled cases and absent handlers to the unit head by SMS.

A monitored case that is open and has had no event for a number of working days (the
``CASE_STALLED`` setting, default 3) is *stalled*; an open case whose handler's account is
disabled, or whose handler post has nobody holding it today, has its *handler absent*.
Either raises a red alert (red goes to every channel the recipient has, SMS included) to
the head of the case's department, one open alert per case and reason: the queries
skip the cases whose alert is still open, so a later sweep raises nothing.
"""
from __future__ import annotations

import datetime as dt
import operator
from functools import reduce

from peewee import Value

from core.api import (
    Alert,
    Post,
    PostHolding,
    Region,
    User,
    add_workdays,
    db,
    emit,
    local_day,
    subtract_workdays,
    supervision_office,
    utc_midnight,
    workdays_between,
)
from plugins.esupervision import regional, wording
from plugins.esupervision.models import MonitoredCase

STALLED_KIND = "esupervision.case.stalled"
ABSENT_KIND = "esupervision.case.handler_absent"
STALLED_CODE = "CASE_STALLED"
ABSENT_CODE = "HANDLER_ABSENT"
STALL_STATUSES = ("received", "accepted")
OPEN_STATUSES = ("received", "accepted", "stopped")
LIMIT = 2000  # per sweep and reason: a backlog drains over the next sweeps


def _not_alerted(kind: str):
    """Cases without an open alert of ``kind`` (its dedupe key is ``kind:case id``)."""
    open_keys = (Alert.select(Alert.dedupe_key)
                 .where((Alert.kind == kind) & Alert.open_key.is_null(False)))
    return Value(f"{kind}:").concat(MonitoredCase.id.cast("text")).not_in(open_keys)


def last_quiet_day(today: dt.date, days: int) -> dt.date:
    """The latest day whose events are at least ``days`` working days before ``today``
    (``days`` calendar days back at most, further back over holidays)."""
    return add_workdays(subtract_workdays(today, days), 1) - dt.timedelta(days=1)


def stalled_cases(today: dt.date, quiet: list[tuple[int, object]],
                  limit: int = LIMIT) -> list[tuple[MonitoredCase, int]]:
    """Open cases whose last event is at least as many working days before ``today`` as
    their region's setting and that have no open stalled alert, with the working days
    elapsed. ``quiet``: ``[(days, condition on the case's region or None for all)]``, one
    per distinct setting, checked in one query."""
    late = []
    for days, where in quiet:
        before = utc_midnight(last_quiet_day(today, days) + dt.timedelta(days=1))
        term = MonitoredCase.last_event_at < before
        late.append(term if where is None else term & where)
    rows = (MonitoredCase.select()
            .where(MonitoredCase.status.in_(STALL_STATUSES)
                   & MonitoredCase.last_event_at.is_null(False)
                   & reduce(operator.or_, late) & _not_alerted(STALLED_KIND))
            .order_by(MonitoredCase.id).limit(limit))
    return [(case, workdays_between(local_day(case.last_event_at), today))
            for case in rows]


def absent_handler_cases(today: dt.date, limit: int = LIMIT,
                         where=None) -> list[tuple[MonitoredCase, dict]]:
    """Open cases whose handler account is disabled or whose handler post is vacant, and
    that have no open handler-absent alert (``where``: a further condition), each with
    why: ``{"why": "disabled", "who": username}`` or ``{"why": "vacant", "post": id}``."""
    waiting = MonitoredCase.status.in_(OPEN_STATUSES) & _not_alerted(ABSENT_KIND)
    if where is not None:
        waiting = waiting & where
    disabled = (MonitoredCase.select()
                .join(User, on=(User.username == MonitoredCase.handler_username))
                .where(waiting & (User.active == False))
                .order_by(MonitoredCase.id).limit(limit))
    out = [(case, {"why": "disabled", "who": case.handler_username}) for case in disabled]
    held = (PostHolding.select(PostHolding.post)
            .where((PostHolding.start <= today)
                   & (PostHolding.end.is_null() | (PostHolding.end >= today))))
    vacant = (MonitoredCase.select()
              .join(Post, on=(Post.id == MonitoredCase.handler_post_id))
              .where(waiting & Post.id.not_in(held))
              .order_by(MonitoredCase.id).limit(limit))
    seen = {case.id for case, _ in out}
    out += [(case, {"why": "vacant", "post": case.handler_post_id})
            for case in vacant if case.id not in seen]
    return out


def _target(case: MonitoredCase, cache: dict):
    if case.department_id:
        return case.department_id
    if case.region_id not in cache:
        cache[case.region_id] = supervision_office(Region.get_by_id(case.region_id))
    return cache[case.region_id]


def _raise(kind: str, case: MonitoredCase, words, facts: dict, cache: dict,
           now: dt.datetime | None = None) -> str | None:
    key = f"{kind}:{case.id}"
    target = _target(case, cache)
    if target is None:
        return None
    details = {"serial": case.serial, "source": case.source,
               "department": case.department_name, "item": case.item_name, **facts}
    with db.atomic():
        emit(kind, case.region_id, wording.stored(words, details), target_department=target,
             ref=f"esupervision.case:{case.id}", dedupe_key=key, details=details, now=now)
    return f"red {kind} {case.serial} -> department head"


def escalate_cases(today: dt.date, now: dt.datetime | None = None) -> list[str]:
    """Raise the stalled-case and absent-handler alerts not yet open; lines describing them.

    Each region follows its own settings (``regional.py``), folded into one query per
    reason: a condition on the case's region for each distinct setting."""
    detectors = regional.Detectors()
    lines: list[str] = []
    cache: dict = {}
    quiet = [(days, regional.region_condition(MonitoredCase.region, inside, ids))
             for (on, days), inside, ids in detectors.groups(
                 STALLED_CODE, lambda r: (r.enabled, int(r.params.get("days", 3))))
             if on and days > 0]
    for case, used in (stalled_cases(today, quiet) if quiet else []):
        line = _raise(STALLED_KIND, case, wording.stalled, {"days": used}, cache, now)
        if line:
            lines.append(line)
    absent = [regional.region_condition(MonitoredCase.region, inside, ids)
              for on, inside, ids in detectors.groups(ABSENT_CODE, lambda r: r.enabled)
              if on]
    if absent:
        where = None if any(w is None for w in absent) else reduce(operator.or_, absent)
        for case, why in absent_handler_cases(today, where=where):
            line = _raise(ABSENT_KIND, case, wording.absent, why, cache, now)
            if line:
                lines.append(line)
    return lines
