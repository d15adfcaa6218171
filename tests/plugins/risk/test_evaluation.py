"""Effect evaluation (防控效果评估): each indicator's figure on hand-built data, the
weighted score and rank, immutable versions, the city-wide weights, the XLSX, the pages."""
from __future__ import annotations

import datetime as dt
import io

import pytest

from core.api import AccessDenied, Department, FieldError, Post
from plugins.risk import config, evaluation, talks
from plugins.risk import warnings as warn
from plugins.risk.models import (
    Accountability,
    EducationTask,
    EvaluationRun,
    EvaluationScore,
    Material,
    Measure,
    Point,
    Reminder,
    RiskWarning,
)
from tests.plugins.risk import web_b

client_for = web_b.client_for


def at(day: str, hour: int = 3) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour)


@pytest.fixture
def october(unit, approved, org):
    """County A's bureau in October 2026: 3 posts, 1 covered; 2 measures due (1 on time);
    1 point not overdue for review; 4 warnings (2 handled, 1 escalated) and one in
    November; 3 reminders (1 without a post); 2 talks (1 in September); 1 accountability;
    2 education tasks (1 done). The bureau's supervision office has 1 post, nothing else."""
    point = Point.get(Point.register == approved.id)
    Point.update(next_review=dt.date(2026, 12, 29)).where(Point.id == point.id).execute()
    m1, m2 = Measure.select().where(Measure.point == point.id).order_by(Measure.id)
    Measure.update(due=dt.date(2026, 10, 15), status="done",
                   done_on=dt.date(2026, 10, 14)).where(Measure.id == m1.id).execute()
    Measure.update(due=dt.date(2026, 10, 20), status="done",
                   done_on=dt.date(2026, 10, 22)).where(Measure.id == m2.id).execute()
    land, dept, region = unit["land"], unit["dept"], unit["region"]
    ws = [warn.raise_warning(None, source="manual", target="post", post=land,
                             subject=f"预警{i}") for i in range(5)]
    days = ["2026-10-03", "2026-10-10", "2026-10-20", "2026-10-31", "2026-11-02"]
    for w, day, state, esc in zip(ws, days, ["handled", "handled", "open", "open", "handled"],
                                  [0, 1, 0, 0, 1]):
        RiskWarning.update(raised_at=at(day), state=state, escalations=esc) \
            .where(RiskWarning.id == w.id).execute()
    person = unit["official_person"]
    for i, post in enumerate([land, land, None]):
        Reminder.create(kind="holiday", region=region, person=person, post=post, text="提醒",
                        dedupe_key=f"t{i}", day=dt.date(2026, 10, 5 + i))
    for held in ("2026-10-12", "2026-09-28"):
        talks.record_talk(None, {"person": person.id, "post": land.id, "kind": "admonishment",
                                 "held_on": held, "talker": "书记", "content": "谈话"})
    Accountability.create(region=region, department=dept, person=person, person_name="黄耘成",
                          kind="party", measure="党内警告", basis="违纪",
                          decided_on=dt.date(2026, 10, 20), recorded_by="t")
    material = Material.create(region=region, title="警示教育", kind="case")
    other = Material.create(region=region, title="廉政党课", kind="text")
    EducationTask.create(material=material, person=person, region=region, department=dept,
                         post=land, assigned_on=dt.date(2026, 10, 1), due=dt.date(2026, 10, 16),
                         completed_at=at("2026-10-16", 9))
    EducationTask.create(material=other, person=person, region=region, department=dept,
                         post=land, assigned_on=dt.date(2026, 10, 1), due=dt.date(2026, 10, 30))
    return {"point": point}


def test_each_indicator_and_the_score(october, unit, org):
    run = evaluation.evaluate(None, org["city"], "2026-10")
    row = EvaluationScore.get((EvaluationScore.run == run.id)
                              & (EvaluationScore.department == unit["dept"].id))
    assert (row.posts, row.posts_covered) == (3, 1)
    assert (row.measures_due, row.measures_on_time) == (2, 1)
    assert (row.reviews_due, row.reviews_on_time) == (1, 1)
    assert (row.warnings_raised, row.warnings_handled, row.warnings_escalated) == (4, 2, 1)
    assert (row.reminders, row.talks, row.accountability) == (2, 1, 1)
    assert (row.education_due, row.education_done) == (2, 1)
    parts = evaluation.parts_of(row, run)
    assert parts == {"coverage": 33.33, "measures": 50.0, "reviews": 100.0, "warnings": 50.0,
                     "escalation": 75.0, "education": 50.0}
    # default weights 25/20/15/15/10/15
    assert row.score == pytest.approx((100 / 3 * 25 + 50 * 20 + 100 * 15 + 50 * 15
                                       + 75 * 10 + 50 * 15) / 100, abs=0.01)
    assert row.rank == 1
    office = EvaluationScore.get((EvaluationScore.run == run.id)
                                 & (EvaluationScore.department == org["sup_a"].id))
    assert (office.posts, office.posts_covered, office.score, office.rank) == (1, 0, 0.0, 2)
    county = EvaluationScore.get((EvaluationScore.run == run.id)
                                 & (EvaluationScore.level == "region")
                                 & (EvaluationScore.region == unit["region"].id))
    assert county.reminders == 3 and county.posts == 4 and county.warnings_raised == 4
    city = EvaluationScore.get((EvaluationScore.run == run.id) & (EvaluationScore.level == "region")
                               & (EvaluationScore.region == org["city"].id))
    assert city.posts == Post.select().count() and city.rank == 1
    # the quarter holds the September talk too
    q = evaluation.evaluate(None, org["city"], "2026-q4")
    assert q.period == "2026-Q4"
    assert EvaluationScore.get((EvaluationScore.run == q.id)
                               & (EvaluationScore.department == unit["dept"].id)).talks == 1
    q3 = evaluation.evaluate(None, org["city"], "2026-Q3")
    assert EvaluationScore.get((EvaluationScore.run == q3.id)
                               & (EvaluationScore.department == unit["dept"].id)).talks == 1


def test_weights_change_the_score_and_runs_are_immutable(october, unit, org, make_user):
    first = evaluation.evaluate(None, org["city"], "2026-10")
    before = EvaluationScore.get((EvaluationScore.run == first.id)
                                 & (EvaluationScore.department == unit["dept"].id)).score
    county = unit["reviewer"]
    with pytest.raises(AccessDenied):
        evaluation.save_weights(county, {k: 0 for k in config.WEIGHT_KEYS} | {"coverage": 100})
    city = make_user("city_sup", role="supervisor", region=org["city"])
    with pytest.raises(FieldError) as err:
        evaluation.save_weights(city, {k: 10 for k in config.WEIGHT_KEYS})
    assert err.value.field == "weights"
    with pytest.raises(FieldError) as err:
        evaluation.save_weights(city, {"coverage": "x"})
    assert err.value.field == "weights.coverage"
    evaluation.save_weights(city, {k: 0 for k in config.WEIGHT_KEYS} | {"coverage": 100})
    second = evaluation.evaluate(city, org["city"], "2026-10")
    assert (first.version, second.version) == (1, 2)
    after = EvaluationScore.get((EvaluationScore.run == second.id)
                                & (EvaluationScore.department == unit["dept"].id)).score
    assert after == 33.33
    # the old version reads as it was scored
    old = EvaluationRun.get_by_id(first.id)
    assert old.weights["coverage"] == 25
    assert EvaluationScore.get((EvaluationScore.run == first.id)
                               & (EvaluationScore.department == unit["dept"].id)).score == before
    # a county supervisor evaluates their county only, as its own version chain
    mine = evaluation.evaluate(county, unit["region"], "2026-10")
    assert mine.version == 1
    assert not EvaluationScore.select().where((EvaluationScore.run == mine.id)
                                              & (EvaluationScore.region == org["b"].id)).exists()
    with pytest.raises(AccessDenied):
        evaluation.evaluate(county, org["city"], "2026-10")
    for bad in ("2026-13", "2026-Q5", "26-10", "", "2026-10-01", "9999-01"):
        with pytest.raises(FieldError) as err:
            evaluation.evaluate(None, org["city"], bad)
        assert err.value.field == "period"


def test_the_job_runs_last_month_and_quarter_once(october, org):
    runs = evaluation.scheduled(dt.date(2026, 11, 1))
    assert [r.period for r in runs] == ["2026-10"]
    assert evaluation.scheduled(dt.date(2026, 11, 2)) == []
    assert [r.period for r in evaluation.scheduled(dt.date(2027, 1, 3))] == ["2026-12",
                                                                             "2026-Q4"]


def test_counters(october, unit, org):
    c = evaluation.counters(org["city"].id)
    assert c == {"points": 1, "reminders": 3, "warnings": 5, "talks": 2, "admonishments": 2,
                 "accountable": 1}
    assert evaluation.counters(org["b"].id)["points"] == 0


def test_pages_export_and_refusals(october, unit, org, make_user, client_for):
    city = client_for(make_user("city_sup", role="supervisor", region=org["city"]))
    bad = Department.create(region=unit["region"], code="X1", name="=HYPERLINK(\"x\")")
    Post.create(department=bad, title="岗位")
    before = EvaluationRun.select().count()
    resp = city.post("/risk/evaluation/run", data={"period": "2026-13",
                                                   "region": org["city"].id})
    assert resp.status_code == 422 and "period" in resp.text
    assert EvaluationRun.select().count() == before
    resp = city.post("/risk/evaluation/run", data={"period": "2026-10",
                                                   "region": org["city"].id})
    assert resp.status_code == 303
    run = EvaluationRun.get()
    page = city.get(f"/risk/evaluation/{run.id}")
    assert page.status_code == 200 and unit["dept"].name in page.text
    assert "echarts.min.js" in page.text and "rk-eval-chart" in page.text
    assert city.get("/risk/evaluation/").status_code == 200
    assert city.get(f"/risk/evaluation/departments/{unit['dept'].id}").status_code == 200
    board = city.get("/risk/evaluation/board")
    assert board.status_code == 200 and org["b"].name in board.text
    xlsx = city.c.get(f"/risk/evaluation/{run.id}.xlsx")
    assert xlsx.status_code == 200
    import openpyxl
    book = openpyxl.load_workbook(io.BytesIO(xlsx.data))
    cells = [c for ws in book.worksheets for r in ws.iter_rows() for c in r]
    assert any(unit["dept"].name == c.value for c in cells)
    assert not any(c.data_type == "f" for c in cells)
    hostile = [c for c in cells if "HYPERLINK" in str(c.value)]
    assert hostile and all(c.data_type == "s" for c in hostile)  # text, never a formula
    # the county supervisor: refused on the weights, sees a city run only for their county
    county = client_for(unit["reviewer"])
    weights = {k: "0" for k in config.WEIGHT_KEYS} | {"coverage": "100"}
    assert county.post("/risk/evaluation/weights", data=weights).status_code == 403
    assert config.get("weights") == config.DEFAULTS["weights"]
    page = county.get(f"/risk/evaluation/{run.id}")
    assert page.status_code == 200 and org["b"].name not in page.text
    outsider = client_for(make_user("b_sup", role="supervisor", region=org["b"]))
    mine = evaluation.evaluate(unit["reviewer"], unit["region"], "2026-10")
    assert outsider.get(f"/risk/evaluation/{mine.id}").status_code == 404
    assert outsider.c.get(f"/risk/evaluation/{mine.id}.xlsx").status_code == 404
    assert outsider.post("/risk/evaluation/run", data={
        "period": "2026-10", "region": unit["region"].id}).status_code == 422
    dash = county.get("/dashboard")
    assert dash.status_code == 200 and "People held accountable" in dash.text, dash.text[-3000:]
    assert city.post("/risk/evaluation/weights", data=weights).status_code == 303
    assert config.get("weights")["coverage"] == 100
