"""Public pages: the catalogue, lookup without enumeration, the rate limit, rating once and
the bad-rating alert with its rectification."""
from __future__ import annotations

import re

import pytest

from core.api import FieldError, today
from core.audit.models import AuditEvent
from plugins.eservice import cases, rectification, statistics
from plugins.eservice.models import Rating, Rectification
from tests.plugins.eservice.conftest import VALID_ID, by
from tests.plugins.eservice.test_cases import MON, case_in

OTHER_ID = "110105194912310046"  # valid, but not the applicant's


def token(client, path="/public/services/track"):
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', html).group(1)


def lookup(client, serial, number, tok=None):
    return client.post("/public/services/track", data={
        "serial": serial, "id_number": number, "csrf_token": tok or token(client)})


def test_public_catalogue_and_item_page_are_cacheable(app, client, item):
    resp = client.get("/public/services/")
    assert resp.status_code == 200
    assert "public" in resp.headers["Cache-Control"] and "max-age" in resp.headers["Cache-Control"]
    assert item.name in resp.get_data(as_text=True)
    resp = client.get("/public/services/?q=食品", headers={"HX-Request": "true",
                                                          "HX-Target": "results"})
    body = resp.get_data(as_text=True)
    assert 'id="results"' in body and "<html" not in body and item.name in body
    resp = client.get("/public/services/?q=nothing-like-this")
    assert "No service matches" in resp.get_data(as_text=True)
    resp = client.get(f"/public/services/items/{item.code}")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "public, max-age=300" == resp.headers["Cache-Control"]
    for text in ("营业执照复印件", "审查", "3 working days", "《中华人民共和国食品安全法》第三十五条",
                 "现场核查", "Free"):
        assert text in page
    assert client.get("/public/services/items/NOPE").status_code == 404
    assert client.get("/public/").get_data(as_text=True).count("/public/services") >= 3


def test_lookup_shows_progress_without_personal_data(app, client, item, clerk):
    case = case_in("in_review", item, clerk)
    cases.transition(case, "suspend", user=clerk, on=MON, procedure="hearing",
                     reason="SECRET-REASON", expected_days=2, note="INTERNAL-NOTE")
    resp = lookup(client, case.serial, VALID_ID.lower())
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert case.item.name in body and case.department.name in body
    assert str(case.deadline) in body
    for secret in ("INTERNAL-NOTE", "SECRET-REASON", "张三", VALID_ID, "1101**", "clerk1",
                   "13800000000"):
        assert secret not in body
    assert resp.headers["Cache-Control"] == "no-store"
    audit = AuditEvent.select().where(AuditEvent.action == "eservice.lookup").get()
    assert audit.success and audit.object_id == str(case.id)


def test_htmx_lookup_answers_only_the_result(app, client, item, clerk):
    case = case_in("in_review", item, clerk)
    tok = token(client)
    hx = {"HX-Request": "true", "HX-Target": "lookup-result"}
    resp = client.post("/public/services/track", headers=hx, data={
        "serial": case.serial, "id_number": VALID_ID, "csrf_token": tok})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"
    assert "<html" not in body and "<form" not in body and "es-progress" in body
    assert case.item.name in body and VALID_ID not in body and "张三" not in body
    assert "HX-Request" in resp.headers.get("Vary", "")
    # a miss and a bad form: the answer names the problem in place of the result
    resp = client.post("/public/services/track", headers=hx, data={
        "serial": case.serial, "id_number": OTHER_ID, "csrf_token": tok})
    assert resp.status_code == 404 and "No case matches" in resp.get_data(as_text=True)
    resp = client.post("/public/services/track", headers=hx, data={
        "serial": "", "id_number": VALID_ID, "csrf_token": tok})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "Serial number" in body and "<form" not in body
    # the full page (no JavaScript) carries the form for the next lookup
    page = lookup(client, case.serial, VALID_ID, tok).get_data(as_text=True)
    assert "<html" in page and 'hx-target="#lookup-result"' in page and "es-progress" in page


def test_wrong_pair_answers_like_unknown_serial(app, client, item, clerk):
    case = case_in("accepted", item, clerk)
    answers = []
    for serial, number in ((case.serial, OTHER_ID), ("510104-20260302-9999-A", VALID_ID),
                           (case.serial, "123"), ("garbage", VALID_ID)):
        resp = lookup(client, serial, number)
        body = resp.get_data(as_text=True)
        page = re.sub(r'value="[^"]*"|"X-CSRFToken": "[^"]*"', "", body.split("<form")[0])
        answers.append((resp.status_code, "No case matches" in body, page))
    assert len({a for a in answers}) == 1
    assert answers[0][:2] == (404, True)
    fails = AuditEvent.select().where((AuditEvent.action == "eservice.lookup")
                                      & (AuditEvent.success == False)).count()
    assert fails == 4


def test_rate_limit_per_client_and_per_serial(app, client, item, clerk):
    from core.ratelimit import hits
    case = case_in("accepted", item, clerk)
    tok = token(client)
    limit = app.config["QL_SETTINGS"].public_lookup_per_minute
    for _ in range(limit):
        assert lookup(client, "510104-20260302-9999-A", OTHER_ID, tok).status_code == 404
    resp = lookup(client, case.serial, VALID_ID, tok)
    assert resp.status_code == 429
    assert "Too many lookups" in resp.get_data(as_text=True)
    assert hits("eservice.lookup", "ip:127.0.0.1", 60) == limit + 1
    resp = client.get("/public/services/applied")
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/public/services/")


def _from(app, address, serial, number):
    c = app.test_client()
    return c.post("/public/services/track", environ_base={"REMOTE_ADDR": address},
                  data={"serial": serial, "id_number": number, "csrf_token": token(c)})


def test_a_flood_of_guesses_does_not_lock_the_applicant_out(app, item, clerk):
    """Misses count against the serial; once it has had too many, the addresses that
    missed it are refused (even with the right number), the applicant — who has not
    missed — still gets the answer, and an unknown serial is refused the same way."""
    case = case_in("accepted", item, clerk)
    limit = app.config["QL_SETTINGS"].public_lookup_per_minute
    for n in range(limit + 1):
        assert _from(app, f"10.0.0.{n}", case.serial, OTHER_ID).status_code == 404
    guesser = _from(app, "10.0.0.1", case.serial, VALID_ID)
    assert guesser.status_code == 429
    owner = _from(app, "10.0.9.9", case.serial, VALID_ID)
    assert owner.status_code == 200 and item.name in owner.get_data(as_text=True)
    assert _from(app, "10.0.9.8", case.serial, OTHER_ID).status_code == 404
    ghost = "510104-20260302-9999-A"
    for n in range(limit + 1):
        _from(app, f"10.1.0.{n}", ghost, OTHER_ID)
    assert _from(app, "10.1.0.1", ghost, VALID_ID).status_code == 429


def rate(client, serial, rating, number=VALID_ID, comment=""):
    return client.post("/public/services/rate", data={
        "serial": serial, "id_number": number, "rating": str(rating), "comment": comment,
        "csrf_token": token(client)})


def test_rating_once_after_closing(app, client, item, clerk):
    open_case = case_in("delivered", item, clerk)
    resp = rate(client, open_case.serial, 5)
    assert resp.status_code == 422 and "once it is closed" in resp.get_data(as_text=True)
    case = case_in("closed", item, clerk)
    assert rate(client, case.serial, 5, number=OTHER_ID).status_code == 404
    resp = rate(client, case.serial, 4, comment="很快")
    assert resp.status_code == 200
    resp = rate(client, case.serial, 1)
    assert resp.status_code == 422 and "already been rated" in resp.get_data(as_text=True)
    assert [(r.score, r.comment) for r in Rating.select()] == [(4, "很快")]
    assert Rectification.select().count() == 0


def test_bad_rating_raises_alert_and_rectification(app, org, client, item, clerk, events,
                                                   make_user):
    from core.alerts.models import Alert
    from core.org.models import PostHolding
    case = case_in("closed", item, clerk)
    head = make_user("head1", "eservice_manager", org["a"])
    PostHolding.create(person=head.person_id, post=org["head_a"], start=MON)
    assert rate(client, case.serial, 2, comment="态度差").status_code == 200
    rect = Rectification.get()
    assert rect.status == "open" and rect.department_id == case.department_id
    from core import calendar
    assert calendar.workdays_between(today(), rect.due) == 15
    alert = Alert.get_by_id(rect.alert_id)
    assert alert.kind == "eservice.rating.bad" and alert.target_post_id == org["head_a"].id
    assert case.serial in alert.subject and alert.state == "open"
    assert dict(events)["eservice.case.evaluated"]["rating"] == 2
    with pytest.raises(FieldError):
        rectification.close_rectification(rect, " ", head)
    rectification.close_rectification(rect, "已回访并整改", head)
    assert Rectification.get().status == "closed"
    assert Alert.get_by_id(rect.alert_id).state == "resolved"


def test_public_statistics(app, client, item, clerk):
    case = case_in("closed", item, clerk)
    rate(client, case.serial, 5)
    data = statistics.statistics()
    (dept, row), = data["departments"]
    assert row == {"handled": 1, "on_time": 1, "early": 1, "rated": 1, "satisfied": 1}
    body = client.get("/public/services/stats").get_data(as_text=True)
    assert dept.name in body and "100.0%" in body


def test_a_wrong_id_on_the_rating_form_keeps_what_was_typed(app, client, item, clerk):
    """Issue 15: the applicant who mistypes the ID number gets the form back with the
    serial, the typed number, the chosen rating and the comment — not an empty page."""
    case = case_in("closed", item, clerk)
    resp = rate(client, case.serial, 4, number=OTHER_ID, comment="窗口很耐心")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 404 and Rating.select().count() == 0
    assert f'value="{case.serial}"' in body and f'value="{OTHER_ID}"' in body
    assert "窗口很耐心" in body
    assert re.search(r'value="4"[^>]*checked|checked[^>]*value="4"', body)


def test_lookup_lists_missing_materials_and_shows_the_decision(app, client, item, clerk):
    """Issue 15, the citizen: after a supplement request the missing materials are listed;
    the decision (准予/不予) shows with its reason and legal basis; notes stay inside."""
    case = cases.transition(case_in("submitted", item, clerk), "request_supplement",
                            user=clerk, on=MON, missing=["营业执照复印件", "场所平面图"],
                            note="INTERNAL-NOTE")
    body = lookup(client, case.serial, VALID_ID).get_data(as_text=True)
    assert "Materials to supplement" in body
    assert "营业执照复印件; 场所平面图" in body and "INTERNAL-NOTE" not in body
    case = cases.transition(case, "receive_supplement", user=clerk, on=MON)
    body = lookup(client, case.serial, VALID_ID).get_data(as_text=True)
    assert "Materials to supplement" not in body  # listed in the timeline only
    assert body.count("营业执照复印件; 场所平面图") == 1
    case = cases.transition(case, "accept", user=clerk, on=MON)
    case = cases.transition(case, "start_review", user=clerk, on=MON)
    while "advance" in cases.allowed_actions(case):
        case = cases.transition(case, "advance", user=by("advance", clerk), on=MON)
    case = cases.transition(case, "decide", user=by("decide", clerk), on=MON, decision="denied",
                            reason="经营场所不符合要求", legal_basis="《食品经营许可管理办法》第十二条",
                            note="INTERNAL-NOTE")
    body = lookup(client, case.serial, VALID_ID).get_data(as_text=True)
    facts = body[body.index("es-facts"):body.index("es-timeline")]
    for text in ("Denied (不予)", "经营场所不符合要求", "《食品经营许可管理办法》第十二条",
                 "六十日内依法申请行政复议"):  # the rights a denial must state (第三十八条)
        assert text in facts, text
    assert "INTERNAL-NOTE" not in body
