"""Daily supervision findings and the monthly efficiency evaluation, by hand."""
from __future__ import annotations

import datetime as dt
import io

import pytest

from core.alerts.models import Alert
from plugins.esupervision import evaluation as ev_mod
from plugins.esupervision import letters
from plugins.esupervision.models import (
    EvaluationRun,
    EvaluationScore,
    Signal,
    SuggestionLetter,
)


@pytest.fixture
def march(feed, events, org, make_user):
    """Two March 2026 cases of 锦江区政务服务局: one early (rated 5), one late; a major
    finding; the late case's red signal raised in March."""
    early, late = events(committed=10), events(committed=3)
    feed(early.make("submitted", "2026-03-02 09:00"), early.make("accepted", "2026-03-02 10:00"),
         early.make("decided", "2026-03-05 10:00", decision="approved"),
         early.make("evaluated", "2026-03-06 10:00", rating=5),
         late.make("submitted", "2026-03-02 09:00"), late.make("accepted", "2026-03-02 10:00"),
         late.make("decided", "2026-03-10 10:00", decision="approved"))
    Signal.update(raised_at=dt.datetime(2026, 3, 10, 3, 0)).execute()
    sup = make_user("sup", role="supervisor", region=org["city"])
    ev_mod.record_finding(sup, org["dept_a"], dt.date(2026, 3, 12), "process",
                          "窗口未公示收费标准", "major")
    return sup


def test_scores_by_hand(march, org):
    run = ev_mod.evaluate("2026-03", march)
    dept = EvaluationScore.get((EvaluationScore.run == run)
                               & (EvaluationScore.department == org["dept_a"]))
    assert (dept.decided, dept.on_time_rate, dept.early_rate) == (2, 50.0, 50.0)
    assert dept.time_ratio == pytest.approx(1.15)  # (3 + 6) / (10 + 3) per case, averaged
    assert (dept.efficiency, dept.abnormal, dept.supervision, dept.public) == (40, 90, 95, 100)
    assert dept.bonus == 5 and dept.total == pytest.approx(77.25) and dept.rank == 1
    regions = {s.label: s.total for s in EvaluationScore.select().where(
        (EvaluationScore.run == run) & (EvaluationScore.level == "region"))}
    assert regions == {"锦江区": pytest.approx(77.25), "成都市": pytest.approx(77.25)}
    assert Alert.select().where(Alert.kind == letters.KIND).count() == 0


def test_rerun_is_a_new_version_and_low_scores_get_a_suggestion(march, org):
    first = ev_mod.evaluate("2026-03", march)
    ev_mod.set_config(dict(ev_mod.DEFAULTS, suggestion_below=80, red_points=20), march)
    second = ev_mod.evaluate("2026-03", march)
    assert (first.version, second.version) == (1, 2)
    old = EvaluationScore.get((EvaluationScore.run == first) & (EvaluationScore.level ==
                                                                "department"))
    new = EvaluationScore.get((EvaluationScore.run == second) & (EvaluationScore.level ==
                                                                 "department"))
    assert old.total == pytest.approx(77.25) and old.suggestion == ""
    assert new.abnormal == 80 and new.total == pytest.approx(74.25)
    letter = SuggestionLetter.get(SuggestionLetter.department == org["dept_a"])
    assert new.suggestion == letter.number and letter.total == pytest.approx(74.25)
    to_department = Alert.get((Alert.kind == letters.KIND)
                              & (Alert.target_department == org["dept_a"]))
    assert to_department.ref == f"esupervision.letter:{letter.id}"
    assert ev_mod.department_history(org["dept_a"].id)["totals"] == [pytest.approx(74.25)]


def test_bad_input_is_refused(march, org):
    with pytest.raises(ev_mod.EvaluationError, match="month"):
        ev_mod.evaluate("2026-13", march)
    with pytest.raises(ev_mod.EvaluationError, match="add up to 100"):
        ev_mod.set_config(dict(ev_mod.DEFAULTS, weight_public=50), march)
    with pytest.raises(ev_mod.EvaluationError, match="severity"):
        ev_mod.record_finding(march, org["dept_a"], dt.date(2026, 3, 1), "process", "x", "huge")
    assert EvaluationRun.select().count() == 0


def test_scheduled_job_runs_last_month_once(march):
    run = ev_mod.scheduled(dt.date(2026, 4, 1))
    assert run.month == "2026-03" and run.created_by == "schedule"
    assert ev_mod.scheduled(dt.date(2026, 4, 1)) is None


def test_pages_and_xlsx(client, login, march, org, csrf_token):
    from openpyxl import load_workbook
    login(march)
    token = csrf_token("/esupervision/evaluation")
    resp = client.post("/esupervision/evaluation/run", data={"csrf_token": token,
                                                             "month": "2026-03"})
    assert resp.status_code == 303
    run = EvaluationRun.get()
    html = client.get(f"/esupervision/evaluation/{run.id}").get_data(as_text=True)
    assert "锦江区政务服务局" in html and "77.2" in html
    xlsx = client.get(f"/esupervision/evaluation/{run.id}.xlsx")
    assert xlsx.status_code == 200
    wb = load_workbook(io.BytesIO(xlsx.data))
    rows = list(wb.worksheets[0].iter_rows(values_only=True))
    assert rows[1][1] == "锦江区政务服务局" and rows[1][2] == pytest.approx(77.25)
    data = client.get(f"/esupervision/evaluation/departments/{org['dept_a'].id}.json").get_json()
    assert data["months"] == ["2026-03"]
    assert client.post("/esupervision/evaluation/run",
                       data={"csrf_token": token, "month": "March"}).status_code == 422
    resp = client.post("/esupervision/findings", data={
        "csrf_token": token, "department": org["dept_b"].id, "day": "2026-03-20",
        "category": "fees", "severity": "minor", "description": "收费公示不全"})
    assert resp.status_code == 303
    assert "收费公示不全" in client.get("/esupervision/findings").get_data(as_text=True)
    bad = client.post("/esupervision/findings", data={
        "csrf_token": token, "department": org["dept_b"].id, "day": "",
        "category": "fees", "severity": "minor", "description": "x"})
    assert bad.status_code == 422


def test_accountability_records_feed_the_evaluation(march, org):
    from plugins.esupervision import supervision as sv
    from plugins.esupervision.models import Accountability
    sc = sv.verify(sv.open_case(Signal.get(), march), march, "confirmed", "属实")
    from core.org.models import Person
    sv.record_accountability(sc, march, Person.get(Person.name == "受理员a").id, "办结超期",
                             "通报批评")
    Accountability.update(recorded_at=dt.datetime(2026, 3, 20, 2, 0)).execute()
    run = ev_mod.evaluate("2026-03", march)
    dept = EvaluationScore.get((EvaluationScore.run == run)
                               & (EvaluationScore.department == org["dept_a"]))
    assert (dept.accountability, dept.supervision) == (1, 85)  # 100 - 5 (finding) - 10
    assert dept.total == pytest.approx(75.75)


def test_a_county_supervisor_cannot_run_the_city_wide_evaluation(march, org, make_user):
    county = make_user("sup_b", role="supervisor", region=org["b"])
    from core.errors import AccessDenied
    with pytest.raises(AccessDenied, match="whole city"):
        ev_mod.evaluate("2026-03", county)
    assert EvaluationRun.select().count() == 0


def test_evaluation_xlsx_is_formula_safe(client, login, march, org, csrf_token):
    from openpyxl import load_workbook

    from core.org.models import Department
    Department.update(name="=HYPERLINK(\"http://evil.invalid\")").where(
        Department.id == org["dept_a"].id).execute()
    login(march)
    client.post("/esupervision/evaluation/run",
                data={"csrf_token": csrf_token("/esupervision/evaluation"), "month": "2026-03"})
    run = EvaluationRun.get()
    xlsx = client.get(f"/esupervision/evaluation/{run.id}.xlsx")
    cells = [c for row in load_workbook(io.BytesIO(xlsx.data)).worksheets[0].iter_rows()
             for c in row if isinstance(c.value, str) and c.value.startswith("=")]
    assert cells and all(c.data_type == "s" for c in cells)


def test_findings_dated_outside_the_calendar_or_in_the_future_are_refused(app, org,
                                                                          make_user):
    """Issue 11 defect 6: a finding dated 9999 or 1899 (or tomorrow) is refused naming
    the day, nothing stored; an evaluation of month 9999-12 is refused, not a 500."""
    from core.api import today
    from plugins.esupervision.models import InspectionFinding
    sup = make_user("sup", role="supervisor", region=org["city"])
    for day in (dt.date(9999, 12, 31), dt.date(1899, 12, 31),
                today() + dt.timedelta(days=1)):
        with pytest.raises(ev_mod.EvaluationError, match="^day: "):
            ev_mod.record_finding(sup, org["dept_a"], day, "process", "x", "minor")
    assert InspectionFinding.select().count() == 0
    for month in ("9999-12", "1899-12", "2026-13", "２０２６-03x"):
        with pytest.raises(ev_mod.EvaluationError, match="^month: "):
            ev_mod.evaluate(month, sup)
    assert EvaluationRun.select().count() == 0
