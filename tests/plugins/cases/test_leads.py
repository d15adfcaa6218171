"""Problem leads: the four ways of disposal, each proposed by the handler with its reason
and the collective decision, approved at the level the person concerned requires."""
from __future__ import annotations

import datetime as dt

import pytest

from core.api import AccessDenied, FieldError


def test_take_up_needs_an_accepted_item_and_links_repeats(world):
    from plugins.cases import intake, leads
    from plugins.cases.models import Item
    item = world.report()
    with pytest.raises(FieldError):
        leads.take_up(world.supervision, item)
    intake.route(world.petition, item, "accept")
    with pytest.raises(AccessDenied):
        leads.take_up(world.petition, item)
    lead = leads.take_up(world.supervision, item)
    assert lead.number == "锦江纪线〔2026〕1号" and lead.summary == item.text
    assert Item.get_by_id(item.id).status == "lead"


def test_talk_or_letter_inquiry_expects_the_answer_in_15_working_days(world, on_day):
    from plugins.cases import leads
    from plugins.cases.clocks import clock_of
    lead = world.lead()
    with pytest.raises(AccessDenied):
        leads.propose(world.leader, lead, "talk", "一般性问题", "会议")
    with pytest.raises(FieldError) as exc:
        leads.propose(world.supervision, lead, "talk", "一般性问题", "")
    assert exc.value.field == "meeting_ref"
    with pytest.raises(FieldError) as exc:
        leads.propose(world.supervision, lead, "other", "x", "会议")
    assert exc.value.field == "way"
    leads.propose(world.supervision, lead, "talk", "反映问题较笼统", "第1次专题会")
    on_day(dt.date(2026, 9, 29))
    assert leads.decide(world.leader, lead, True) is None
    # 9-30, 10-8, 9, 10 (调休), 12…16, 19…23, 26 → the 15th working day
    assert lead.answer_due == dt.date(2026, 10, 26)
    assert clock_of("answer", lead.number).due_on == dt.date(2026, 10, 26)
    on_day(dt.date(2026, 10, 20))
    leads.record_answer(world.supervision, lead, dt.date(2026, 10, 20))
    assert clock_of("answer", lead.number).done_on == dt.date(2026, 10, 20)
    assert lead.status == "open"  # the handler proposes what follows


def test_preliminary_verification_opens_a_case(world):
    from plugins.cases.models import Member
    case = world.case()
    assert case.number == "锦江纪案〔2026〕1号" and case.stage == "verify"
    roles = {(m.user.username, m.role) for m in Member.select().where(Member.case == case.id)}
    assert roles == {("jc_a", "investigator"), ("ld_a", "approver")}


def test_kept_pending_comes_back_for_review(world, on_day):
    from plugins.cases import leads
    from plugins.cases.clocks import clock_of
    lead = world.lead()
    leads.propose(world.supervision, lead, "shelve", "暂不具备核查条件", "第2次专题会")
    on_day(dt.date(2026, 8, 31))
    leads.decide(world.leader, lead, True)
    assert lead.review_on == dt.date(2027, 2, 28)  # six months, the month's last day
    assert clock_of("review", lead.number).due_on == dt.date(2027, 2, 28)
    leads.reopen(world.management, lead, "发现新的证据")
    assert lead.status == "open" and clock_of("review", lead.number).done_on is not None


def test_closed_without_action_closes_the_item_and_owes_the_result(world, on_day):
    from plugins.cases import leads
    from plugins.cases.clocks import clock_of
    lead = world.lead()
    leads.propose(world.supervision, lead, "close", "反映不实", "第4次专题会")
    on_day(dt.date(2026, 9, 29))
    leads.decide(world.leader, lead, True)
    assert lead.status == "closed" and lead.item.status == "closed"
    assert clock_of("result", lead.item.number).due_on == dt.date(2026, 10, 26)


def test_approval_level_follows_the_person_concerned(world):
    from plugins.cases import leads
    lead = world.lead(rank="head", subject_name="某县委书记")
    leads.propose(world.supervision, lead, "verify", "问题线索具体", "常委会")
    with pytest.raises(AccessDenied):
        leads.decide(world.leader, lead, True)  # a leader may not: the commission head
    case = leads.decide(world.head, lead, True)
    assert case is not None


def test_the_proposer_cannot_approve_and_a_send_back_reopens(world, make_user):
    from plugins.cases import leads
    from plugins.cases.models import Member
    lead = world.lead()
    boss = make_user("jc_boss", role="cases_leader", region=world.a)
    Member.create(lead=lead, user=boss, role="handler")
    leads.propose(boss, lead, "close", "不实", "会议")
    with pytest.raises(AccessDenied):
        leads.decide(boss, lead, True)
    leads.decide(world.leader, lead, False, "请补充核查")
    assert lead.status == "open" and lead.way == ""
