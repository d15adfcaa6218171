"""Post warnings: each rule (a measure past its working-day deadline across the National
Day holiday, a review overdue, a rectification overdue) warns once through the alert bus;
manual warnings by a supervisor; acknowledge, handle with a note, escalate; region scope;
the pages."""
from __future__ import annotations

import datetime as dt

import pytest

from core.alerts.models import Alert
from core.api import AccessDenied, FieldError
from plugins.risk import warnings as warn
from plugins.risk.errors import RiskError
from plugins.risk.models import Measure, Notice, Point, RiskWarning
from tests.plugins.risk import web_b

client_for = web_b.client_for  # the fixture


def test_a_measure_past_its_deadline_warns_once_the_holiday_counted(approved, unit):
    """In force on Tue 29 Sep 2026, M1 (5 working days) is due Mon 12 Oct: the holiday
    of 1–8 October is not counted, so nothing is overdue on 12 October."""
    assert warn.sweep(dt.date(2026, 10, 9)) == {"measure_overdue": 0, "review_overdue": 0,
                                                "rectification_overdue": 0}
    assert warn.sweep(dt.date(2026, 10, 12))["measure_overdue"] == 0
    counts = warn.sweep(dt.date(2026, 10, 13))
    assert counts["measure_overdue"] == 1
    w = RiskWarning.get(RiskWarning.source == "measure_overdue")
    assert (w.target, w.post_id, w.level, w.state) == ("post", unit["land"].id, "yellow",
                                                       "open")
    alert = Alert.get_by_id(w.alert_id)
    assert (alert.kind, alert.level, alert.target_post_id) == ("risk.warning", "yellow",
                                                               unit["land"].id)
    assert alert.ref == f"risk.warning:{w.id}"
    assert warn.sweep(dt.date(2026, 10, 14))["measure_overdue"] == 0  # once
    assert warn.sweep(dt.date(2026, 10, 20))["measure_overdue"] == 1  # M2 due 19 Oct
    Measure.update(status="done").execute()
    assert warn.sweep(dt.date(2026, 10, 30))["measure_overdue"] == 0


def test_a_review_overdue_and_a_rectification_overdue(approved, unit):
    point = Point.get(Point.register == approved)
    Measure.update(status="done").execute()
    assert point.next_review == dt.date(2026, 12, 29)
    assert warn.sweep(dt.date(2026, 12, 29))["review_overdue"] == 0
    assert warn.sweep(dt.date(2026, 12, 30))["review_overdue"] == 1
    w = RiskWarning.get(RiskWarning.source == "review_overdue")
    assert (w.level, w.point_id) == ("blue", point.id)
    assert Alert.get_by_id(w.alert_id).level == "reminder"
    notice = Notice.create(region=unit["region"], department=unit["dept"], kind="disposal",
                           year=2026, number=1, doc_number="甲纪险〔2026〕1号", title="风险处置通知书",
                           body="…", issued_on=dt.date(2026, 9, 30), issued_by="x",
                           rectification_days=5, rectification_due=dt.date(2026, 10, 13))
    assert warn.sweep(dt.date(2026, 10, 13))["rectification_overdue"] == 0
    assert warn.sweep(dt.date(2026, 10, 14))["rectification_overdue"] == 1
    w = RiskWarning.get(RiskWarning.source == "rectification_overdue")
    assert (w.target, w.department_id, w.level) == ("department", unit["dept"].id, "red")
    assert Alert.get_by_id(w.alert_id).target_department_id == unit["dept"].id
    assert Notice.get_by_id(notice.id).overdue_at is not None


def test_a_manual_warning_and_its_handling(unit):
    sup = unit["reviewer"]
    with pytest.raises(FieldError) as err:
        warn.manual(sup, {"target": "post", "post": unit["land"].id, "subject": " "})
    assert err.value.field == "subject"
    with pytest.raises(FieldError) as err:
        warn.manual(sup, {"target": "post", "post": "１２", "subject": "x"})
    assert err.value.field == "post"
    with pytest.raises(FieldError) as err:
        warn.manual(sup, {"target": "post", "post": unit["land"].id, "subject": "x",
                          "level": "purple"})
    assert err.value.field == "level"
    assert RiskWarning.select().count() == 0
    w = warn.manual(sup, {"target": "person", "person": unit["official_person"].id,
                          "subject": "群众反映项目变更手续不全", "detail": "来信核查"})
    assert (w.source, w.level, w.target, w.department_id) == ("manual", "yellow", "person",
                                                              unit["land"].department_id)
    assert Alert.get_by_id(w.alert_id).target_user_id == unit["official"].id
    with pytest.raises(AccessDenied):
        warn.acknowledge(unit["clerk"], w)  # staff hold no warning grant
    w = warn.acknowledge(sup, w)
    assert (w.state, w.acknowledged_by) == ("acknowledged", "county_sup")
    assert Alert.get_by_id(w.alert_id).state == "acknowledged"
    w = warn.escalate(sup, w, "情节较重")
    assert (w.level, w.escalations) == ("red", 1)
    alerts = list(Alert.select().where(Alert.ref == f"risk.warning:{w.id}").order_by(Alert.id))
    assert [(a.level, a.state) for a in alerts] == [("yellow", "resolved"), ("red", "open")]
    with pytest.raises(RiskError, match="highest"):
        warn.escalate(sup, w)
    with pytest.raises(FieldError) as err:
        warn.handle(sup, w, "")
    assert err.value.field == "note"
    w = warn.handle(sup, w, "已约谈并督促补办手续")
    assert (w.state, w.handling_note) == ("handled", "已约谈并督促补办手续")
    assert Alert.get_by_id(w.alert_id).state == "resolved"
    with pytest.raises(RiskError):
        warn.handle(sup, w, "again")


def test_a_county_grant_covers_only_its_county(unit, org, make_user):
    other = make_user("county_b_sup", role="supervisor", region=org["b"])
    with pytest.raises(AccessDenied):
        warn.manual(other, {"target": "post", "post": unit["land"].id, "subject": "x"})


def test_pages(unit, client_for, org, make_user):
    sup = unit["reviewer"]
    w = warn.manual(sup, {"target": "post", "post": unit["land"].id, "subject": "例行检查发现问题"})
    client = client_for(sup)
    page = client.get("/risk/warnings/")
    assert page.status_code == 200 and "例行检查发现问题" in page.text
    assert client.get(f"/risk/warnings/{w.id}").status_code == 200
    assert client.get("/risk/warnings/new").status_code == 200
    assert client.get("/risk/warnings/levels.css").text.count(".risk-level-") == 3
    resp = client.post(f"/risk/warnings/{w.id}/handle", data={"note": ""})
    assert resp.status_code == 422
    resp = client.post(f"/risk/warnings/{w.id}/acknowledge")
    assert resp.status_code == 303
    resp = client.post(f"/risk/warnings/{w.id}/handle", data={"note": "已处置"})
    assert resp.status_code == 303 and RiskWarning.get_by_id(w.id).state == "handled"
    resp = client.post("/risk/warnings/new", data={"target": "department",
                                                   "department": unit["dept"].id,
                                                   "subject": "专项检查", "level": "blue"})
    assert resp.status_code == 303
    outsider = client_for(make_user("b_sup", role="supervisor", region=org["b"]))
    assert outsider.get(f"/risk/warnings/{w.id}").status_code == 404
    assert "例行检查发现问题" not in outsider.get("/risk/warnings/?state=all").text
