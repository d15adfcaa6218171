"""Organisation staff pages: search, paging, sorting, in-place edit, create, scope."""
import re

import pytest

from core.audit.models import AuditEvent
from core.org.models import Department, Person, Post, PostHolding

HX = {"HX-Request": "true"}


@pytest.fixture
def admin_a(org, make_user, login):
    """A system administrator granted only in county (district) a, logged in."""
    user = make_user("admin_a", role="sys_admin", region=org["a"])
    login(user)
    return user


@pytest.fixture
def token(client):
    def get(path="/org/departments"):
        html = client.get(path).get_data(as_text=True)
        return re.search(r'"X-CSRFToken": "([^"]+)"', html).group(1)
    return get


def test_staff_browse_lists_and_detail(client, org, make_user, login):
    login(make_user("staff_city", role="staff", region=org["city"]))
    html = client.get("/org/departments").get_data(as_text=True)
    assert "锦江区政务服务局" in html and "青羊区纪委监委" in html
    assert "New department" not in html  # read only
    html = client.get(f"/org/departments/{org['dept_a'].id}").get_data(as_text=True)
    assert "窗口受理员" in html and "受理员a" in html  # posts with their holders
    assert client.get("/org/regions").status_code == 200
    assert "锦江区" in client.get("/org/regions").get_data(as_text=True)
    assert client.get("/org/posts").status_code == 200
    # a read-only role lacks the edit pages entirely
    assert client.get(f"/org/departments/{org['dept_a'].id}/edit").status_code == 403
    assert client.get("/org/import").status_code == 403


def test_active_search_returns_table_fragment(client, org, make_user, login):
    login(make_user("staff_city", role="staff", region=org["city"]))
    resp = client.get("/org/people?q=受理员", headers=HX)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert html.lstrip().startswith('<div id="results">')
    assert "<html" not in html and "org-tabs" not in html
    assert "受理员a" in html and "受理员b" in html and "局长a" not in html
    assert "HX-Request" in resp.headers.get("Vary", "")
    full = client.get("/org/people?q=受理员")
    assert "<html" in full.get_data(as_text=True)
    assert "HX-Request" in full.headers.get("Vary", "")


def test_paging_and_sorting(client, org, make_user, login):
    for i in range(30):
        Person.create(name=f"测试{i:02d}", region=org["a"])
    login(make_user("staff_a", role="staff", region=org["a"]))
    html = client.get("/org/people?sort=name&order=asc", headers=HX).get_data(as_text=True)
    total = Person.select().where(Person.region == org["a"].id).count()
    assert total == 34  # three from the fixture, thirty here, the user's own person
    assert "Page 1 of 2" in html and "34 records" in html
    names = re.findall(r'/org/people/\d+">([^<]+)<', html)
    assert len(names) == 25 and names == sorted(names)
    page2 = client.get("/org/people?sort=name&order=asc&page=2", headers=HX).get_data(
        as_text=True)
    assert len(re.findall(r'/org/people/\d+">', page2)) == 9
    desc = client.get("/org/people?sort=name&order=desc", headers=HX).get_data(as_text=True)
    names_desc = re.findall(r'/org/people/\d+">([^<]+)<', desc)
    assert names_desc == sorted(names_desc, reverse=True)
    assert 'aria-sort="descending"' in desc
    # an unknown sort key falls back to the default instead of failing
    assert client.get("/org/people?sort=password", headers=HX).status_code == 200


def test_people_of_other_counties_not_listed(client, org, make_user, login):
    login(make_user("staff_a", role="staff", region=org["a"]))
    html = client.get("/org/people").get_data(as_text=True)
    assert "受理员a" in html and "受理员b" not in html and "局长city" not in html


def test_inline_edit_get_put_cancel(client, org, admin_a, token):
    dept = org["dept_a"]
    csrf = token()
    form = client.get(f"/org/departments/{dept.id}/edit", headers=HX).get_data(as_text=True)
    assert form.startswith('<tr class="editing">') and 'hx-put=' in form
    assert 'value="锦江区政务服务局"' in form
    resp = client.put(f"/org/departments/{dept.id}",
                      data={"code": "ZF", "name": "锦江区行政审批局", "short_name": "审批局"},
                      headers={**HX, "X-CSRFToken": csrf})
    assert resp.status_code == 200
    row = resp.get_data(as_text=True)
    assert row.startswith(f'<tr id="department-{dept.id}">') and "锦江区行政审批局" in row
    assert Department.get_by_id(dept.id).name == "锦江区行政审批局"
    event = AuditEvent.select().where(AuditEvent.action == "org.department.update").get()
    assert "锦江区行政审批局" in event.changes and event.username == "admin_a"
    cancel = client.get(f"/org/departments/{dept.id}/row", headers=HX).get_data(as_text=True)
    assert cancel.startswith(f'<tr id="department-{dept.id}">')


def test_inline_edit_bad_input_422_names_field(client, org, admin_a, token):
    person = Person.get(Person.name == "受理员a")
    resp = client.put(f"/org/people/{person.id}",
                      data={"name": "受理员a", "phone": "12345", "email": "bad"},
                      headers={**HX, "X-CSRFToken": token()})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert html.startswith('<tr class="editing">') and "phone: expected a mobile" in html
    assert Person.get_by_id(person.id).phone == ""
    assert not AuditEvent.select().where(AuditEvent.action == "org.person.update").exists()


def test_put_without_csrf_token_refused(client, org, admin_a):
    dept = org["dept_a"]
    resp = client.put(f"/org/departments/{dept.id}", data={"code": "ZF", "name": "改名"},
                      headers=HX)
    assert resp.status_code == 400
    assert Department.get_by_id(dept.id).name == "锦江区政务服务局"


def test_create_with_bad_input_422_nothing_written(client, org, admin_a, token):
    csrf = token("/org/people/new")
    before = Person.select().count()
    resp = client.post("/org/people/new", data={"region_id": org["a"].id, "name": "王五",
                                                "phone": "999", "csrf_token": csrf})
    assert resp.status_code == 422
    assert "phone: expected a mobile" in resp.get_data(as_text=True)
    resp = client.post("/org/people/new", data={"region_id": org["a"].id, "name": "",
                                                "csrf_token": csrf})
    assert resp.status_code == 422
    assert "field-error" in resp.get_data(as_text=True)
    # a region outside the grant is not among the choices
    resp = client.post("/org/people/new", data={"region_id": org["b"].id, "name": "王五",
                                                "csrf_token": csrf})
    assert resp.status_code == 422
    assert Person.select().count() == before
    resp = client.post("/org/departments/new", data={"region_id": org["a"].id, "code": "ZF",
                                                     "name": "重复", "csrf_token": csrf})
    assert resp.status_code == 422 and "already used" in resp.get_data(as_text=True)
    assert not AuditEvent.select().where(AuditEvent.action.startswith("org.")).exists()


def test_create_department_post_person_and_assign(client, org, admin_a, token):
    csrf = token("/org/departments/new")
    resp = client.post("/org/departments/new", data={"region_id": org["a"].id, "code": "CZ",
                                                     "name": "锦江区财政局",
                                                     "csrf_token": csrf})
    assert resp.status_code == 303
    dept = Department.get(Department.code == "CZ")
    resp = client.post(f"/org/posts/new?department={dept.id}",
                       data={"department_id": dept.id, "title": "采购专员", "risk_level": 3,
                             "csrf_token": csrf})
    assert resp.status_code == 303
    post = Post.get(Post.title == "采购专员")
    assert post.risk_level == 3
    resp = client.post("/org/people/new", data={"region_id": org["a"].id, "name": "赵六",
                                                "phone": "13812345678",
                                                "email": "zl@example.gov.cn",
                                                "csrf_token": csrf})
    assert resp.status_code == 303
    person = Person.get(Person.name == "赵六")
    resp = client.post(f"/org/people/{person.id}/holdings",
                       data={"post_id": post.id, "start": "2026-01-05", "csrf_token": csrf})
    assert resp.status_code == 303
    html = client.get(f"/org/people/{person.id}").get_data(as_text=True)
    assert "采购专员" in html and "2026-01-05" in html
    holding = PostHolding.get(PostHolding.person == person.id)
    resp = client.post(f"/org/holdings/{holding.id}/end",
                       data={"end": "2026-03-31", "csrf_token": csrf})
    assert resp.status_code == 303
    assert str(PostHolding.get_by_id(holding.id).end) == "2026-03-31"
    bad = client.post(f"/org/people/{person.id}/holdings",
                      data={"post_id": post.id, "start": "2026-02-01", "csrf_token": csrf})
    assert bad.status_code == 422 and "already holds" in bad.get_data(as_text=True)


def test_delete_referenced_refused_clear_message(client, org, admin_a, token):
    csrf = token()
    dept = org["dept_a"]
    resp = client.post(f"/org/departments/{dept.id}/delete",
                       headers={**HX, "X-CSRFToken": csrf})
    assert resp.status_code == 422
    assert resp.headers["HX-Retarget"] == "#org-messages"
    assert "still has posts" in resp.get_data(as_text=True)
    assert Department.get_or_none(Department.id == dept.id) is not None
    empty = Department.create(region=org["a"], code="TMP", name="临时")
    resp = client.post(f"/org/departments/{empty.id}/delete",
                       headers={**HX, "X-CSRFToken": csrf})
    assert resp.status_code == 200 and resp.get_data(as_text=True) == ""
    assert Department.get_or_none(Department.id == empty.id) is None


def test_out_of_scope_records_answer_404(client, org, admin_a, token):
    """admin_a is granted only in county a: county b's records do not exist for them."""
    csrf = token()
    b_person = Person.get(Person.name == "受理员b")
    b_holding = PostHolding.get(PostHolding.person == b_person.id)
    gets = [f"/org/departments/{org['dept_b'].id}", f"/org/people/{b_person.id}",
            f"/org/departments/{org['dept_b'].id}/edit", f"/org/posts/{org['clerk_b'].id}/edit",
            f"/org/people/{b_person.id}/row", f"/org/regions/{org['b'].id}/edit",
            f"/org/regions/{org['city'].id}/row"]
    for url in gets:
        assert client.get(url).status_code == 404, url
        assert client.get(url, headers=HX).status_code == 404, url
    posts = [(f"/org/departments/{org['dept_b'].id}", {"code": "X", "name": "X"}),
             (f"/org/people/{b_person.id}/delete", {}),
             (f"/org/people/{b_person.id}/holdings", {"post_id": org["clerk_a"].id,
                                                      "start": "2026-01-01"}),
             (f"/org/holdings/{b_holding.id}/end", {"end": "2026-01-01"})]
    for url, data in posts:
        assert client.post(url, data={**data, "csrf_token": csrf}).status_code == 404, url
    assert Department.get_by_id(org["dept_b"].id).name == "青羊区政务服务局"
    assert PostHolding.get_by_id(b_holding.id).end is None
    assert "青羊区" not in client.get("/org/departments").get_data(as_text=True)


def test_region_tree_and_code_validation(client, org, make_user, login, token):
    login(make_user("admin_city", role="sys_admin", region=org["city"]))
    csrf = token("/org/regions")
    html = client.get("/org/regions").get_data(as_text=True)
    assert "tree-depth-1" in html and "510105" in html
    resp = client.post("/org/regions/new", data={"parent_id": org["city"].id, "code": "51010",
                                                 "name": "错", "level": "district",
                                                 "csrf_token": csrf})
    assert resp.status_code == 422 and "6-digit" in resp.get_data(as_text=True)
    resp = client.post("/org/regions/new", data={"parent_id": org["city"].id, "code": "510106",
                                                 "name": "金牛区", "level": "district",
                                                 "csrf_token": csrf})
    assert resp.status_code == 303
    assert "金牛区" in client.get("/org/regions").get_data(as_text=True)


def test_nav_entry_for_readers_only(client, org, make_user, login):
    login(make_user("staff_a", role="staff", region=org["a"]))
    assert 'href="/org/departments"' in client.get("/dashboard").get_data(as_text=True)
