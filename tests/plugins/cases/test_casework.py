"""Case stages: the gate of every stage (refused naming what is missing, flagged to case
management), the stage's clock over a holiday and a suspension, extension, the
separation of investigation and review, the outcome, and the sweep's yellow and red
alerts."""
from __future__ import annotations

import datetime as dt

import pytest

from core.api import AccessDenied, FieldError

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _doc(world, case, kind, user=None):
    from plugins.cases import casework
    return casework.add_document(user or world.supervision, case, kind, f"{kind}.pdf", PDF)


def test_every_gate_refuses_without_its_documents_and_flags_it(world):
    from core.api import Alert
    from plugins.cases import casework
    from plugins.cases.models import Case
    case = world.case()
    expected = {"verify": ["verify_report"], "filing": ["filing_decision"],
                "investigation": ["investigation_report", "reviewer"],
                "review": ["review_report"],
                "decision": ["sanction_decision", "delivery_receipt"]}
    for stage, gaps in expected.items():
        case = Case.get_by_id(case.id)
        assert case.stage == stage
        assert casework.missing(case) == gaps
        with pytest.raises(FieldError) as exc:
            casework.advance(world.leader, case, outcome="party" if stage == "decision"
                             else "")
        assert exc.value.field == "documents"
        assert Case.get_by_id(case.id).stage == stage  # nothing moved
        flag = Alert.get((Alert.kind == "cases.gate.irregular")
                         & (Alert.dedupe_key == f"cases.gate:{case.id}:{stage}"))
        assert case.number in flag.subject
        for kind in gaps:
            if kind == "reviewer":
                casework.assign(world.management, case, world.reviewer, "reviewer", "移送审理")
            else:
                _doc(world, case, kind, world.reviewer if stage == "review" else None)
        casework.advance(world.leader, case, outcome="party" if stage == "decision" else "")
    case = Case.get_by_id(case.id)
    assert (case.status, case.outcome) == ("closed", "party")
    assert case.lead.status == "closed" and case.lead.item.status == "closed"


def test_decision_needs_its_outcome_and_publishes_it(world, monkeypatch):
    from plugins.cases import casework
    from plugins.cases.models import Case
    events = []
    monkeypatch.setattr(casework, "publish", lambda name, payload: events.append(
        (name, payload)))
    case = world.case()
    Case.update(stage="decision").where(Case.id == case.id).execute()
    case = Case.get_by_id(case.id)
    _doc(world, case, "sanction_decision")
    _doc(world, case, "delivery_receipt")
    with pytest.raises(FieldError) as exc:
        casework.advance(world.leader, case)
    assert exc.value.field == "outcome"
    casework.advance(world.leader, case, outcome="government")
    name, payload = events[-1]
    assert name == "cases.case.decided" and payload["outcome"] == "government"
    assert payload["person"] == "李四" and "礼金" not in repr(payload)


def test_verification_may_close_the_case(world):
    from plugins.cases import casework
    case = world.case()
    _doc(world, case, "verify_report")
    casework.advance(world.leader, case, outcome="none")
    assert case.status == "closed" and case.outcome == "none"


def test_the_stage_clock_over_a_holiday_and_a_suspension(world, on_day):
    from plugins.cases import casework
    from plugins.cases.clocks import clock_of
    from plugins.cases.models import Case
    case = world.case()
    Case.update(stage="filing").where(Case.id == case.id).execute()
    on_day(dt.date(2026, 9, 28))
    _doc(world, Case.get_by_id(case.id), "filing_decision")
    case = casework.advance(world.leader, Case.get_by_id(case.id))
    assert case.stage == "investigation"
    # 120 working days from 2026-09-28 across National Day and the New Year
    from core.api import workdays_between
    assert workdays_between(dt.date(2026, 9, 28), case.stage_due) == 120
    due = case.stage_due
    with pytest.raises(FieldError):  # not suspended
        casework.resume(world.supervision, case)
    with pytest.raises(AccessDenied):
        casework.suspend(world.reviewer, case, "留置对象患病")
    on_day(dt.date(2026, 9, 30))
    casework.suspend(world.supervision, case, "被调查人因病无法配合")
    assert clock_of("stage", case.number).stopped_since == dt.date(2026, 9, 30)
    on_day(dt.date(2026, 10, 12))  # stood 9-30 → 10-12: 10-8, 9, 10, 12 = 4 working days
    casework.resume(world.supervision, case)
    assert workdays_between(due, case.stage_due) == 4
    assert clock_of("stage", case.number).due_on == case.stage_due
    before = case.stage_due
    casework.extend(world.leader, case, "案情复杂")
    assert workdays_between(before, case.stage_due) == 60
    with pytest.raises(FieldError):
        casework.extend(world.leader, case, "再次延长")


def test_stages_that_cannot_be_suspended_or_extended(world):
    from plugins.cases import casework
    from plugins.cases.models import Case
    case = world.case()
    with pytest.raises(FieldError):
        casework.suspend(world.supervision, case, "x")
    Case.update(stage="filing").where(Case.id == case.id).execute()
    with pytest.raises(FieldError):
        casework.extend(world.leader, Case.get_by_id(case.id), "x")


def test_investigation_and_review_are_kept_apart(world):
    from plugins.cases import casework
    case = world.case()
    casework.assign(world.management, case, world.investigator, "investigator", "专案组")
    with pytest.raises(FieldError) as exc:
        casework.assign(world.management, case, world.investigator, "reviewer", "审理")
    assert exc.value.field == "user"
    with pytest.raises(FieldError):  # holds no review role
        casework.assign(world.management, case, world.investigator2, "reviewer", "审理")
    casework.assign(world.management, case, world.reviewer, "reviewer", "审理")
    with pytest.raises(FieldError):
        casework.assign(world.management, case, world.reviewer, "investigator", "x")
    with pytest.raises(AccessDenied):
        casework.assign(world.petition, case, world.investigator2, "investigator", "x")


def test_sweep_raises_yellow_then_red_once(world, on_day):
    from core.api import Alert
    from plugins.cases import clocks
    item = world.report(received_on=dt.date(2026, 9, 29))  # route due 10-12
    assert clocks.sweep(dt.date(2026, 9, 30)) == {"yellow": 0, "red": 0}
    assert clocks.sweep(dt.date(2026, 10, 8)) == {"yellow": 1, "red": 0}  # 3 left
    assert clocks.sweep(dt.date(2026, 10, 9)) == {"yellow": 0, "red": 0}
    out = clocks.sweep(dt.date(2026, 10, 13))
    assert out["red"] == 1
    assert clocks.sweep(dt.date(2026, 10, 14))["red"] == 0
    red = Alert.get(Alert.kind == "cases.clock.red")
    assert item.number in red.subject and "礼金" not in red.subject and "李四" not in red.subject
    # a suspended clock raises nothing
    clocks.suspend("ack", item.number, dt.date(2026, 10, 1))
    assert clocks.sweep(dt.date(2026, 12, 31))["red"] == 0


def test_a_closed_case_or_one_without_a_running_limit_is_neither_suspended_nor_extended(
        world):
    """Found by the fuzz test: extending a case whose stage had no clock was a 500."""
    from plugins.cases import casework
    from plugins.cases.models import Case, Clock, StageLog
    case = world.case()
    Clock.delete().where((Clock.kind == "stage") & (Clock.ref == case.number)).execute()
    logs = StageLog.select().where(StageLog.case == case.id).count()
    with pytest.raises(FieldError) as exc:
        casework.extend(world.leader, Case.get_by_id(case.id), "案情复杂")
    assert exc.value.field == "reason"
    again = Case.get_by_id(case.id)
    assert not again.extended and again.stage_due == case.stage_due
    assert StageLog.select().where(StageLog.case == case.id).count() == logs
    Case.update(status="closed").where(Case.id == case.id).execute()
    for act in (lambda c: casework.suspend(world.supervision, c, "x"),
                lambda c: casework.resume(world.supervision, c),
                lambda c: casework.extend(world.leader, c, "x")):
        with pytest.raises(FieldError, match="closed|关闭|结"):
            act(Case.get_by_id(case.id))
