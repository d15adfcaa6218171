"""Statutory clocks (法定时限) on the later steps: fixing the winner, the result, signing,
publishing and filing the contract, replying to a challenge, deciding a complaint.

A clock is started with its due day (``periods.due``: working days through the core
calendar) when its step becomes due, and stopped when the step is done. The sweep raises
one alert for each clock that runs out, to the buying unit, set-based; the red-flag rules
(CN-SIGN, CN-PUBLISH, CN-RESULT) read the same table.
"""
from __future__ import annotations

import datetime as dt

from core.api import AlertSpec, Department, Region, _, db, emit_many, today, utcnow
from plugins.procurement import periods
from plugins.procurement.models import Clock, Project

KINDS = {
    "winner": "procurement.clock.winner",
    "result": "procurement.clock.result",
    "contract_sign": "procurement.clock.contract_sign",
    "contract_publish": "procurement.clock.contract_publish",
    "contract_file": "procurement.clock.contract_file",
    "challenge_reply": "procurement.clock.challenge_reply",
    "complaint_decision": "procurement.clock.complaint_decision",
}


def start(project: Project, kind: str, ref: str, start_day: dt.date) -> Clock:
    """Start (or restart) the clock ``kind`` of ``ref`` on ``start_day``."""
    due = periods.due(kind, start_day)
    Clock.insert(region=project.region_id, project=project.id, kind=kind, ref=ref,
                 started_on=start_day, due_on=due).on_conflict(
        conflict_target=[Clock.kind, Clock.ref],
        update={Clock.started_on: start_day, Clock.due_on: due, Clock.done_on: None,
                Clock.alerted_at: None}).execute()
    return Clock.get((Clock.kind == kind) & (Clock.ref == ref))


def finish(ref: str, kind: str, day: dt.date) -> None:
    Clock.update(done_on=day).where((Clock.kind == kind) & (Clock.ref == ref)
                                    & Clock.done_on.is_null()).execute()


def label(kind: str) -> str:
    return {
        "winner": _("Fix the winner within 5 working days of the evaluation report"),
        "result": _("Issue the award notice and publish the result within 2 working days"),
        "contract_sign": _("Sign the contract within 30 days of the award notice"),
        "contract_publish": _("Publish the contract within 2 working days of signing"),
        "contract_file": _("File the contract within 7 working days of signing"),
        "challenge_reply": _("Reply to the challenge within 7 working days"),
        "complaint_decision": _("Decide the complaint within 30 working days"),
    }[kind]


def sweep(day: dt.date | None = None) -> int:
    """Raise the alert of every clock that ran out before ``day`` (today) and has none
    yet: one query finds them, one batch raises them, one update marks them."""
    day = day or today()
    with db.atomic():
        rows = list(Clock.select(Clock, Project.number, Project.department, Project.title)
                    .join(Project).where(Clock.done_on.is_null() & (Clock.due_on < day)
                                         & Clock.alerted_at.is_null())
                    .order_by(Clock.id).limit(1000).objects())
        if not rows:
            return 0
        regions = {r.id: r for r in Region.select().where(
            Region.id.in_(sorted({c.region_id for c in rows})))}
        depts = {d.id: d for d in Department.select().where(
            Department.id.in_(sorted({c.department for c in rows})))}
        specs = [AlertSpec(KINDS[c.kind], regions[c.region_id],
                           f"{c.number} {c.title}: {label(c.kind)}",
                           target_department=depts[c.department],
                           ref=f"procurement.clock:{c.id}",
                           dedupe_key=f"procurement.clock:{c.kind}:{c.ref}",
                           details={"due": c.due_on.isoformat(), "kind": c.kind})
                 for c in rows]
        emit_many(specs)
        Clock.update(alerted_at=utcnow()).where(Clock.id.in_([c.id for c in rows])).execute()
    return len(rows)
