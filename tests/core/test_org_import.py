"""Organisation import (CSV, XLSX): preview with bad rows, all-or-nothing apply, export."""
import io
import re

import pytest

from core.audit.models import AuditEvent
from core.org import importer
from core.org.models import Department, Person, Post, PostHolding

HEADER = ("region_code,department_code,department_name,post_title,risk_level,is_head,"
          "person_name,phone,email,start_date\n")
GOOD = (HEADER
        + "510104,CZ,锦江区财政局,局长,3,是,周一,13800000001,zhou1@example.gov.cn,2025-01-02\n"
        + "510104,CZ,锦江区财政局,采购专员,3,否,吴二,028-61881234,,2025/02/03\n"
        + "510104,ZF,,窗口受理员,2,0,郑三,,zheng3@example.gov.cn,2025-03-04\n"
        + "510104,CZ,锦江区财政局,采购专员,3,0,周一,13800000001,zhou1@example.gov.cn,"
          "2025-04-05\n")
BAD = (GOOD
       + "510105,QY,青羊区某局,科员,1,0,钱四,13800000004,,2025-01-01\n"
       + "510104,CZ,锦江区财政局,科员,5,0,孙五,13800000005,,2025-01-01\n"
       + "510104,CZ,锦江区财政局,科员,1,0,李六,12345,,2025-01-01\n"
       + "510104,CZ,锦江区财政局,科员,1,0,王七,,not-an-email,2025-01-01\n"
       + "510104,CZ,锦江区财政局,科员,1,0,,,,2025-01-01\n"
       + "510104,NEW,,科员,1,0,冯八,,,2025-01-01\n"
       + "510104,CZ,锦江区财政局,科员,1,0,陈九,,,01/02/2025\n")


@pytest.fixture
def admin_a(org, make_user, login):
    user = make_user("admin_a", role="sys_admin", region=org["a"])
    login(user)
    return user


def _token(client):
    html = client.get("/org/import").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _upload(client, csrf, data: bytes, name: str, kind: str = "people"):
    return client.post("/org/import", data={"kind": kind, "csrf_token": csrf,
                                            "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def _counts():
    return (Department.select().count(), Post.select().count(), Person.select().count(),
            PostHolding.select().count())


def _uploads(app):
    folder = app.instance_path + "/" + importer.UPLOAD_DIR
    import os
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


def test_preview_lists_bad_rows_and_apply_writes_nothing(app, client, org, admin_a):
    csrf = _token(client)
    before = _counts()
    resp = _upload(client, csrf, BAD.encode("utf-8"), "people.csv")
    assert resp.status_code == 303
    token = resp.headers["Location"].rsplit("/", 1)[-1]
    assert len(_uploads(app)) == 2  # the file and its note, under the random token
    assert all(name.startswith(token) for name in _uploads(app))
    html = client.get(f"/org/import/{token}").get_data(as_text=True)
    rows = dict(re.findall(r"<tr><td>(\d+)</td><td>([^<]+)</td></tr>", html))
    assert set(rows) == {"6", "7", "8", "9", "10", "11", "12"}
    assert "region_code: 510105 is unknown or not within your scope" in rows["6"]
    assert rows["7"].startswith("risk_level:")
    assert rows["8"].startswith("phone:")
    assert rows["9"].startswith("email:")
    assert rows["10"].startswith("person_name: required")
    assert rows["11"].startswith("department_name: required to create department NEW")
    assert rows["12"].startswith("start_date:")
    assert re.search(r'class="good-count">4<', html)
    assert "Apply" not in html.split("Discard")[0].split("bad-rows")[-1]
    # applying a file with bad rows is refused and writes nothing at all
    resp = client.post(f"/org/import/{token}/apply", data={"csrf_token": csrf})
    assert resp.status_code == 422
    assert "7 bad rows; nothing was imported" in resp.get_data(as_text=True)
    assert _counts() == before
    assert not AuditEvent.select().where(AuditEvent.action == "org.import").exists()


def test_apply_good_csv_all_in_one_audited_step(app, client, org, admin_a):
    csrf = _token(client)
    before = _counts()
    token = _upload(client, csrf, GOOD.encode("utf-8"), "people.csv").headers[
        "Location"].rsplit("/", 1)[-1]
    html = client.get(f"/org/import/{token}").get_data(as_text=True)
    assert re.search(r'class="bad-count">0<', html) and "Apply 4 rows" in html
    resp = client.post(f"/org/import/{token}/apply", data={"csrf_token": csrf})
    assert resp.status_code == 303
    assert _counts() == (before[0] + 1, before[1] + 2, before[2] + 3, before[3] + 4)
    dept = Department.get((Department.region == org["a"].id) & (Department.code == "CZ"))
    head = Post.get((Post.department == dept.id) & (Post.title == "局长"))
    assert head.is_head and head.risk_level == 3
    zhou = Person.get(Person.name == "周一")
    assert zhou.phone == "13800000001"
    assert PostHolding.select().where(PostHolding.person == zhou.id).count() == 2
    event = AuditEvent.select().where(AuditEvent.action == "org.import").get()
    assert "4 rows" in event.summary and event.username == "admin_a"
    assert _uploads(app) == []  # deleted after apply
    assert client.get(f"/org/import/{token}").status_code == 404


def test_apply_rechecks_and_is_all_or_nothing(app, org, make_user):
    """Rows that were good at preview but clash at apply time leave nothing behind."""
    admin = make_user("svc_admin", role="sys_admin", region=org["a"])
    data = GOOD.encode("utf-8")
    assert importer.preview(admin, "people", data, "p.csv").ok
    Post.create(department=Department.create(region=org["a"], code="CZ", name="锦江区财政局"),
                title="另一个局长", is_head=True)
    before = _counts()
    with pytest.raises(importer.ImportRejected) as exc:
        importer.apply(admin, "people", data, "p.csv")
    assert exc.value.preview.bad[0][0] == 2
    assert "already has a head post" in exc.value.preview.bad[0][1]
    assert _counts() == before


def test_xlsx_import(app, client, org, admin_a):
    import datetime as dt

    import openpyxl
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["region_code", "department_code", "department_name", "post_title",
                  "risk_level", "is_head", "person_name", "phone", "email", "start_date"])
    sheet.append([510104, "SW", "锦江区商务局", "局长", 2, 1, "褚十", 13900000010,
                  "chu@example.gov.cn", dt.datetime(2025, 5, 6)])
    sheet.append([510104, "SW", "锦江区商务局", "科员", 1, 0, "卫十一", None, None, "2025-05-07"])
    sheet.append([None] * 10)
    buf = io.BytesIO()
    book.save(buf)
    csrf = _token(client)
    token = _upload(client, csrf, buf.getvalue(), "people.xlsx").headers["Location"].rsplit(
        "/", 1)[-1]
    html = client.get(f"/org/import/{token}").get_data(as_text=True)
    assert re.search(r'class="good-count">2<', html)
    assert client.post(f"/org/import/{token}/apply",
                       data={"csrf_token": csrf}).status_code == 303
    chu = Person.get(Person.name == "褚十")
    assert chu.phone == "13900000010"
    holding = PostHolding.get(PostHolding.person == chu.id)
    assert holding.start == dt.date(2025, 5, 6) and holding.post.is_head


def test_departments_import_and_file_errors(app, client, org, admin_a):
    csrf = _token(client)
    data = ("region_code,department_code,department_name,short_name,is_supervision_office\n"
            "510104,ZF,锦江区行政审批局,审批局,0\n"
            "510104,JJ,锦江区纪委,纪委,1\n").encode("gb18030")
    token = _upload(client, csrf, data, "depts.csv", "departments").headers[
        "Location"].rsplit("/", 1)[-1]
    assert client.post(f"/org/import/{token}/apply",
                       data={"csrf_token": csrf}).status_code == 303
    assert Department.get_by_id(org["dept_a"].id).name == "锦江区行政审批局"
    assert Department.get(Department.code == "JJ").is_supervision_office
    # a file of the wrong type, and one missing required columns
    resp = _upload(client, csrf, b"hello", "people.txt")
    assert resp.status_code == 422 and "expected a .csv or .xlsx file" in resp.get_data(
        as_text=True)
    resp = _upload(client, csrf, b"PK-not-really", "people.xlsx")
    assert resp.status_code == 422 and "not a readable XLSX" in resp.get_data(as_text=True)
    token = _upload(client, csrf, b"name,phone\nx,1\n", "people.csv").headers[
        "Location"].rsplit("/", 1)[-1]
    resp = client.get(f"/org/import/{token}")
    assert resp.status_code == 422
    assert "missing columns region_code, department_code" in resp.get_data(as_text=True)


def test_upload_token_belongs_to_its_user(app, client, org, admin_a, make_user, login):
    csrf = _token(client)
    token = _upload(client, csrf, GOOD.encode(), "p.csv").headers["Location"].rsplit("/", 1)[-1]
    other = app.test_client()
    login(make_user("admin_a2", role="sys_admin", region=org["a"]), c=other)
    assert other.get(f"/org/import/{token}").status_code == 404
    assert client.get("/org/import/..%2F..%2Fql.db").status_code == 404
    assert client.post(f"/org/import/{token}/discard",
                       data={"csrf_token": csrf}).status_code == 303
    assert _uploads(app) == []


def test_export_people_csv_is_scoped_and_audited(app, client, org, admin_a):
    resp = client.get("/org/people/export.csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    text = resp.get_data(as_text=True).lstrip("\ufeff")
    lines = text.strip().splitlines()
    assert lines[0] == HEADER.strip()
    assert any("受理员a" in line and "窗口受理员" in line for line in lines)
    assert not any("受理员b" in line for line in lines)
    event = AuditEvent.select().where(AuditEvent.action == "org.export").get()
    assert event.username == "admin_a" and "people" in event.summary
    # the export reads back as an import; only people without a post need a department
    result = importer.preview(admin_a, "people", text.encode(), "export.csv")
    assert len(result.good) == 3  # the three post holders of county a
    assert [reason for _row, reason in result.bad] == ["department_code: required."]
