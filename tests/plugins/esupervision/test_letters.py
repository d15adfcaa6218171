"""Suggestion letters (监察建议书): numbered documents to someone real, a reply the
department itself enters, reviewed by the supervisor and tracked to its deadline."""
from __future__ import annotations

import datetime as dt

import pytest

from core.alerts.models import Alert, InboxItem
from core.alerts.outbox import dispatch
from core.api import today
from core.org.models import Department, Person
from plugins.esupervision import evaluation as ev_mod
from plugins.esupervision import letters
from plugins.esupervision.models import EvaluationScore, Signal, SuggestionLetter
from tests.conftest import _csrf


def person(name):
    return Person.get(Person.name == name)


@pytest.fixture
def low(feed, events, org, make_user):
    """March 2026: 锦江区政务服务局 decides one case late (red signal), 青羊区's decides one
    on time; a threshold of 95 makes 锦江 low. 青羊区纪委监委 decides nothing."""
    late, fine = events(committed=3), events(committed=10, region_code="510105")
    feed(late.make("submitted", "2026-03-02 09:00"), late.make("accepted", "2026-03-02 10:00"),
         late.make("decided", "2026-03-10 10:00", decision="approved"),
         fine.make("submitted", "2026-03-02 09:00"), fine.make("accepted", "2026-03-02 10:00"),
         fine.make("decided", "2026-03-04 10:00", decision="approved"))
    Signal.update(raised_at=dt.datetime(2026, 3, 10, 3, 0)).execute()
    sup = make_user("sup", role="supervisor", region=org["city"])
    ev_mod.set_config(dict(ev_mod.DEFAULTS, suggestion_below=95), sup)
    ev_mod.record_finding(sup, org["sup_b"], dt.date(2026, 3, 12), "process", "台账不全",
                          "minor")
    return sup


def test_a_low_score_sends_a_numbered_letter_to_the_head(low, org, make_user):
    head = make_user("head_a", "staff", org["a"], person=person("局长a"))
    run = ev_mod.evaluate("2026-03", low)
    letter = SuggestionLetter.get(SuggestionLetter.department == org["dept_a"])
    year = today().year
    assert letter.number == f"锦纪建〔{year}〕1号" and letter.level == "department"
    assert letter.addressee == "局长a" and letter.state == "issued"
    assert "2026-03" in letter.body and "10 working days" in letter.body
    region = SuggestionLetter.get(SuggestionLetter.level == "region")
    assert region.department_id == org["sup_a"].id and region.number == f"成纪建〔{year}〕1号"
    assert region.addressee == "主任a"
    # the department that decided nothing is listed, not ranked, and gets no letter
    idle = EvaluationScore.get((EvaluationScore.run == run)
                               & (EvaluationScore.department == org["sup_b"]))
    assert idle.rank == 0 and idle.suggestion == ""
    assert not SuggestionLetter.select().where(SuggestionLetter.department == org["sup_b"]).exists()
    # delivered: the head has it in the inbox; the issuing office has a copy
    dispatch()
    alert = Alert.get((Alert.ref == f"esupervision.letter:{letter.id}")
                      & (Alert.target_department == org["dept_a"]))
    assert InboxItem.select().where((InboxItem.alert == alert.id)
                                    & (InboxItem.user == head.id)).exists()
    assert letter.number in alert.subject and "锦江区政务服务局" in alert.subject
    assert Alert.select().where((Alert.ref == alert.ref)
                                & (Alert.target_department == org["sup_a"])).exists()
    # a second letter in the same region and year takes the next number
    ev_mod.evaluate("2026-03", low)
    numbers = sorted(x.number for x in SuggestionLetter.select().where(
        SuggestionLetter.issuer_region == org["a"]))
    assert numbers == [f"锦纪建〔{year}〕1号", f"锦纪建〔{year}〕2号"]


def test_the_department_replies_and_the_supervisor_reviews(low, org, make_user, app, login):
    ev_mod.evaluate("2026-03", low)
    letter = SuggestionLetter.get(SuggestionLetter.department == org["dept_a"])
    liaison = make_user("liaison_a", "department_liaison", org["a"], person=person("受理员a"))
    other = make_user("liaison_b", "department_liaison", org["b"], person=person("受理员b"))
    with pytest.raises(letters.LetterError):
        letters.reply(letter, other, "不是本部门")
    with pytest.raises(letters.LetterError):
        letters.reply(letter, low, "监察机关不能代填")
    letter = letters.reply(letter, liaison, "已逐件复核超期办件，调整审查环节时限。")
    assert (letter.state, letter.replied_by) == ("replied", "liaison_a")
    with pytest.raises(letters.LetterError):
        letters.reply(letter, liaison, "再交一次")
    returned = letters.review(letter, low, False, "缺少责任追究情况")
    assert returned.state == "returned" and returned.reply_due > today()
    letters.reply(returned, liaison, "补充：已对承办人诫勉谈话。")
    closed = letters.review(SuggestionLetter.get_by_id(letter.id), low, True, "整改到位")
    assert closed.state == "accepted"
    open_alerts = Alert.select().where((Alert.ref == f"esupervision.letter:{letter.id}")
                                       & (Alert.state != "resolved"))
    assert open_alerts.count() == 0


def test_letter_pages(low, org, make_user, app, login):
    ev_mod.evaluate("2026-03", low)
    letter = SuggestionLetter.get(SuggestionLetter.department == org["dept_a"])
    liaison = make_user("liaison_a", "department_liaison", org["a"], person=person("受理员a"))
    c = app.test_client()
    login(liaison, c=c)
    page = c.get(f"/esupervision/letters/{letter.id}").get_data(as_text=True)
    assert letter.number in page and "局长a" in page and "data-print" in page
    assert 'name="reply"' in page
    assert letter.number in c.get("/esupervision/letters").get_data(as_text=True)
    other = SuggestionLetter.get(SuggestionLetter.level == "region")
    assert c.get(f"/esupervision/letters/{other.id}").status_code == 404
    token = _csrf(c, "/esupervision/letters")
    assert c.post(f"/esupervision/letters/{letter.id}/reply",
                  data={"csrf_token": token, "reply": ""}).status_code == 422
    resp = c.post(f"/esupervision/letters/{letter.id}/reply",
                  data={"csrf_token": token, "reply": "已整改"})
    assert resp.status_code == 303
    assert SuggestionLetter.get_by_id(letter.id).state == "replied"
    assert c.get("/esupervision/evaluation").status_code == 403  # a liaison, not a supervisor
    s = app.test_client()
    login(low, c=s)
    page = s.get(f"/esupervision/letters/{letter.id}").get_data(as_text=True)
    assert "已整改" in page and 'name="decision"' in page and 'name="reply"' not in page
    runs = s.get("/esupervision/evaluation").get_data(as_text=True)
    assert "esupervision/evaluation/" in runs


def test_an_unanswered_letter_escalates_after_its_deadline(low, org):
    from plugins.esupervision.sweep import sweep
    ev_mod.evaluate("2026-03", low)
    letter = SuggestionLetter.get(SuggestionLetter.department == org["dept_a"])
    sweep(letter.reply_due)
    assert not Alert.select().where(Alert.kind == letters.OVERDUE_KIND).exists()
    sweep(letter.reply_due + dt.timedelta(days=1))
    mine = (Alert.kind == letters.OVERDUE_KIND) & (Alert.ref == f"esupervision.letter:{letter.id}")
    late = list(Alert.select().where(mine))
    assert {a.target_department_id for a in late} == {org["dept_a"].id, org["sup_a"].id}
    assert late[0].level == "red" and letter.number in late[0].subject
    sweep(letter.reply_due + dt.timedelta(days=2))
    assert Alert.select().where(mine).count() == 2


def test_a_rectification_demand_is_reported_by_the_department(low, org, make_user, app,
                                                              login):
    from plugins.esupervision import supervision as sv
    sc = sv.verify(sv.open_case(Signal.get(), low), low, "confirmed", "属实")
    sc = sv.demand_rectification(sc, low, "说明超期原因并整改", 5)
    liaison = make_user("liaison_a", "department_liaison", org["a"], person=person("受理员a"))
    c = app.test_client()
    login(liaison, c=c)
    assert "说明超期原因并整改" in c.get("/esupervision/letters").get_data(as_text=True)
    token = _csrf(c, f"/esupervision/rectification/{sc.id}")
    resp = c.post(f"/esupervision/rectification/{sc.id}",
                  data={"csrf_token": token, "r-report": "已补办并调整时限"})
    assert resp.status_code == 303
    sc = sc.get_by_id(sc.id)
    assert (sc.state, sc.reported_by, sc.reported_on_paper) == ("reported", "liaison_a", False)
    assert c.get(f"/esupervision/supervision/{sc.id}").status_code == 403
    stranger = make_user("liaison_b", "department_liaison", org["b"], person=person("受理员b"))
    d = app.test_client()
    login(stranger, c=d)
    assert d.get(f"/esupervision/rectification/{sc.id}").status_code == 404
    assert Department.get_by_id(org["dept_a"].id).name == "锦江区政务服务局"


def test_issuers_whose_names_start_alike_number_apart(app, org):
    """成都市 and 成华区 share their first character: each issuer's code is the shortest
    start of its name no other region shares, so their 〔year〕n号 never collide."""
    from core.org.models import Region
    chenghua = Region.create(code="510108", name="成华区", level="district",
                             parent=org["city"], sort=3)
    assert letters.prefix(org["a"]) == "锦纪建"
    assert (letters.prefix(org["city"]), letters.prefix(chenghua)) == ("成都纪建", "成华纪建")
