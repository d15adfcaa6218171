"""Online application by the applicant (网上申报): the public form, the case it files on the
channel ``online``, the masked confirmation, bad input, inactive items, the per-client rate
limit and CSRF — and the clerk accepting the online case from the worklist."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from core.api import today
from core.audit.models import AuditEvent
from core.ratelimit import RateCounter
from plugins.eservice import applications, catalogue, lookup
from plugins.eservice.models import Case, CaseMaterial, Item
from tests.plugins.eservice.conftest import VALID_ID


def apply_url(item):
    return f"/public/services/items/{item.code}/apply"


def token(client, path):
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', html).group(1)


def application(item, tok, **over):
    data = {"applicant_name": "李四", "id_number": VALID_ID, "phone": "13900000000",
            "received": [str(m.id) for m in item.materials if m.required], "csrf_token": tok}
    data.update(over)
    return data


def test_item_page_links_to_the_online_application(app, client, item):
    page = client.get(f"/public/services/items/{item.code}").get_data(as_text=True)
    assert apply_url(item) in page and "Apply online" in page
    form = client.get(apply_url(item))
    body = form.get_data(as_text=True)
    assert form.status_code == 200 and form.headers["Cache-Control"] == "no-store"
    for text in ("食品经营许可申请书", "营业执照复印件", "委托书", 'name="id_number"'):
        assert text in body


def test_online_application_files_a_case(app, client, item, events):
    tok = token(client, apply_url(item))
    resp = client.post(apply_url(item), data=application(item, tok))
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/public/services/applied")
    case = Case.get()
    assert (case.channel, case.state, case.handler_id, case.created_by_id) == \
        ("online", "submitted", None, None)
    assert case.applicant_name == "李四" and case.applicant_phone == "13900000000"
    ticked = {m.name: m.received for m in CaseMaterial.select().where(CaseMaterial.case == case)}
    assert ticked == {"食品经营许可申请书": True, "营业执照复印件": True, "委托书": False}
    (_name, payload), = [e for e in events if e[0] == "eservice.case.submitted"]
    assert payload["case"]["serial"] == case.serial and payload["case"]["channel"] == "online"
    audit = AuditEvent.get(AuditEvent.action == "eservice.case.submitted")
    assert audit.user_id is None and audit.username == "" and audit.ip == "127.0.0.1"
    assert audit.object_id == str(case.id)
    page = client.get("/public/services/applied")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert case.serial in body and "/public/services/track" in body
    assert "1101**********002X" in body and VALID_ID not in body
    assert "Keep this serial number" in body
    found = lookup.find_case(case.serial, VALID_ID, "198.51.100.7")
    assert found is not None and found.id == case.id


def test_confirmation_without_an_application_goes_to_the_catalogue(app, client):
    resp = client.get("/public/services/applied")
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/public/services/")


def test_bad_id_number_is_refused_and_writes_nothing(app, client, item, events):
    tok = token(client, apply_url(item))
    audits = AuditEvent.select().count()
    resp = client.post(apply_url(item), data=application(item, tok,
                                                         id_number="110105194912310021"))
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "check character" in body and 'class="field-error"' in body
    resp = client.post(apply_url(item), data=application(item, tok, applicant_name=""))
    assert resp.status_code == 422 and "field-error" in resp.get_data(as_text=True)
    assert Case.select().count() == 0 and CaseMaterial.select().count() == 0
    assert RateCounter.select().count() == 0
    assert AuditEvent.select().count() == audits
    assert not [e for e in events if e[0].startswith("eservice.case.")]


def test_only_items_in_force_and_effective_take_applications(app, client, org, item):
    from tests.plugins.eservice.conftest import item_spec
    assert client.get("/public/services/items/NOPE/apply").status_code == 404
    future = catalogue.create_item(item_spec(org["dept_a"], name="未来事项",
                                            effective_from=today()
                                            + dt.timedelta(days=30)))
    assert client.get(apply_url(future)).status_code == 404
    assert apply_url(future) not in client.get(
        f"/public/services/items/{future.code}").get_data(as_text=True)
    Item.update(status="retired").where(Item.id == item.id).execute()
    assert client.get(apply_url(item)).status_code == 404
    tok = token(client, "/public/services/track")
    assert client.post(apply_url(item), data=application(item, tok)).status_code == 404
    assert Case.select().count() == 0


def test_applications_are_rate_limited_per_client(app, client, item):
    tok = token(client, apply_url(item))
    for _ in range(applications.APPLY_LIMIT):
        assert client.post(apply_url(item), data=application(item, tok)).status_code == 303
    resp = client.post(apply_url(item), data=application(item, tok))
    assert resp.status_code == 429
    assert "Too many applications" in resp.get_data(as_text=True)
    assert Case.select().count() == applications.APPLY_LIMIT
    assert AuditEvent.select().where((AuditEvent.action == "eservice.apply.limited")
                                     & (AuditEvent.ip == "127.0.0.1")).count() == 1
    other = client.post(apply_url(item), data=application(item, tok),
                        environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert other.status_code == 303
    assert Case.select().count() == applications.APPLY_LIMIT + 1


def test_missing_csrf_token_is_refused(app, client, item):
    resp = client.post(apply_url(item), data=application(item, ""))
    assert resp.status_code == 400
    assert Case.select().count() == 0


def test_clerk_accepts_an_online_case_from_the_worklist(app, client, login, item, clerk):
    with app.test_request_context(environ_base={"REMOTE_ADDR": "192.0.2.1"}):
        case = applications.file_online(item, applicant_name="王五", id_number=VALID_ID,
                                        phone="13700000000",
                                        received=[m.id for m in item.materials if m.required],
                                        client="192.0.2.1")
    login(clerk)
    body = client.get("/eservice/worklist?view=department").get_data(as_text=True)
    assert case.serial in body and "Filed online" in body and "1101**********002X" in body
    tok = token(client, "/eservice/worklist?view=department")
    resp = client.post(f"/eservice/cases/{case.id}/act/accept?in=row",
                       data={"csrf_token": tok}, headers={"HX-Request": "true"})
    assert resp.status_code == 200
    fresh = Case.get_by_id(case.id)
    assert fresh.state == "accepted" and fresh.handler_id == clerk.id
    assert fresh.deadline is not None
    assert case.serial in client.get("/eservice/worklist").get_data(as_text=True)


@pytest.mark.browser
def test_apply_online_in_a_browser(app, live_server, page, item):
    from tests.e2e.conftest import shot
    page.goto(f"{live_server}/public/services/items/{item.code}")
    page.click(f"a[href$='/items/{item.code}/apply']")
    page.fill("input[name=applicant_name]", "李四")
    page.fill("input[name=id_number]", "110105194912310021")  # wrong check character
    page.fill("input[name=phone]", "13900000000")
    for box in page.locator("input[name=received]").all()[:2]:
        box.check()
    page.click("form.es-apply button[type=submit]")
    assert "check character" in page.locator(".field-error").inner_text()
    shot(page, "eservice-apply-error")
    page.fill("input[name=id_number]", VALID_ID)
    page.click("form.es-apply button[type=submit]")
    page.wait_for_url("**/public/services/applied")
    case = Case.get()
    assert case.serial == page.inner_text(".es-serial").strip()
    assert "1101**********002X" in page.content() and VALID_ID not in page.content()
    shot(page, "eservice-apply-done")


def test_the_receipt_names_the_committed_limit_and_a_contact(app, client, org):
    """Issue 15: the receipt of an online application names the department, the day by
    which it is to be accepted, the committed time limit and the numbers to call."""
    from tests.plugins.eservice.conftest import item_spec
    item = catalogue.create_item(item_spec(org["dept_a"], consult_phone="028-86661234",
                                           complaint_phone="028-12345"))
    tok = token(client, apply_url(item))
    assert client.post(apply_url(item), data=application(item, tok)).status_code == 303
    body = client.get("/public/services/applied").get_data(as_text=True)
    case = Case.get()
    for text in (org["dept_a"].name, str(case.accept_by), "5 working days from acceptance",
                 "028-86661234", "028-12345"):
        assert text in body, text
