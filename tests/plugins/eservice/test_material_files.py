"""Materials uploaded with an online application: stored encrypted by the core's file
store, refused with the material named when of the wrong type or too large, listed on the
confirmation, and downloaded only by staff who may see the case."""
from __future__ import annotations

import io

import pytest

from core.api import StoredFile
from core.audit.models import AuditEvent
from plugins.eservice import applications
from plugins.eservice.models import Case, CaseMaterial, ItemMaterial
from tests.plugins.eservice.test_online import application, apply_url, token

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n" + b"0" * 3000
PNG = b"\x89PNG\r\n\x1a\n" + b"1" * 2000


def materials(item) -> list[ItemMaterial]:
    return list(item.materials.order_by(ItemMaterial.seq))


def post(client, item, files: dict, **over):
    data = application(item, token(client, apply_url(item)), **over)
    for material_id, (content, name) in files.items():
        data[f"file_{material_id}"] = (io.BytesIO(content), name)
    return client.post(apply_url(item), data=data, content_type="multipart/form-data")


def test_uploaded_materials_are_stored_encrypted_with_the_case(app, client, item, settings):
    first, second, third = materials(item)
    resp = post(client, item, {first.id: (PDF, "申请书.pdf"), third.id: (PNG, "委托书.png")},
                received=[])
    assert resp.status_code == 303, resp.get_data(as_text=True)[:2000]
    case = Case.get()
    rows = {m.name: m for m in CaseMaterial.select().where(CaseMaterial.case == case)}
    assert rows[first.name].received and rows[third.name].received
    assert not rows[second.name].received and rows[second.name].file_id is None
    stored = StoredFile.get_by_id(rows[first.name].file_id)
    assert (stored.purpose, stored.kind, stored.filename, stored.size) == \
        ("eservice.material", "pdf", "申请书.pdf", len(PDF))
    blob = (settings.files_root() / stored.blob[:2] / stored.blob).read_bytes()
    assert blob.startswith(b"ql1:") and PDF[:40] not in blob
    page = client.get("/public/services/applied").get_data(as_text=True)
    assert "uploaded: 申请书.pdf" in page and "uploaded: 委托书.png" in page


@pytest.mark.parametrize("content,name,message", [
    (b"MZ\x90\x00\x03 an executable", "营业执照.pdf", "cannot be recognised"),
    (b"just some text", "营业执照.pdf", "(plain text) are not accepted"),
    (b"", "empty.pdf", "The file is empty."),
])
def test_a_wrong_file_refuses_the_application_naming_the_material(app, client, item, content,
                                                                   name, message):
    second = materials(item)[1]
    resp = post(client, item, {second.id: (content, name)})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert f'id="file_{second.id}-error"' in body and message in body
    assert Case.select().count() == 0 and StoredFile.select().count() == 0


def test_a_file_over_the_limit_is_refused(app, client, item, monkeypatch):
    monkeypatch.setattr(applications, "MATERIAL_MAX_BYTES", 1024)
    first = materials(item)[0]
    resp = post(client, item, {first.id: (PDF, "big.pdf")})
    assert resp.status_code == 422 and "larger than 1 KB" in resp.get_data(as_text=True)
    assert Case.select().count() == 0


@pytest.fixture
def uploaded(app, client, item):
    first = materials(item)[0]
    assert post(client, item, {first.id: (PDF, "申请书.pdf")}).status_code == 303
    case = Case.get()
    material = CaseMaterial.get((CaseMaterial.case == case) & (CaseMaterial.name == first.name))
    return case, material


def test_staff_of_the_county_download_it_as_an_audited_attachment(app, uploaded, org,
                                                                  make_user, login):
    case, material = uploaded
    clerk = make_user("clerk_a", "clerk", org["a"])
    client = app.test_client()
    login(clerk, c=client)
    page = client.get(f"/eservice/cases/{case.id}").get_data(as_text=True)
    url = f"/eservice/cases/{case.id}/materials/{material.id}/file"
    assert url in page and "申请书.pdf" in page and "uploaded by the applicant" in page
    resp = client.get(url)
    assert resp.status_code == 200 and resp.get_data() == PDF
    assert resp.headers["Content-Disposition"].startswith("attachment;")
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.mimetype == "application/pdf"
    event = AuditEvent.get(AuditEvent.action == "file.download")
    assert event.user_id == clerk.id and event.object_id == str(material.file_id)
    other = CaseMaterial.get((CaseMaterial.case == case) & CaseMaterial.file.is_null())
    assert client.get(f"/eservice/cases/{case.id}/materials/{other.id}/file").status_code == 404


def test_nobody_else_gets_the_file(app, uploaded, org, make_user, login):
    case, material = uploaded
    url = f"/eservice/cases/{case.id}/materials/{material.id}/file"
    anonymous = app.test_client().get(url)
    assert anonymous.status_code in (302, 303) and "/login" in anonymous.headers["Location"]
    outsider = app.test_client()
    login(make_user("clerk_b", "clerk", org["b"]), c=outsider)
    assert outsider.get(url).status_code == 404
    assert AuditEvent.select().where(AuditEvent.action == "file.download").count() == 0
