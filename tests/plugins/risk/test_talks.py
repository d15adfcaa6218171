"""Talks with the self-analysis due in 5 working days (the National Day holiday not
counted) and the overdue alert; notices numbered per region and year from their
templates, printable, rectification reported and sent back (the warning one level up);
accountability records; the pages."""
from __future__ import annotations

import datetime as dt

import pytest

from core.alerts.models import Alert
from core.api import AccessDenied, FieldError
from plugins.risk import talks
from plugins.risk import warnings as warn
from plugins.risk.errors import RiskError
from plugins.risk.models import Accountability, Talk
from tests.plugins.risk import web_b

client_for = web_b.client_for  # the fixture


def talk_data(unit, **extra):
    data = {"person": unit["official_person"].id, "post": unit["land"].id,
            "kind": "admonishment", "held_on": "2026-09-29", "talker": "纪委书记",
            "content": "就项目变更手续问题进行诫勉谈话"}
    data.update(extra)
    return data


def test_a_talk_and_its_overdue_self_analysis(unit):
    sup = unit["reviewer"]
    with pytest.raises(FieldError) as err:
        talks.record_talk(sup, talk_data(unit, kind="chat"))
    assert err.value.field == "kind"
    with pytest.raises(FieldError) as err:
        talks.record_talk(sup, talk_data(unit, held_on="2026-02-30"))
    assert err.value.field == "held_on"
    with pytest.raises(AccessDenied):
        talks.record_talk(unit["clerk"], talk_data(unit))
    assert Talk.select().count() == 0
    talk = talks.record_talk(sup, talk_data(unit))
    # Tue 29 Sep + 5 working days skip the 1–8 October holiday (as the register's measures)
    assert talk.submission_due == dt.date(2026, 10, 12)
    assert talks.overdue_talks(dt.date(2026, 10, 12)) == 0
    assert talks.overdue_talks(dt.date(2026, 10, 13)) == 1
    assert talks.overdue_talks(dt.date(2026, 10, 14)) == 0  # once
    alert = Alert.get(Alert.kind == "risk.talk.overdue")
    assert alert.target_user_id == unit["official"].id and alert.ref == f"risk.talk:{talk.id}"
    with pytest.raises(FieldError) as err:
        talks.submit(unit["official"], talk, {"self_analysis": "x", "pledge": "",
                                              "corrections": "y"})
    assert err.value.field == "pledge"
    with pytest.raises(AccessDenied):
        talks.submit(unit["clerk"], talk, {})
    sub = talks.submit(unit["official"], talk, {"self_analysis": "剖析", "pledge": "承诺",
                                                "corrections": "整改"})
    assert sub.via == "online"
    with pytest.raises(RiskError):
        talks.submit(unit["official"], Talk.get_by_id(talk.id), {})


def test_the_submission_days_are_configurable(unit, org, make_user):
    from plugins.risk import config
    config.save(make_user("city", role="supervisor", region=org["city"]),
                "talk_submission_days", 2)
    talk = talks.record_talk(unit["reviewer"], talk_data(unit, held_on="2026-10-12"))
    assert talk.submission_due == dt.date(2026, 10, 14)


def test_notices_numbered_and_a_failed_rectification_raises_the_warning(unit, org,
                                                                          make_user):
    sup = unit["reviewer"]
    w = warn.manual(sup, {"target": "post", "post": unit["land"].id, "subject": "变更未报批"})
    n1 = talks.issue_notice(sup, {"kind": "disposal", "department": unit["dept"].id,
                                  "post": unit["land"].id, "warning": w.id,
                                  "matter": "规划设计变更未经集体研究"}, on=dt.date(2026, 9, 29))
    n2 = talks.issue_notice(sup, {"kind": "disposal", "department": unit["dept"].id,
                                  "matter": "第二件"}, on=dt.date(2026, 9, 30))
    n3 = talks.issue_notice(sup, {"kind": "prevention", "department": unit["dept"].id,
                                  "matter": "防控"}, on=dt.date(2026, 9, 30))
    assert (n1.number, n2.number, n3.number) == (1, 2, 1)
    assert n1.doc_number == "险处〔2026〕1号" and n3.doc_number == "险防〔2026〕1号"
    assert "规划设计变更未经集体研究" in n1.body and "土地整治项目负责人" in n1.body
    from core.api import add_workdays
    assert n1.rectification_due == add_workdays(dt.date(2026, 9, 29), 15) \
        > dt.date(2026, 9, 29) + dt.timedelta(days=21)  # the holiday is not counted
    b_sup = make_user("b_sup", role="supervisor", region=org["b"])
    with pytest.raises(AccessDenied):
        talks.issue_notice(b_sup, {"kind": "disposal", "department": unit["dept"].id,
                                   "matter": "x"})
    with pytest.raises(RiskError):
        talks.assess(sup, n1, True, "")
    n1 = talks.report(unit["clerk"], n1, "已整改")
    with pytest.raises(FieldError) as err:
        talks.assess(sup, n1, False, "")
    assert err.value.field == "note"
    n1 = talks.assess(sup, n1, False, "整改不到位", on=dt.date(2026, 10, 22))
    assert (n1.state, n1.attempts, n1.rectification_due) == (
        "issued", 2, add_workdays(dt.date(2026, 10, 22), 15))
    from plugins.risk.models import RiskWarning
    assert RiskWarning.get_by_id(w.id).level == "red"
    n1 = talks.assess(sup, talks.report(unit["clerk"], n1, "再次整改"), True, "")
    assert n1.state == "accepted"


def test_accountability(unit):
    sup = unit["reviewer"]
    with pytest.raises(FieldError) as err:
        talks.record_accountability(sup, {"kind": "party", "person": unit[
            "official_person"].id, "measure": "警告", "basis": "x", "decided_on": "2099-01-01"})
    assert err.value.field == "decided_on"
    row = talks.record_accountability(sup, {
        "kind": "party", "person": unit["official_person"].id, "post": unit["land"].id,
        "measure": "党内警告", "basis": "违反工作纪律", "decided_on": "2026-10-20",
        "decided_by": "区纪委"})
    assert (row.person_name, row.region_id) == ("黄耘成", unit["region"].id)
    assert Accountability.select().count() == 1


def test_pages(unit, client_for, org, make_user):
    sup = client_for(unit["reviewer"])
    resp = sup.post("/risk/talks/new", data=talk_data(unit))
    assert resp.status_code == 303
    talk = Talk.get()
    assert sup.get("/risk/talks/").status_code == 200
    assert sup.post("/risk/talks/new", data=talk_data(unit, kind="x")).status_code == 422
    official = client_for(unit["official"])
    page = official.get(f"/risk/talks/{talk.id}")
    assert page.status_code == 200 and "就项目变更手续问题" in page.text
    resp = official.post(f"/risk/talks/{talk.id}/submit", data={
        "self_analysis": "剖析", "pledge": "承诺", "corrections": "整改"})
    assert resp.status_code == 303
    resp = sup.post("/risk/talks/notices/new", data={"kind": "prevention",
                                                     "department": unit["dept"].id,
                                                     "matter": "防控事项"})
    assert resp.status_code == 303
    from plugins.risk.models import Notice
    n = Notice.get()
    page = sup.get(f"/risk/talks/notices/{n.id}")
    assert page.status_code == 200 and n.doc_number in page.text
    resp = sup.post("/risk/talks/accountability/new", data={
        "kind": "organisational", "person": unit["official_person"].id, "measure": "通报批评",
        "basis": "依据", "decided_on": "2026-10-20"})
    assert resp.status_code == 303
    outsider = client_for(make_user("b_sup", role="supervisor", region=org["b"]))
    assert outsider.get(f"/risk/talks/{talk.id}").status_code == 404
    assert outsider.get(f"/risk/talks/notices/{n.id}").status_code == 404
    assert n.doc_number not in outsider.get("/risk/talks/").text
