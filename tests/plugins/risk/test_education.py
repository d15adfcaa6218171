"""Integrity education: assignment by post, risk type and level reaching the people
holding the posts that day, a post taken up later picking up the open assignment, read
receipts and acknowledgement, the quiz checked on the server, completion rates per
department, the overdue reminder once, and bad input refused with nothing written."""
from __future__ import annotations

import datetime as dt
import io

import pytest

from core.alerts.models import Alert
from core.api import AccessDenied, FieldError, PostHolding
from core.audit.models import AuditEvent
from plugins.risk import education
from plugins.risk.errors import RiskError
from plugins.risk.models import (
    EducationTask,
    Material,
    MaterialFile,
    MaterialTarget,
    Question,
)
from tests.plugins.risk import web_b

client_for = web_b.client_for  # the fixture
DAY = dt.date(2026, 10, 12)  # a Monday after the National Day holiday


def material(unit, **extra):
    data = {"region": unit["region"].id, "title": "警示教育：某局项目负责人违规变更规划案",
            "kind": "case", "body": "案情通报……", "due_days": "5", "pass_mark": "100"}
    data.update(extra)
    return education.create_material(unit["reviewer"], data)


def tasks_of(m) -> dict:
    return {t.person_id: t for t in EducationTask.select().where(EducationTask.material == m.id)}


def test_assignment_by_post_type_and_level(unit, approved, org, make_user):
    sup = unit["reviewer"]
    official = unit["official_person"].id
    clerk_holder = PostHolding.get(PostHolding.post == unit["clerk_post"].id).person_id
    # someone who held the land post before and left: not reached
    gone = make_user("gone", role="staff", region=unit["region"]).person_id
    PostHolding.create(person=gone, post=unit["land"], start=dt.date(2024, 1, 1),
                       end=dt.date(2024, 12, 31))
    by_post = material(unit)
    target, made = education.assign(sup, by_post, {"post": unit["clerk_post"].id}, on=DAY)
    assert made == 1 and set(tasks_of(by_post)) == {clerk_holder}
    task = tasks_of(by_post)[clerk_holder]
    assert (task.due, task.department_id, task.target_id) == (
        dt.date(2026, 10, 19), unit["dept"].id, target.id)  # 5 working days
    # the approved register's point on the land post: 业务流程, level 1 (4 × 4)
    by_type = material(unit, title="业务流程风险")
    assert education.assign(sup, by_type, {"risk_type": "process"}, on=DAY)[1] == 1
    assert set(tasks_of(by_type)) == {official}
    none_type = material(unit, title="外部环境风险")
    assert education.assign(sup, none_type, {"risk_type": "external"}, on=DAY)[1] == 0
    by_level = material(unit, title="一级风险岗位")
    assert education.assign(sup, by_level, {"level": "1", "due_days": "3"}, on=DAY)[1] == 1
    assert tasks_of(by_level)[official].due == dt.date(2026, 10, 15)
    # assigning again (another target reaching the same person) makes no second task
    assert education.assign(sup, by_level, {"post": unit["land"].id}, on=DAY)[1] == 0
    assert EducationTask.select().where(EducationTask.material == by_level.id).count() == 1
    # county B's supervisor cannot assign county A's material, nor pick A's post for B's
    b_sup = make_user("b_sup", role="supervisor", region=org["b"])
    with pytest.raises(AccessDenied):
        education.assign(b_sup, by_post, {"post": unit["land"].id})
    b_mat = education.create_material(b_sup, {"region": org["b"].id, "title": "乙区",
                                              "body": "x"})
    with pytest.raises(FieldError) as err:
        education.assign(b_sup, b_mat, {"post": unit["land"].id})
    assert err.value.field == "post"
    assert AuditEvent.select().where(AuditEvent.action == "risk.education.assign").count() == 5


def test_a_post_taken_up_later_gets_the_open_assignment(unit, make_user):
    sup = unit["reviewer"]
    m = material(unit)
    target, _made = education.assign(sup, m, {"post": unit["land"].id}, on=DAY)
    newcomer = make_user("newcomer", role="staff", region=unit["region"]).person_id
    PostHolding.create(person=newcomer, post=unit["land"], start=DAY + dt.timedelta(days=2))
    assert education.duty_start_assignments(DAY + dt.timedelta(days=1)) == 0  # not yet
    assert education.duty_start_assignments(DAY + dt.timedelta(days=3)) == 1
    assert education.duty_start_assignments(DAY + dt.timedelta(days=4)) == 0  # once
    task = tasks_of(m)[newcomer]
    assert task.assigned_on == DAY + dt.timedelta(days=3)
    assert task.due == dt.date(2026, 10, 22)
    # a closed assignment no longer reaches newcomers
    education.close_assignment(sup, MaterialTarget.get_by_id(target.id))
    later = make_user("later", role="staff", region=unit["region"]).person_id
    PostHolding.create(person=later, post=unit["land"], start=DAY + dt.timedelta(days=5))
    assert education.duty_start_assignments(DAY + dt.timedelta(days=6)) == 0
    with pytest.raises(RiskError):
        education.close_assignment(sup, MaterialTarget.get_by_id(target.id))


def test_read_receipt_and_acknowledgement(unit, client_for, org, make_user):
    m = material(unit)
    education.assign(unit["reviewer"], m, {"post": unit["land"].id})
    task = EducationTask.get()
    official = client_for(unit["official"])
    assert official.post(f"/risk/education/tasks/{task.id}/acknowledge",
                         data={"seconds": "5"}).status_code == 422  # not opened yet
    page = official.get(f"/risk/education/tasks/{task.id}")
    assert page.status_code == 200 and "案情通报" in page.text and "risk_study.js" in page.text
    opened = EducationTask.get_by_id(task.id).opened_at
    assert opened is not None
    official.get(f"/risk/education/tasks/{task.id}")
    assert EducationTask.get_by_id(task.id).opened_at == opened  # the first opening kept
    assert official.post(f"/risk/education/tasks/{task.id}/acknowledge",
                         data={"seconds": "-1"}).status_code == 422
    EducationTask.update(opened_at=opened - dt.timedelta(seconds=120)).where(
        EducationTask.id == task.id).execute()
    # the page claims a day: capped by the time since opening
    resp = official.post(f"/risk/education/tasks/{task.id}/acknowledge",
                         data={"seconds": "86400"})
    assert resp.status_code == 303
    task = EducationTask.get_by_id(task.id)
    assert 120 <= task.seconds < 180 and task.acknowledged_at is not None
    assert task.completed_at is not None  # no quiz: acknowledging completes it
    assert official.post(f"/risk/education/tasks/{task.id}/acknowledge",
                         data={"seconds": "5"}).status_code == 422
    assert "警示教育" in official.get("/risk/education/mine").text
    # the supervisor sees the receipt on the material's page; others see nothing
    sup = client_for(unit["reviewer"])
    page = sup.get(f"/risk/education/materials/{m.id}")
    assert page.status_code == 200 and "黄耘成" in page.text
    assert sup.post(f"/risk/education/tasks/{task.id}/acknowledge").status_code == 403
    outsider = client_for(make_user("b_sup", role="supervisor", region=org["b"]))
    assert outsider.get(f"/risk/education/tasks/{task.id}").status_code == 404
    assert outsider.get(f"/risk/education/materials/{m.id}").status_code == 404
    assert m.title not in outsider.get("/risk/education/").text
    # an acknowledgement with the page's count below the elapsed time keeps the count
    m2 = material(unit, title="第二篇")
    education.assign(unit["reviewer"], m2, {"post": unit["land"].id})
    t2 = EducationTask.get(EducationTask.material == m2.id)
    t2 = education.open_task(unit["official"], t2)
    EducationTask.update(opened_at=t2.opened_at - dt.timedelta(seconds=300)).where(
        EducationTask.id == t2.id).execute()
    assert education.acknowledge(unit["official"], EducationTask.get_by_id(t2.id),
                                 "42").seconds == 42


def test_quiz_pass_and_fail(unit, client_for):
    sup = unit["reviewer"]
    m = material(unit, pass_mark="100")
    q1 = education.add_question(sup, m, {"text": "收受礼金应当如何处理？",
                                         "options": "私下退回\n登记上交\n收下不报", "answer": "2"})
    with pytest.raises(FieldError) as err:
        education.add_question(sup, m, {"text": "只有一个选项", "options": "是", "answer": "1"})
    assert err.value.field == "options"
    with pytest.raises(FieldError) as err:
        education.add_question(sup, m, {"text": "答案越界", "options": "甲\n乙", "answer": "3"})
    assert err.value.field == "answer"
    q2 = education.add_question(sup, m, {"text": "规划设计变更须经？",
                                         "options": "个人决定\n集体研究并报批", "answer": "2"})
    assert Question.select().count() == 2
    education.assign(sup, m, {"post": unit["land"].id})
    with pytest.raises(RiskError):  # the quiz is fixed once assigned
        education.add_question(sup, m, {"text": "x", "options": "a\nb", "answer": "1"})
    task = EducationTask.get()
    official = client_for(unit["official"])
    page = official.get(f"/risk/education/tasks/{task.id}")
    assert "登记上交" not in page.text  # the quiz after reading
    assert official.post(f"/risk/education/tasks/{task.id}/quiz",
                         data={f"q{q1.id}": "2", f"q{q2.id}": "2"}).status_code == 422
    official.post(f"/risk/education/tasks/{task.id}/acknowledge", data={"seconds": "30"})
    task = EducationTask.get_by_id(task.id)
    assert task.acknowledged_at is not None and task.completed_at is None
    page = official.get(f"/risk/education/tasks/{task.id}")
    assert "登记上交" in page.text and "Right answer" not in page.text  # never the key
    resp = official.post(f"/risk/education/tasks/{task.id}/quiz",
                         data={f"q{q1.id}": "2", f"q{q2.id}": "9"})
    assert resp.status_code == 422 and EducationTask.get_by_id(task.id).quiz_attempts == 0
    resp = official.post(f"/risk/education/tasks/{task.id}/quiz",
                         data={f"q{q1.id}": "1", f"q{q2.id}": "2"})
    assert resp.status_code == 303
    task = EducationTask.get_by_id(task.id)
    assert (task.quiz_score, task.quiz_attempts, task.completed_at) == (50, 1, None)
    score, passed = education.answer_quiz(unit["official"], task,
                                          {f"q{q1.id}": "2", f"q{q2.id}": "2"})
    assert (score, passed) == (100, True)
    task = EducationTask.get_by_id(task.id)
    assert task.completed_at is not None and task.quiz_attempts == 2
    with pytest.raises(RiskError):
        education.answer_quiz(unit["official"], task, {f"q{q1.id}": "2", f"q{q2.id}": "2"})


def test_completion_rates_per_department(unit, org):
    from core.api import Department, Person
    m = material(unit)
    other = Department.create(region=unit["region"], code="ZJ", name="锦江区住建局")
    people = [Person.create(name=f"人{i}", region=unit["region"]) for i in range(7)]
    at = dt.datetime(2026, 10, 14, 2, 0)  # 10:00 on the 14th in Chengdu
    rows = [  # (department, due, completed_at)
        (unit["dept"], dt.date(2026, 10, 15), at),                      # on time
        (unit["dept"], dt.date(2026, 10, 13), at),                      # late
        (unit["dept"], dt.date(2026, 10, 13), None),                    # overdue
        (unit["dept"], dt.date(2026, 10, 20), None),                    # running
        (other, dt.date(2026, 10, 15), at),                             # on time
        (other, dt.date(2026, 10, 15), dt.datetime(2026, 10, 15, 15, 59)),  # 23:59: on time
        (other, dt.date(2026, 10, 15), dt.datetime(2026, 10, 15, 16, 1)),   # next day: late
    ]
    for person, (dept, due, done) in zip(people, rows, strict=True):
        EducationTask.create(material=m.id, person=person.id, region=unit["region"].id,
                             department=dept.id, assigned_on=dt.date(2026, 10, 9), due=due,
                             completed_at=done)
    figures = {r["name"]: r for r in education.completion_rates(
        EducationTask.select(), day=dt.date(2026, 10, 16))}
    a = figures[unit["dept"].name]
    assert (a["assigned"], a["completed"], a["on_time"], a["overdue"], a["rate"]) == (
        4, 2, 1, 1, 50.0)
    b = figures["锦江区住建局"]
    assert (b["assigned"], b["completed"], b["on_time"], b["overdue"], b["rate"]) == (
        3, 3, 2, 0, 100.0)
    worst = education.completion_rates(EducationTask.select(), day=dt.date(2026, 10, 16))[0]
    assert worst["name"] == unit["dept"].name


def test_completion_rate_page(unit, client_for, org, make_user):
    m = material(unit)
    education.assign(unit["reviewer"], m, {"post": unit["land"].id})
    page = client_for(unit["reviewer"]).get(f"/risk/education/rates?material={m.id}")
    assert page.status_code == 200 and unit["dept"].name in page.text and "0.0%" in page.text
    assert client_for(unit["reviewer"]).get("/risk/education/rates?material=x"
                                            ).status_code == 422
    outsider = client_for(make_user("b_sup", role="supervisor", region=org["b"]))
    assert unit["dept"].name not in outsider.get("/risk/education/rates").text


def test_overdue_reminder_once(unit, make_user):
    m = material(unit)
    education.assign(unit["reviewer"], m, {"post": unit["land"].id}, on=DAY)
    # a holder without an account: the department is reminded
    from core.api import Person
    no_account = Person.create(name="无账号", region=unit["region"])
    PostHolding.create(person=no_account, post=unit["land"], start=dt.date(2025, 1, 1))
    education.assign(unit["reviewer"], m, {"post": unit["land"].id}, on=DAY)
    due = EducationTask.get(EducationTask.person == unit["official_person"].id).due
    assert education.overdue_tasks(due) == 0
    assert education.overdue_tasks(due + dt.timedelta(days=1)) == 2
    assert education.overdue_tasks(due + dt.timedelta(days=2)) == 0
    alerts = list(Alert.select().where(Alert.kind == "risk.education.overdue"))
    assert len(alerts) == 2
    mine = next(a for a in alerts if a.target_user_id == unit["official"].id)
    task = EducationTask.get(EducationTask.person == unit["official_person"].id)
    assert mine.ref == f"risk.education:{task.id}" and m.title in mine.subject
    assert any(a.target_department_id == unit["dept"].id for a in alerts)
    # a completed task is never reminded
    m2 = material(unit, title="已完成")
    education.assign(unit["reviewer"], m2, {"post": unit["clerk_post"].id}, on=DAY)
    EducationTask.update(completed_at=dt.datetime(2026, 10, 13)).where(
        EducationTask.material == m2.id).execute()
    assert education.overdue_tasks(dt.date(2026, 12, 1)) == 0


def test_bad_input_is_refused_and_nothing_is_written(unit, client_for):
    sup = client_for(unit["reviewer"])
    events = AuditEvent.select().count()
    good = {"region": unit["region"].id, "title": "学习材料", "kind": "text", "body": "正文",
            "due_days": "5", "pass_mark": "80"}
    for field, value in (("pass_mark", "abc"), ("due_days", "0"), ("kind", "video"),
                         ("title", ""), ("region", "99999"), ("body", "")):
        resp = sup.post("/risk/education/materials/new", data={**good, field: value})
        assert resp.status_code == 422, (field, resp.status_code)
    resp = sup.post("/risk/education/materials/new", data={
        **good, "files": (io.BytesIO(b"MZ\x90\x00\x03binary\x00\x00"), "virus.exe")},
        content_type="multipart/form-data")
    assert resp.status_code == 422 and "files" in resp.text
    assert Material.select().count() == 0 and MaterialFile.select().count() == 0
    assert AuditEvent.select().count() == events
    # a good one with an attachment
    resp = sup.post("/risk/education/materials/new", data={
        **good, "files": (io.BytesIO(b"%PDF-1.4\n%test\n1 0 obj\n<<>>\nendobj\n%%EOF\n"),
                          "通报.pdf")}, content_type="multipart/form-data")
    assert resp.status_code == 303
    m = Material.get()
    f = MaterialFile.get()
    assert sup.get(f"/risk/education/files/{f.id}").status_code == 200
    for data in ({}, {"post": "x"}, {"post": "99999"}, {"risk_type": "bad"},
                 {"level": "4"}, {"post": unit["land"].id, "level": "1"},
                 {"post": unit["land"].id, "due_days": "61"}):
        resp = sup.post(f"/risk/education/materials/{m.id}/assign", data=data)
        assert resp.status_code == 422, data
    assert MaterialTarget.select().count() == 0 and EducationTask.select().count() == 0
    resp = sup.post(f"/risk/education/materials/{m.id}/questions",
                    data={"text": "问", "options": "甲\n乙", "answer": "x"})
    assert resp.status_code == 422 and Question.select().count() == 0
    # the clerk (no risk.education.manage) may not publish
    clerk = client_for(unit["clerk"])
    assert clerk.post("/risk/education/materials/new", data=good).status_code == 403
    assert clerk.get(f"/risk/education/files/{f.id}").status_code == 200  # risk.view in A
