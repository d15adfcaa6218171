"""Issue 15, the citizen: after a supplement request (补正告知) the applicant supplements
online — one file per listed material, type sniffed from the content, size limited,
stored encrypted in the core's file store —; the receipt names the committed date, the
hall's address and a contact (set per region, at the region's own level); the phone
number is checked with a translated error."""
from __future__ import annotations

import io
import re

import pytest

from core.api import AccessDenied, FieldError, StoredFile, add_workdays
from core.audit.models import AuditEvent
from plugins.eservice import applications, contact
from plugins.eservice.models import Case, CaseMaterial, HallContact
from tests.plugins.eservice.conftest import VALID_ID
from tests.plugins.eservice.test_cases import MON, case_in
from tests.plugins.eservice.test_online import application, apply_url, token
from tests.plugins.eservice.test_public import OTHER_ID

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n" + b"0" * 2000
PNG = b"\x89PNG\r\n\x1a\n" + b"1" * 2000
LISTED = ["营业执照复印件", "场所平面图"]  # one of the item's materials, one written in


def requested(item, clerk):
    from plugins.eservice import cases
    return cases.transition(case_in("accepted", item, clerk), "request_supplement",
                            user=clerk, on=MON, missing=LISTED, reason="复印件不清晰")


def send(client, serial, files: dict, number=VALID_ID):
    tok = token(client, "/public/services/track")
    data = {"serial": serial, "id_number": number, "csrf_token": tok}
    for index, (content, name) in files.items():
        data[f"file_{index}"] = (io.BytesIO(content), name)
    return client.post("/public/services/supplement", data=data,
                       content_type="multipart/form-data")


def unchanged(case):
    row = Case.get_by_id(case.id)
    return (row.state, row.stopped_since, StoredFile.select().count(),
            CaseMaterial.select().where(CaseMaterial.file.is_null(False)).count())


def test_track_page_offers_the_supplement_form_for_the_listed_materials(app, client, item,
                                                                       clerk):
    case = requested(item, clerk)
    tok = token(client, "/public/services/track")
    body = client.post("/public/services/track", data={
        "serial": case.serial, "id_number": VALID_ID, "csrf_token": tok}).get_data(as_text=True)
    form = body[body.index("es-supplement"):]
    assert 'name="file_0"' in form and 'name="file_1"' in form and 'name="file_2"' not in form
    assert all(name in form for name in LISTED)
    assert 'enctype="multipart/form-data"' in body
    answer = client.post("/public/services/track", headers={"HX-Request": "true"}, data={
        "serial": case.serial, "id_number": VALID_ID, "csrf_token": tok})  # htmx: the answer
    assert answer.status_code == 200 and 'name="file_1"' in answer.get_data(as_text=True)


def test_supplement_online_receives_the_files_and_restarts_the_clock(app, client, item,
                                                                    clerk):
    case = requested(item, clerk)
    assert Case.get_by_id(case.id).stopped_since == MON
    resp = send(client, case.serial, {0: (PDF, "执照.pdf"), 1: (PNG, "平面图.png")})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200, body[:1500]
    assert resp.headers["Cache-Control"] == "no-store"
    assert "执照.pdf" in body and "平面图.png" in body
    row = Case.get_by_id(case.id)
    assert row.state == "supplement_received" and row.stopped_since is None
    rows = {m.name: m for m in CaseMaterial.select().where(CaseMaterial.case == case.id)}
    assert rows["场所平面图"].required and rows["场所平面图"].received
    kinds = {StoredFile.get_by_id(rows[n].file_id).kind for n in LISTED}
    assert kinds == {"pdf", "png"}
    assert AuditEvent.get(AuditEvent.action == "eservice.case.supplement_online").user_id \
        is None
    assert AuditEvent.select().where(
        AuditEvent.action == "eservice.case.supplement_received").exists()


@pytest.mark.parametrize("files,field,status", [
    ({0: (PDF, "执照.pdf")}, "file_1", 422),                        # one listed file missing
    ({0: (PDF, "执照.pdf"), 1: (b"MZ\x90\x00 exe", "平面图.pdf")}, "file_1", 422),  # sniffed
    ({0: (PDF + b"0" * applications.MATERIAL_MAX_BYTES, "大.pdf"), 1: (PNG, "p.png")},
     "file_0", 422),                                                 # too large
])
def test_a_refused_file_names_it_and_writes_nothing(app, client, item, clerk, files, field,
                                                     status):
    case = requested(item, clerk)
    before = unchanged(case)
    resp = send(client, case.serial, files)
    body = resp.get_data(as_text=True)
    assert resp.status_code == status
    assert f'id="{field}-error"' in body and 'name="file_0"' in body  # asked again
    assert unchanged(case) == before


def test_wrong_id_and_a_case_not_waiting_are_refused(app, client, item, clerk):
    case = requested(item, clerk)
    before = unchanged(case)
    resp = send(client, case.serial, {0: (PDF, "a.pdf"), 1: (PDF, "b.pdf")}, number=OTHER_ID)
    assert resp.status_code == 404
    assert "No case matches this serial number and ID number." in resp.get_data(as_text=True)
    assert unchanged(case) == before
    other = case_in("in_review", item, clerk)
    resp = send(client, other.serial, {0: (PDF, "a.pdf")})
    assert resp.status_code == 409 and Case.get_by_id(other.id).state == "in_review"


def test_receipt_names_the_committed_date_the_hall_and_a_contact(app, org, client, item,
                                                                 make_user):
    city_admin = make_user("city_admin", "eservice_manager", org["city"])
    county_admin = make_user("county_admin", "eservice_manager", org["a"])
    contact.set_contact(city_admin, org["city"], address="成都市天府大道1号市民中心",
                        phone="028-61234567", hours="工作日 9:00–17:00")
    with pytest.raises(AccessDenied):  # a county grant never sets the city's
        contact.set_contact(county_admin, org["city"], address="x", phone="028-61234568")
    assert HallContact.get().address == "成都市天府大道1号市民中心"

    def receipt():
        tok = token(client, apply_url(item))
        assert client.post(apply_url(item), data=application(item, tok)).status_code == 303
        return client.get("/public/services/applied").get_data(as_text=True)
    body = receipt()
    case = Case.select().order_by(Case.id.desc()).get()
    latest = add_workdays(case.accept_by, item.committed_days)
    assert f"by {latest} at the latest" in body
    assert "成都市天府大道1号市民中心" in body and "028-61234567" in body  # the city's
    contact.set_contact(county_admin, org["a"], address="锦江区政务服务中心二楼",
                        phone="13800138000")
    body = receipt()
    assert "锦江区政务服务中心二楼" in body and "13800138000" in body
    assert "天府大道" not in body
    assert AuditEvent.select().where(
        AuditEvent.action == "eservice.hall_contact.set").count() == 2


def test_contact_page_level_check_and_phone_error(app, org, client, login, make_user):
    county_admin = make_user("county_admin", "eservice_manager", org["a"])
    login(county_admin)
    page = client.get("/eservice/hall-contacts").get_data(as_text=True)
    assert "锦江区" in page and "成都市" not in page
    tok = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    a = org["a"].id
    resp = client.post(f"/eservice/hall-contacts/{org['city'].id}", data={
        "csrf_token": tok, f"r{org['city'].id}-address": "x",
        f"r{org['city'].id}-phone": "028-61234567"})
    assert resp.status_code == 403 and HallContact.select().count() == 0
    resp = client.post(f"/eservice/hall-contacts/{a}", data={
        "csrf_token": tok, f"r{a}-address": "锦江区政务服务中心", f"r{a}-phone": "12345678901"})
    assert resp.status_code == 422 and HallContact.select().count() == 0
    assert "No mobile number begins with 123." in resp.get_data(as_text=True)
    with client.session_transaction() as s:
        s["locale"] = "zh_CN"
    resp = client.post(f"/eservice/hall-contacts/{a}", data={
        "csrf_token": tok, f"r{a}-address": "锦江区政务服务中心", f"r{a}-phone": "02812"})
    assert resp.status_code == 422
    assert "028" in resp.get_data(as_text=True) and "固定电话" in resp.get_data(as_text=True)
    resp = client.post(f"/eservice/hall-contacts/{a}", data={
        "csrf_token": tok, f"r{a}-address": "锦江区政务服务中心", f"r{a}-phone": "028 8555 1234"})
    assert resp.status_code == 303
    assert HallContact.get().phone == "028-85551234"
    with pytest.raises(FieldError):
        contact.set_contact(county_admin, org["a"], address=" ", phone="028-85551234")


@pytest.mark.parametrize("phone,fragment", [
    ("12345678901", "没有以 123 开头的手机号码。"),
    ("1380013800", "手机号码应为 11 位（现为 10 位）。"),
    ("85551234", "请填写手机号码，或带区号的固定电话"),
])
def test_online_application_checks_the_phone_with_a_translated_error(app, client, item,
                                                                     phone, fragment):
    with client.session_transaction() as s:
        s["locale"] = "zh_CN"
    tok = token(client, apply_url(item))
    resp = client.post(apply_url(item), data=application(item, tok, phone=phone))
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422 and Case.select().count() == 0
    assert fragment in body and 'id="phone-error"' in body
    assert 'value="李四"' in body  # what was typed stays
