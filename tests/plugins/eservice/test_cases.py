"""The case (办件) state machine, deadlines in working days, ID numbers and events."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from core.api import FieldError
from plugins.eservice import cases, catalogue
from plugins.eservice.models import Case, CaseEvent, Item
from tests.plugins.eservice.conftest import VALID_ID, by, item_spec

MON = dt.date(2026, 3, 2)


def file(item, clerk, **kw):
    received = [m.id for m in item.materials if m.required]
    return cases.file_case(item, applicant_name="张三", id_number=VALID_ID,
                           phone="13800000000", received=kw.pop("received", received),
                           user=clerk, **kw)


def test_item_versions_keep_history(app, org, item):
    assert item.code == "51010400ZF-XK-0001"
    spec = item_spec(org["dept_a"], committed_days=4, effective_from=dt.date(2026, 6, 1))
    new = catalogue.revise_item(item.code, spec)
    old = Item.get_by_id(item.id)
    assert (old.status, old.effective_to, new.version, new.status) == \
        ("superseded", dt.date(2026, 6, 1), 2, "active")
    assert catalogue.current_item(item.code).id == new.id
    assert catalogue.next_item_code(org["dept_a"], "XK") == "51010400ZF-XK-0002"


def test_committed_limit_cannot_exceed_statutory(app, org):
    with pytest.raises(FieldError) as err:
        catalogue.create_item(item_spec(org["dept_a"], committed_days=21))
    assert err.value.field == "committed_days"
    assert Item.select().count() == 0


def test_check_constraint_in_database(app, org, item):
    import peewee as pw

    from core.db import db
    with pytest.raises(pw.IntegrityError), db.atomic():
        Item.update(committed_days=99).where(Item.id == item.id).execute()


def test_serial_is_readable_unique_and_checked(app, item, clerk):
    a = file(item, clerk, on=MON)
    b = file(item, clerk, on=MON)
    assert a.serial.startswith("510104-20260302-0001-")
    assert b.serial.startswith("510104-20260302-0002-")
    assert cases.valid_serial(a.serial)
    wrong = a.serial[:-1] + ("A" if a.serial[-1] != "A" else "B")
    assert not cases.valid_serial(wrong)


@pytest.mark.parametrize("number,fragment", [
    ("11010519491231002Y", "17 digits"),
    ("110105194912310021", "check character"),
    ("110105194902300023", "not a real date"),
    ("1101051949123100", "18 characters"),
])
def test_id_number_rejected_with_reason(app, item, clerk, number, fragment):
    with pytest.raises(FieldError) as err:
        cases.file_case(item, applicant_name="李四", id_number=number, user=clerk)
    assert err.value.field == "id_number"
    assert fragment in str(err.value)
    assert Case.select().count() == 0


def test_id_number_and_phone_normalised(app, item, clerk):
    case = cases.file_case(item, applicant_name="李四", id_number="11010519491231002x ",
                           phone="+86 138-0013-8000", user=clerk)
    case = Case.get_by_id(case.id)
    assert (case.id_number, case.id_mask, case.applicant_phone) == \
        (VALID_ID, "1101**********002X", "13800138000")
    with pytest.raises(FieldError) as err:
        cases.file_case(item, applicant_name="李四", id_number=VALID_ID, phone="15400000000",
                        user=clerk)
    assert err.value.field == "phone" and "154" in str(err.value)


def test_id_number_and_phone_encrypted_at_rest(app, item, clerk, settings):
    from core.db import db
    case = file(item, clerk)
    assert case.id_mask == "1101**********002X"
    id_enc, phone_enc = db.execute_sql(
        f"SELECT id_enc, phone_enc FROM eservice_case WHERE id = {db.obj.param}",
        [case.id]).fetchone()
    assert id_enc.startswith("ql1:0:aes-256-gcm:") and VALID_ID not in id_enc
    assert phone_enc.startswith("ql1:0:aes-256-gcm:") and "13800000000" not in phone_enc
    fresh = Case.get_by_id(case.id)
    assert (fresh.id_number, fresh.applicant_phone) == (VALID_ID, "13800000000")
    if settings.database_url.startswith("sqlite"):
        db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        raw = settings.database_url.removeprefix("sqlite:///")
        blob = Path(raw).read_bytes()
        assert VALID_ID.encode() not in blob
        assert VALID_ID[:17].encode() not in blob
        assert b"13800000000" not in blob


def full_path(item, clerk):
    """Walk a case from filing to closed through every kind of step."""
    case = file(item, clerk, on=MON)
    case = cases.transition(case, "accept", user=clerk, on=MON)
    case = cases.transition(case, "request_supplement", user=clerk, on=MON,
                            missing=["营业执照复印件", "场所平面图"], reason="复印件不清晰")
    case = cases.transition(case, "receive_supplement", user=clerk, on=MON)
    case = cases.transition(case, "start_review", user=clerk, on=MON)
    case = cases.transition(case, "suspend", user=clerk, on=MON, procedure="inspection",
                            reason="现场核查", expected_days=3)
    case = cases.transition(case, "resume", user=clerk, on=MON)
    case = cases.transition(case, "advance", user=by("advance", clerk), on=MON)
    case = cases.transition(case, "decide", user=by("decide", clerk), on=MON, decision="approved")
    case = cases.transition(case, "deliver", user=clerk, on=MON)
    return cases.transition(case, "close", user=clerk, on=MON)


def test_full_path_records_timeline_audit_and_events(app, item, clerk, events):
    from core.audit.models import AuditEvent
    case = full_path(item, clerk)
    assert case.state == "closed"
    names = [n for n, _p in events]
    assert names == [f"eservice.case.{e}" for e in (
        "submitted", "accepted", "supplement_requested", "supplement_received",
        "step_started", "suspended", "resumed", "step_completed", "step_started",
        "step_completed", "decided", "delivered", "closed")]
    timeline = list(CaseEvent.select().where(CaseEvent.case == case.id).order_by(CaseEvent.id))
    assert len(timeline) == 13
    assert all(e.post_title == "窗口受理员" for e in timeline if e.actor_name == "clerk1")
    # the steps are completed by the holders of their posts, named with the post
    assert [(e.event, e.post_title) for e in timeline if e.actor_name != "clerk1"] == [
        ("step_completed", "审查员"), ("step_started", "审查员"), ("step_completed", "局长"),
        ("decided", "局长")]
    actions = {a.action for a in AuditEvent.select()}
    assert {"eservice.case.accepted", "eservice.case.decided", "eservice.case.closed"} <= actions
    payload = dict(events)["eservice.case.supplement_requested"]
    assert payload["missing_materials"] == ["营业执照复印件", "场所平面图"]
    assert payload["case"]["item_code"] == item.code
    assert payload["case"]["handler"]["post_title"] == "窗口受理员"
    assert payload["case"]["committed_limit_days"] == 5
    assert payload["case"]["fee_due"] == "0.00"
    started = [p for n, p in events if n == "eservice.case.step_started"]
    assert [p["step"]["code"] for p in started] == ["review", "decide"]
    suspended = dict(events)["eservice.case.suspended"]
    assert suspended["procedure"] == {"kind": "inspection", "expected_days": 3}


ALL_ACTIONS = list(cases.TRANSITIONS)


def case_in(state, item, clerk):
    """A case brought to ``state`` the regular way."""
    case = file(item, clerk, on=MON)
    paths = {
        "submitted": [],
        "accepted": [("accept", {})],
        "not_accepted": [("not_accept", {"reason": "不属于本机关职权", "rights_notice": "可复议"})],
        "supplement_requested": [("accept", {}), ("request_supplement", {"missing": ["x"]})],
        "supplement_received": [("accept", {}), ("request_supplement", {"missing": ["x"]}),
                                ("receive_supplement", {})],
        "in_review": [("accept", {}), ("start_review", {})],
        "suspended": [("accept", {}), ("start_review", {}),
                      ("suspend", {"procedure": "hearing", "reason": "听证",
                                   "expected_days": 5})],
        "decided": [("accept", {}), ("start_review", {}), ("advance", {}),
                    ("decide", {"decision": "approved"})],
        "delivered": [("accept", {}), ("start_review", {}), ("advance", {}),
                      ("decide", {"decision": "approved"}), ("deliver", {})],
        "closed": [("accept", {}), ("start_review", {}), ("advance", {}),
                   ("decide", {"decision": "approved"}), ("deliver", {}), ("close", {})],
    }
    for action, kw in paths[state]:
        case = cases.transition(case, action, user=by(action, clerk, item.department), on=MON,
                                **kw)
    assert case.state == state
    return case


ALLOWED = {
    "submitted": {"accept", "not_accept", "request_supplement"},
    "accepted": {"start_review", "request_supplement"},
    "not_accepted": {"close"},
    "supplement_requested": {"receive_supplement"},
    "supplement_received": {"start_review"},
    "in_review": {"advance", "suspend", "request_supplement"},
    "suspended": {"resume"},
    "decided": {"deliver"},
    "delivered": {"close"},
    "closed": set(),
}


@pytest.mark.parametrize("state", list(ALLOWED))
def test_every_refused_transition_changes_nothing(app, item, clerk, state):
    case = case_in(state, item, clerk)
    assert set(cases.allowed_actions(case)) == ALLOWED[state]
    before = (Case.get_by_id(case.id).state, CaseEvent.select().count())
    for action in ALL_ACTIONS:
        if action in ALLOWED[state]:
            continue
        with pytest.raises(FieldError) as err:
            cases.transition(case, action, user=clerk, on=MON, reason="r",
                             rights_notice="n", missing=["m"], decision="approved",
                             procedure="hearing", expected_days=2, amount="5")
        assert "cannot be moved" in str(err.value)
        assert (Case.get_by_id(case.id).state, CaseEvent.select().count()) == before


def test_supplement_received_before_acceptance_allows_decision_on_acceptance(app, item, clerk):
    case = file(item, clerk, on=MON, received=[])
    with pytest.raises(FieldError) as err:
        cases.transition(case, "accept", user=clerk, on=MON)
    assert "Required materials are missing" in str(err.value)
    case = cases.transition(case, "request_supplement", user=clerk, on=MON,
                            missing=["食品经营许可申请书", "营业执照复印件"])
    case = cases.transition(case, "receive_supplement", user=clerk, on=MON)
    assert set(cases.allowed_actions(case)) == {"accept", "not_accept"}
    case = cases.transition(case, "accept", user=clerk, on=MON)
    assert case.accepted_on == MON and case.stopped_days == 0
    # one list of everything missing: a second request is refused
    with pytest.raises(FieldError):
        cases.transition(case, "request_supplement", user=clerk, on=MON, missing=["y"])


def test_required_inputs(app, item, clerk):
    case = file(item, clerk, on=MON)
    with pytest.raises(FieldError) as err:
        cases.transition(case, "not_accept", user=clerk, on=MON, reason="no")
    assert err.value.field == "rights_notice"
    with pytest.raises(FieldError) as err:
        cases.transition(case, "request_supplement", user=clerk, on=MON, missing=[" "])
    assert err.value.field == "missing"
    case = case_in("in_review", item, clerk)
    with pytest.raises(FieldError) as err:
        cases.transition(case, "suspend", user=clerk, on=MON, procedure="hearing",
                         reason="x")
    assert err.value.field == "expected_days"
    case = cases.transition(case, "advance", user=by("advance", clerk), on=MON)
    with pytest.raises(FieldError) as err:
        cases.transition(case, "decide", user=by("decide", clerk), on=MON, decision="denied")
    assert err.value.field == "reason"
    case = cases.transition(case, "decide", user=by("decide", clerk), on=MON, decision="denied",
                            reason="不符合条件", legal_basis="第三十五条")
    assert case.decision == "denied"


def test_fee_charged_recorded(app, org, clerk, events):
    item = catalogue.create_item(item_spec(org["dept_a"], fee_amount="12.50",
                                           fee_basis="发改价格〔2020〕1号"))
    case = case_in("decided", item, clerk)
    case = cases.transition(case, "charge_fee", user=clerk, on=MON, amount="12.50")
    assert case.state == "decided" and str(case.fee_charged) == "12.50"
    payload = dict(events)["eservice.case.fee_charged"]
    assert payload["fee_charged"] == "12.50" and payload["case"]["fee_due"] == "12.50"


def test_deadline_across_spring_festival_with_stopped_time(app, org, clerk):
    # 2026: 15-23 Feb off, Sat 14 and Sat 28 Feb working days.
    item = catalogue.create_item(item_spec(org["dept_a"], committed_days=5))
    fri = dt.date(2026, 2, 13)
    case = file(item, clerk, on=fri)
    case = cases.transition(case, "accept", user=clerk, on=fri)
    # working days after Fri 13: Sat 14, Tue 24, Wed 25, Thu 26, Fri 27
    assert case.deadline == dt.date(2026, 2, 27)
    case = cases.transition(case, "start_review", user=clerk, on=dt.date(2026, 2, 14))
    assert cases.remaining_days(case, dt.date(2026, 2, 14)) == 4
    case = cases.transition(case, "suspend", user=clerk, on=dt.date(2026, 2, 24),
                            procedure="expert_review", reason="专家评审", expected_days=2)
    # stopped: the remaining days freeze whatever the day
    assert cases.remaining_days(case, dt.date(2026, 3, 20)) == 3
    case = cases.transition(case, "resume", user=clerk, on=dt.date(2026, 2, 26))
    # two working days stopped (25, 26) -> Sat 28 Feb (working), Mon 2 Mar
    assert case.stopped_days == 2
    assert case.deadline == dt.date(2026, 3, 2)
    assert not cases.is_overdue(case, dt.date(2026, 3, 2))
    assert cases.is_overdue(case, dt.date(2026, 3, 3))


def test_deadline_across_national_day(app, org, clerk):
    # 2026: 1-7 Oct off, Sun 20 Sep and Sat 10 Oct working days, Fri 25 Sep off.
    item = catalogue.create_item(item_spec(org["dept_a"], committed_days=10))
    day = dt.date(2026, 9, 18)  # Friday
    case = file(item, clerk, on=day)
    case = cases.transition(case, "accept", user=clerk, on=day)
    # Sun 20, 21-24 (Fri 25 Mid-Autumn off), 28, 29, 30 Sep, Thu 8, Fri 9 Oct
    assert case.deadline == dt.date(2026, 10, 9)
    case = cases.transition(case, "request_supplement", user=clerk,
                            on=dt.date(2026, 9, 29), missing=["补充材料"])
    case = cases.transition(case, "receive_supplement", user=clerk,
                            on=dt.date(2026, 10, 10))
    # stopped working days after 29 Sep up to Sat 10 Oct: 30 Sep, 8, 9 and 10 Oct
    assert case.stopped_days == 4
    assert case.deadline == dt.date(2026, 10, 14)  # + Sat 10, 12, 13, 14 Oct


def test_one_deadline_rule_for_page_worklist_and_widget(app, org, clerk):
    """Overdue means the day the clock stands at is past the deadline: today while it
    runs, the day it stopped while stopped, the decision day once decided. The SQL form
    the dashboard widget counts with selects exactly the cases the rule calls overdue."""
    item = catalogue.create_item(item_spec(org["dept_a"], committed_days=4))
    fri = dt.date(2026, 3, 6)

    def accepted(day):
        case = cases.transition(file(item, clerk, on=day), "accept", user=clerk, on=day)
        return cases.transition(case, "start_review", user=clerk, on=day)
    running = accepted(MON)  # Mon 2 Mar + 4 working days: Fri 6 Mar
    stopped = cases.transition(accepted(MON), "suspend", user=clerk,
                               on=dt.date(2026, 3, 4), procedure="expert_review",
                               reason="专家评审", expected_days=5)
    def decided(day):
        case = cases.transition(accepted(MON), "advance", user=by("advance", clerk), on=day)
        return cases.transition(case, "decide", user=by("decide", clerk), on=day, decision="approved")
    late, early = decided(dt.date(2026, 3, 9)), decided(fri)
    assert {c.deadline for c in (running, stopped, late, early)} == {fri}
    sat = dt.date(2026, 3, 7)
    want = {running.id: True, stopped.id: False, late.id: True, early.id: False}
    assert {c.id: cases.is_overdue(c, sat) for c in (running, stopped, late, early)} == want
    counted = {c.id for c in Case.select().where(cases.overdue_condition(sat))}
    assert counted == {cid for cid, over in want.items() if over}
    # the Saturday after a Friday deadline: no working day late yet, but overdue (red)
    assert cases.remaining_days(running, sat) == 0
    assert cases.urgency(running, 0, sat) == "red"
    assert cases.urgency(late, cases.remaining_days(late, sat), sat) == "red"
    assert cases.urgency(early, cases.remaining_days(early, sat), sat) == "neutral"
    stopped_left = cases.remaining_days(stopped, sat)
    assert stopped_left == 2 and cases.urgency(stopped, stopped_left, sat) == "yellow"
    many = cases.remaining_many([running, stopped, late, early], sat)
    assert many == {c.id: cases.remaining_days(c, sat) for c in (running, stopped, late, early)}
    assert cases.remaining_days(late, dt.date(2026, 4, 1)) == -1  # frozen at the decision
