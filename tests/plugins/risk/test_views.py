"""The register pages: a unit drafts, submits, is returned, resubmits and is approved
through HTTP; the pages render in both languages; bad input answers 422 naming the field
with nothing changed; a county grant cannot change the matrix."""
from __future__ import annotations

import re

import pytest

from core.audit.models import AuditEvent
from plugins.risk.models import Matrix, Measure, Point, Register
from tests.plugins.risk.matrix import matrix_form


def _token(client, path="/dashboard"):
    html = client.get(path, follow_redirects=True).get_data(as_text=True)
    m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or \
        re.search(r'"X-CSRFToken": "([^"]+)"', html)
    return m.group(1)


def _post(client, url, data):
    return client.post(url, data={**data, "csrf_token": _token(client)})


def _lang(client, lang):
    with client.session_transaction() as s:
        s["locale"] = lang


def _point_form(unit, **extra):
    data = {"post": unit["land"].id, "duty": "项目实施管理",
            "description": "在土地综合整治建设过程中随意改变规划设计",
            "risk_type": "process", "likelihood": "4", "impact": "4",
            "reminder_text": "严禁随意改变规划设计", "owner": unit["official_person"].id}
    data.update(extra)
    return data


def test_the_workflow_through_the_pages(app, unit, login):
    clerk_client, reviewer_client = app.test_client(), app.test_client()
    login(unit["clerk"], c=clerk_client)
    login(unit["reviewer"], c=reviewer_client)
    dept = unit["dept"]
    resp = _post(clerk_client, f"/risk/units/{dept.id}/working-copy", {})
    assert resp.status_code == 303
    reg = Register.get(Register.department == dept.id)
    resp = _post(clerk_client, f"/risk/registers/{reg.id}/points", _point_form(unit))
    assert resp.status_code == 303
    point = Point.get(Point.register == reg.id)
    assert point.level == 1
    resp = _post(clerk_client, f"/risk/registers/{reg.id}/submit", {})
    assert resp.status_code == 422  # a point without a measure
    assert "ZF-R001" in resp.get_data(as_text=True)
    resp = _post(clerk_client, f"/risk/points/{point.id}/measures",
                 {"text": "规划设计变更须集体研究", "deadline_days": "5"})
    assert resp.status_code == 303
    assert _post(clerk_client, f"/risk/registers/{reg.id}/submit", {"note": "报送"}) \
        .status_code == 303
    page = reviewer_client.get(f"/risk/registers/{reg.id}").get_data(as_text=True)
    assert "ZF-R001" in page and "/approve" in page
    resp = _post(reviewer_client, f"/risk/registers/{reg.id}/return", {"reasons": " "})
    assert resp.status_code == 422 and Register.get_by_id(reg.id).state == "submitted"
    assert _post(reviewer_client, f"/risk/registers/{reg.id}/return",
                 {"reasons": "请补充审批环节的风险"}).status_code == 303
    page = clerk_client.get(f"/risk/registers/{reg.id}").get_data(as_text=True)
    assert "请补充审批环节的风险" in page
    assert _post(clerk_client, f"/risk/points/{point.id}",
                 _point_form(unit, duty="项目审批与实施")).status_code == 303
    assert _post(clerk_client, f"/risk/registers/{reg.id}/submit", {}).status_code == 303
    page = reviewer_client.get(f"/risk/registers/{reg.id}").get_data(as_text=True)
    assert _post(reviewer_client, f"/risk/registers/{reg.id}/approve", {"note": "同意"}) \
        .status_code == 303
    assert Register.get_by_id(reg.id).state == "approved"
    # in force: tracked, not edited
    measure = Measure.get(Measure.point == point.id)
    assert _post(clerk_client, f"/risk/measures/{measure.id}/progress",
                 {"status": "done", "done_on": "2099-01-01"}).status_code == 422
    assert Measure.get_by_id(measure.id).status == "planned"
    assert _post(clerk_client, f"/risk/measures/{measure.id}/progress",
                 {"status": "in_progress", "progress_note": "已建立集体研究制度"}) \
        .status_code == 303
    assert _post(clerk_client, f"/risk/points/{point.id}",
                 _point_form(unit)).status_code == 422
    assert _post(clerk_client, f"/risk/points/{point.id}/review",
                 {"outcome": "unchanged"}).status_code == 303
    page = clerk_client.get(f"/risk/units/{dept.id}").get_data(as_text=True)
    assert "ZF-R001" in page and "In progress" in page


@pytest.mark.parametrize("lang,word", [("zh_CN", "风险"), ("en", "Risk")])
def test_pages_render_in_both_languages(app, unit, approved, login, lang, word):
    client = app.test_client()
    login(unit["reviewer"], c=client)
    _lang(client, lang)
    point = Point.get(Point.register == approved.id)
    for url in ["/risk/", f"/risk/units/{unit['dept'].id}", f"/risk/registers/{approved.id}",
                f"/risk/registers/{approved.id}/compare", f"/risk/points/{point.id}",
                "/risk/matrix", "/risk/rules/", "/risk/rules/new", "/risk/rules/flagged"]:
        resp = client.get(url)
        assert resp.status_code == 200, url
        assert word in resp.get_data(as_text=True), url


def test_bad_point_answers_422_naming_the_field(app, unit, login):
    from plugins.risk import register as reg
    client = app.test_client()
    login(unit["clerk"], c=client)
    copy = reg.open_working_copy(unit["clerk"], unit["dept"])
    events = AuditEvent.select().count()
    for field, value in (("likelihood", "9"), ("risk_type", "x"), ("description", ""),
                         ("likelihood", "4.5"), ("post", "999999")):
        resp = _post(client, f"/risk/registers/{copy.id}/points",
                     _point_form(unit, **{field: value}))
        assert resp.status_code == 422, field
        assert f'id="{field}-error"' in resp.get_data(as_text=True), field
    assert Point.select().count() == 0 and AuditEvent.select().count() == events


def test_a_county_grant_cannot_change_the_matrix(app, org, unit, login, make_user):
    client = app.test_client()
    login(unit["reviewer"], c=client)
    page = client.get("/risk/matrix").get_data(as_text=True)
    assert "levels.0.colour" not in page
    resp = _post(client, "/risk/matrix", {"method": "matrix"})
    assert resp.status_code == 403 and Matrix.select().count() == 1
    city = make_user("city_sup", role="supervisor", region=org["city"])
    city_client = app.test_client()
    login(city, c=city_client)
    from plugins.risk import scoring
    form = matrix_form({"method": "matrix", "levels.1.review_months": "4",
                        "note": "二级复核周期改为四个月"})
    bad = {**form, "levels.1.review_months": "40"}
    resp = _post(city_client, "/risk/matrix", bad)
    assert resp.status_code == 422 and Matrix.select().count() == 1
    resp = _post(city_client, "/risk/matrix", form)
    assert resp.status_code == 303
    latest = scoring.current()
    assert latest.version == 2 and latest.definition["levels"][1]["review_months"] == 4
    assert latest.definition["method"] == "matrix"


def test_level_colours_come_from_the_stylesheet_not_inline_styles(app, org, unit, login):
    """The content policy (style-src 'self') drops inline style attributes: the level
    badges and the matrix cells are coloured by classes of /risk/matrix-levels.css."""
    from plugins.risk import scoring
    client = app.test_client()
    login(unit["reviewer"], c=client)
    page = client.get("/risk/matrix").get_data(as_text=True)
    assert "style-src 'self'" in client.get("/risk/matrix").headers["Content-Security-Policy"]
    assert 'style="' not in page
    matrix = scoring.current()
    assert f'class="rk-level rk-m{matrix.id}-1"' in page
    css = client.get("/risk/matrix-levels.css")
    assert css.status_code == 200 and css.mimetype == "text/css"
    colour = matrix.definition["levels"][0]["colour"]
    assert f".rk-m{matrix.id}-1{{--rk-colour:{colour}}}" in css.get_data(as_text=True)
