"""The person held accountable is chosen from the organisation (people of the case's
region), and the department of a finding from a searchable picker limited to the user's
scope; old free-text accountability records still read."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from core.org.models import Department, Person, Post, PostHolding
from plugins.esupervision import pickers
from plugins.esupervision import supervision as sv
from plugins.esupervision.models import (
    Accountability,
    InspectionFinding,
    SupervisionCase,
)
from tests.conftest import _csrf


@pytest.fixture
def confirmed(red_signal, make_user, org):
    sup = make_user("sup", role="supervisor", region=org["a"])
    return sv.verify(sv.open_case(red_signal, sup), sup, "confirmed", "属实"), sup


def test_accountability_names_a_person_of_the_region(confirmed, org, app, login):
    sc, sup = confirmed
    outsider = Person.get(Person.name == "受理员b")  # 青羊区: not the case's region
    with pytest.raises(sv.SupervisionError, match="who"):
        sv.record_accountability(sc, sup, outsider.id, "违规收费", "诫勉谈话")
    with pytest.raises(sv.SupervisionError, match="who"):
        sv.record_accountability(sc, sup, None, "违规收费", "诫勉谈话")
    c = app.test_client()
    login(sup, c=c)
    url = f"/esupervision/supervision/{sc.id}"
    page = c.get(url).get_data(as_text=True)
    assert 'name="a-person"' in page and "受理员a · 窗口受理员 (锦江区政务服务局)" in page
    assert "受理员b" not in page
    # the search answers people of the region only, by name, post or department
    found = c.get(f"{url}/people?q=局长").get_data(as_text=True)
    assert "局长a" in found and "受理员a" not in found and "局长b" not in found
    assert "局长b" not in c.get(f"{url}/people?q=局长b").get_data(as_text=True)
    token = _csrf(c, url)
    bad = c.post(url + "/accountability", data={"csrf_token": token, "a-person": outsider.id,
                                               "a-what": "违规收费", "a-outcome": "诫勉谈话"})
    assert bad.status_code == 422 and not Accountability.select().exists()
    typed = c.post(url + "/accountability", data={"csrf_token": token, "a-person": "张三",
                                                 "a-what": "违规收费", "a-outcome": "诫勉谈话"})
    assert typed.status_code == 422 and 'id="a-person-error"' in typed.get_data(as_text=True)
    head = Person.get(Person.name == "局长a")
    ok = c.post(url + "/accountability", data={"csrf_token": token, "a-person": head.id,
                                              "a-what": "违规收费", "a-outcome": "诫勉谈话"})
    assert ok.status_code == 303
    row = Accountability.get()
    assert (row.person_id, row.person_name) == (head.id, "局长a")
    # a record from before people were chosen (free text, no person) still reads
    Accountability.create(supervision=sc, region=sc.region_id, person_name="王五（旧）",
                          what="旧记录", outcome="通报", recorded_by="sup")
    page = c.get(url).get_data(as_text=True)
    assert "王五（旧）" in page and "局长a" in page
    assert app.test_client().get(f"{url}/people?q=a").status_code in (302, 401)


def test_the_department_picker_searches_within_scope(app, org, login, make_user):
    for n in range(30):
        Department.create(region=org["a"], code=f"D{n:02d}", name=f"锦江区第{n:02d}局")
    sup = make_user("sup", role="supervisor", region=org["a"])
    found = pickers.departments(sup, "esupervision.supervise", "第2")
    assert [d.name for d in found] == [f"锦江区第{n:02d}局" for n in range(20, 30)]
    assert pickers.departments(sup, "esupervision.supervise", "青羊") == []
    assert len(pickers.departments(sup, "esupervision.supervise", "")) == pickers.LIMIT
    c = app.test_client()
    login(sup, c=c)
    page = c.get("/esupervision/findings").get_data(as_text=True)
    assert 'hx-get="/esupervision/pickers/departments"' in page
    listed = re.search(r'<select id="department".*?</select>', page, re.DOTALL).group(0)
    assert listed.count("<option value=") == pickers.LIMIT + 1  # and "more match"
    frag = c.get("/esupervision/pickers/departments?q=第05").get_data(as_text=True)
    assert "锦江区第05局" in frag and "锦江区第06局" not in frag and "<html" not in frag
    assert "青羊区" not in c.get("/esupervision/pickers/departments?q=政务").get_data(
        as_text=True)
    token = _csrf(c, "/esupervision/findings")
    last = Department.get(Department.code == "D29")  # not among the first matches
    ok = c.post("/esupervision/findings", data={
        "csrf_token": token, "department": last.id, "day": "2026-03-12",
        "category": "fees", "severity": "minor", "description": "收费公示不全"})
    assert ok.status_code == 303
    assert InspectionFinding.get().department_id == last.id
    outside = c.post("/esupervision/findings", data={
        "csrf_token": token, "department": org["dept_b"].id, "day": "2026-03-12",
        "category": "fees", "severity": "minor", "description": "x"})
    assert outside.status_code == 422 and InspectionFinding.select().count() == 1
    assert "青羊区政务服务局" not in outside.get_data(as_text=True)


def test_people_labels_tell_namesakes_apart(app, org):
    twin = Person.create(name="局长a", region=org["a"])
    post = Post.create(department=org["sup_a"], title="副主任")
    PostHolding.create(person=twin, post=post, start=dt.date(2024, 1, 1))
    labels = [label for _p, label in pickers.people(org["a"].id, "局长a")]
    assert sorted(labels) == ["局长a · 副主任 (锦江区纪委监委)", "局长a · 局长 (锦江区政务服务局)"]
    assert SupervisionCase.select().count() == 0
