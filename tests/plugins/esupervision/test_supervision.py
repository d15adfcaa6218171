"""Supervision cases (督办): verify → rectify → report → close; overdue escalates;
accountability (问责); audited and scoped by region."""
from __future__ import annotations

import datetime as dt

import pytest

from core.alerts.models import Alert
from core.api import Region, supervision_office
from core.audit.models import AuditEvent
from core.org.models import Person
from plugins.esupervision import supervision as sv
from plugins.esupervision.models import Accountability, SupervisionCase


def test_full_flow_with_accountability(red_signal, make_user, org):
    sup = make_user("sup", role="supervisor", region=org["city"])
    sc = sv.open_case(red_signal, sup)
    with pytest.raises(sv.SupervisionError, match="already"):
        sv.open_case(red_signal, sup)
    with pytest.raises(sv.SupervisionError, match="verify"):
        sv.demand_rectification(sc, sup, "退费", 5)
    sc = sv.verify(sc, sup, "confirmed", "收费凭证属实")
    # demanded on Fri Apr 3 2026: 5 working days skip the Qingming holiday -> Apr 13
    sc = sv.demand_rectification(sc, sup, "退还违规收费", 5, today=dt.date(2026, 4, 3))
    assert (sc.state, sc.rectification_due) == ("rectifying", dt.date(2026, 4, 13))
    sc = sv.report_rectification(sc, sup, "已退费并整改")
    sc = sv.close(sc, sup, "整改到位")
    assert sc.state == "closed"
    clerk = Person.get(Person.name == "受理员a")
    row = sv.record_accountability(sc, sup, clerk.id, "违规收费", "诫勉谈话")
    assert (row.person_id, row.person_name) == (clerk.id, "受理员a")
    assert Accountability.select().count() == 1
    actions = {a.action for a in AuditEvent.select().where(
        AuditEvent.action.startswith("esupervision.supervision")
        | AuditEvent.action.startswith("esupervision.accountability"))}
    assert actions == {"esupervision.supervision.open", "esupervision.supervision.verify",
                       "esupervision.supervision.demand", "esupervision.supervision.report",
                       "esupervision.supervision.close", "esupervision.accountability.record"}


def test_dismissal_needs_a_reason_and_closes(red_signal, make_user, org):
    sup = make_user("sup", role="supervisor", region=org["a"])
    sc = sv.open_case(red_signal, sup)
    with pytest.raises(sv.SupervisionError, match="reason"):
        sv.verify(sc, sup, "dismissed", " ")
    sc = sv.verify(sc, sup, "dismissed", "系统录入错误，已核实未收费")
    assert sc.state == "dismissed"
    with pytest.raises(sv.SupervisionError, match="confirmed"):
        sv.record_accountability(sc, sup, Person.get(Person.name == "受理员a").id, "x", "y")


def test_other_region_may_not_supervise(red_signal, make_user, org):
    outsider = make_user("sup_b", role="supervisor", region=org["b"])
    with pytest.raises(sv.SupervisionError, match="region"):
        sv.open_case(red_signal, outsider)


def test_overdue_rectification_escalates_once(red_signal, make_user, org):
    sup = make_user("sup", role="supervisor", region=org["city"])
    sc = sv.verify(sv.open_case(red_signal, sup), sup, "confirmed", "属实")
    sv.demand_rectification(sc, sup, "退费", 2, today=dt.date(2026, 4, 2))  # due Apr 7
    assert sv.escalate_overdue(dt.date(2026, 4, 7)) == []
    assert len(sv.escalate_overdue(dt.date(2026, 4, 8))) == 1
    assert sv.escalate_overdue(dt.date(2026, 4, 9)) == []
    alerts = Alert.select().where(Alert.kind == sv.OVERDUE_KIND)
    assert {a.target_department_id for a in alerts} == {org["dept_a"].id, org["sup_a"].id}
    assert SupervisionCase.get().escalated_at is not None


def test_pages_walk_the_flow_and_hide_other_regions(app, client, login, make_user, org,
                                                   red_signal, csrf_token):
    login(make_user("sup", role="supervisor", region=org["a"]))
    case_page = client.get(f"/esupervision/cases/{red_signal.case_id}").get_data(as_text=True)
    assert "Open supervision case" in case_page
    token = csrf_token(f"/esupervision/cases/{red_signal.case_id}")
    resp = client.post(f"/esupervision/signals/{red_signal.id}/supervise",
                       data={"csrf_token": token})
    assert resp.status_code == 303
    sc = SupervisionCase.get()
    url = f"/esupervision/supervision/{sc.id}"
    bad = client.post(url + "/verify", data={"csrf_token": token, "v-finding": "dismissed",
                                             "v-reason": ""})
    assert bad.status_code == 422 and "reason" in bad.get_data(as_text=True)
    assert client.post(url + "/verify", data={"csrf_token": token, "v-finding": "confirmed",
                                              "v-reason": "属实"}).status_code == 303
    assert client.post(url + "/demand", data={"csrf_token": token, "d-demand": "退费",
                                              "d-days": "0"}).status_code == 422
    assert client.post(url + "/demand", data={"csrf_token": token, "d-demand": "退费",
                                              "d-days": "5"}).status_code == 303
    assert client.post(url + "/report", data={"csrf_token": token,
                                              "r-report": "已整改"}).status_code == 303
    assert client.post(url + "/close", data={"csrf_token": token}).status_code == 303
    assert SupervisionCase.get().state == "closed"
    assert "closed" in client.get("/esupervision/supervision").get_data(as_text=True)
    other = app.test_client()
    login(make_user("sup_b", role="supervisor", region=org["b"]), c=other)
    assert other.get(url).status_code == 404


def test_closing_resolves_the_signals_alerts_with_the_note(red_signal, make_user, org):
    """The handler's and the office's alerts of a supervised signal, and the
    rectification's, are resolved with the closing note when the case closes; a dismissal
    resolves them with its reason."""
    from plugins.esupervision.alerting import alert_pending
    from plugins.esupervision.sweep import sweep
    alert_pending()
    sup = make_user("sup", role="supervisor", region=org["city"])
    signal_alerts = Alert.select().where(Alert.dedupe_key.startswith(red_signal.dedupe_key))
    assert signal_alerts.count() == 2 and {a.state for a in signal_alerts} == {"open"}
    sc = sv.verify(sv.open_case(red_signal, sup), sup, "confirmed", "属实")
    sc = sv.demand_rectification(sc, sup, "退还违规收费", 1, today=dt.date(2026, 3, 2))
    sweep(dt.date(2026, 3, 10))  # overdue: escalated to the department and the office
    overdue = {a.target_department_id: a.ref for a in
               Alert.select().where(Alert.kind == sv.OVERDUE_KIND)}
    office = supervision_office(Region.get_by_id(sc.region_id)).id
    # each copy links to a page its reader can open: the department's to its report page
    assert overdue == {sc.department_id: f"esupervision.rectification:{sc.id}",
                       office: f"esupervision.supervision:{sc.id}"}
    sc = sv.close(sv.report_rectification(sc, sup, "已退费"), sup, "整改到位，已退费")
    alerts = list(Alert.select().where(Alert.dedupe_key.startswith(red_signal.dedupe_key)
                                       | (Alert.kind == sv.OVERDUE_KIND)))
    assert len(alerts) == 4 and {a.state for a in alerts} == {"resolved"}
    assert all("整改到位，已退费" in a.resolution_note for a in alerts)
    assert {a.resolved_by_id for a in alerts} == {sup.id}


def test_dismissal_resolves_the_alerts_with_its_reason(red_signal, make_user, org):
    from plugins.esupervision.alerting import alert_pending
    alert_pending()
    sup = make_user("sup", role="supervisor", region=org["city"])
    sv.verify(sv.open_case(red_signal, sup), sup, "dismissed", "系统录入错误")
    alerts = list(Alert.select().where(Alert.dedupe_key.startswith(red_signal.dedupe_key)))
    assert {a.state for a in alerts} == {"resolved"}
    assert all("系统录入错误" in a.resolution_note for a in alerts)
