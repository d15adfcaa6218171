"""Staff pages: filing at the window, the worklist acting in place, the case page, the
audited ID reveal, region scope, and catalogue import/export."""
from __future__ import annotations

import io
import re

from core.audit.models import AuditEvent
from plugins.eservice import cases, catalogue, importer
from plugins.eservice.models import Case, Item
from tests.plugins.eservice.conftest import VALID_ID
from tests.plugins.eservice.test_cases import case_in


def csrf(client, path):
    html = client.get(path).get_data(as_text=True)
    m = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html) or \
        re.search(r'"X-CSRFToken": "([^"]+)"', html)
    return m.group(1)


def test_file_case_at_window_with_clear_id_error(app, client, login, item, clerk):
    login(clerk)
    path = f"/eservice/file/{item.id}"
    tok = csrf(client, path)
    resp = client.post(path, data={"applicant_name": "王五", "id_number": "110105194912310021",
                                   "csrf_token": tok})
    assert resp.status_code == 422
    assert "check character" in resp.get_data(as_text=True)
    assert Case.select().count() == 0
    ids = [m.id for m in item.materials]
    resp = client.post(path, data={"applicant_name": "王五", "id_number": VALID_ID,
                                   "received": ids, "csrf_token": tok})
    assert resp.status_code == 303
    case = Case.get()
    assert case.channel == "window" and case.handler_id == clerk.id
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert case.serial in page and "1101**********002X" in page and VALID_ID not in page


def test_worklist_acts_in_place(app, client, login, item, clerk):
    late = case_in("in_review", item, clerk)
    fresh = cases.file_case(item, applicant_name="赵六", id_number=VALID_ID,
                            received=[m.id for m in item.materials], user=clerk)
    login(clerk)
    body = client.get("/eservice/worklist").get_data(as_text=True)
    assert body.index(late.serial) < body.index(fresh.serial)  # the late one first
    assert "es-row-red" in body and "days late" in body
    tok = csrf(client, "/eservice/worklist")
    resp = client.post(f"/eservice/cases/{fresh.id}/act/accept?in=row",
                       data={"csrf_token": tok}, headers={"HX-Request": "true"})
    assert resp.status_code == 200
    row = resp.get_data(as_text=True)
    assert row.startswith(f'<tr id="case-row-{fresh.id}"') or f'id="case-row-{fresh.id}"' in row
    assert "days left" in row and Case.get_by_id(fresh.id).state == "accepted"
    resp = client.post(f"/eservice/cases/{fresh.id}/act/deliver?in=row",
                       data={"csrf_token": tok}, headers={"HX-Request": "true"})
    assert resp.status_code == 422
    assert "cannot be moved" in resp.get_data(as_text=True)
    assert "<tr" not in resp.get_data(as_text=True)  # cells only: swapped into the row
    resp = client.post(f"/eservice/cases/{fresh.id}/act/request_supplement",
                       data={"csrf_token": tok, "missing_other": ""})
    assert resp.status_code == 422 and "List everything" in resp.get_data(as_text=True)
    assert Case.get_by_id(fresh.id).state == "accepted"


def test_id_reveal_needs_permission_and_is_audited(app, client, login, org, item, clerk,
                                                   make_user):
    case = case_in("accepted", item, clerk)
    login(clerk)
    tok = csrf(client, f"/eservice/cases/{case.id}")
    assert client.post(f"/eservice/cases/{case.id}/id-number",
                       data={"csrf_token": tok}).status_code == 403
    client.post("/logout", data={"csrf_token": tok})
    manager = make_user("mgr", "eservice_manager", org["a"])
    login(manager)
    tok = csrf(client, f"/eservice/cases/{case.id}")
    resp = client.post(f"/eservice/cases/{case.id}/id-number", data={"csrf_token": tok})
    assert resp.status_code == 200 and VALID_ID in resp.get_data(as_text=True)
    assert resp.headers["Cache-Control"] == "no-store"
    view = AuditEvent.select().where(AuditEvent.action == "eservice.id.view").get()
    assert view.username == "mgr" and view.object_id == str(case.id)


def test_other_region_answers_404(app, client, login, org, item, clerk, make_user):
    case = case_in("accepted", item, clerk)
    outsider = make_user("clerk_b", "clerk", org["b"])
    login(outsider)
    assert client.get(f"/eservice/cases/{case.id}").status_code == 404
    assert case.serial not in client.get("/eservice/worklist?view=all").get_data(as_text=True)


def test_supervisor_reads_but_cannot_act(app, client, login, org, item, clerk, make_user):
    case = case_in("accepted", item, clerk)
    sup = make_user("sup", "supervisor", org["city"])
    login(sup)
    assert client.get(f"/eservice/cases/{case.id}").status_code == 200
    tok = csrf(client, f"/eservice/cases/{case.id}")
    assert client.post(f"/eservice/cases/{case.id}/act/start_review",
                       data={"csrf_token": tok}).status_code == 403


def test_import_preview_bad_rows_then_all_or_nothing(app, client, login, org, item, make_user):
    manager = make_user("mgr", "eservice_manager", org["a"])
    login(manager)
    exported = client.get("/eservice/catalogue/export.csv")
    assert exported.status_code == 200
    text = exported.get_data().decode("utf-8-sig")
    assert item.code in text and "审查|" in text
    good = ("name,type,region_code,department_code,statutory_days,committed_days,steps,"
            "materials\n"
            "建筑工程施工许可,XK,510104,ZF,15,7,review|审查|5|科员; decide|决定|2|局长,"
            "申请表|original|1|required\n")
    bad = good + "坏事项,XX,510104,ZF,10,3,review|审查|2,\n" + \
        "超限事项,XK,510104,ZF,5,9,review|审查|2,\n" + "外区事项,XK,510105,ZF,5,3,review|审查|2,\n"
    tok = csrf(client, "/eservice/catalogue/import")
    resp = client.post("/eservice/catalogue/import", data={
        "csrf_token": tok, "file": (io.BytesIO(bad.encode()), "items.csv")},
        content_type="multipart/form-data")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "3 bad rows" in body
    assert "Unknown item type" in body and "committed limit" in body and "outside" in body
    assert "Import all rows" not in body
    assert Item.select().count() == 1
    resp = client.post("/eservice/catalogue/import", data={
        "csrf_token": tok, "file": (io.BytesIO(good.encode()), "items.csv")},
        content_type="multipart/form-data")
    token = re.search(r'name="token" value="([^"]+)"', resp.get_data(as_text=True)).group(1)
    for hostile in ("9" * 400, "../" + token, token + "x", token.upper()):  # 500 on "9"*400
        resp = client.post("/eservice/catalogue/import", data={"csrf_token": tok,
                                                               "token": hostile})
        assert resp.status_code == 422 and "upload the file again" in resp.get_data(as_text=True)
    assert Item.select().count() == 1
    resp = client.post("/eservice/catalogue/import", data={"csrf_token": tok, "token": token})
    assert resp.status_code == 303
    new = Item.get(Item.name == "建筑工程施工许可")
    assert new.code == "51010400ZF-XK-0002" and new.steps.count() == 2
    xlsx = client.get("/eservice/catalogue/export.xlsx")
    assert xlsx.status_code == 200 and xlsx.get_data()[:2] == b"PK"
    from openpyxl import load_workbook
    rows = list(load_workbook(io.BytesIO(xlsx.get_data())).active.iter_rows(values_only=True))
    assert list(rows[0]) == importer.COLUMNS and len(rows) == 3


def test_import_xlsx_roundtrip_revises_existing(app, org, item, make_user):
    from openpyxl import Workbook
    wb = Workbook()
    ws = wb.active
    ws.append(importer.COLUMNS)
    row = importer.export_rows(Item.select().where(Item.id == item.id))[0]
    row[7] = "4"  # committed days 5 -> 4: a new version
    ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    from core.org.models import Department
    allowed = Department.select()
    preview = importer.preview("c.xlsx", buf.getvalue(), allowed)
    assert preview["bad"] == [] and preview["revised"] == 1
    importer.apply(preview["token"], allowed, None)
    current = catalogue.current_item(item.code)
    assert current.version == 2 and current.committed_days == 4


def test_dashboard_widget_counts_cases_in_scope(app, client, login, item, clerk):
    """The clerk's dashboard carries the service-hall widget with the case just filed."""

    from tests.plugins.eservice.conftest import VALID_ID
    case = cases.file_case(item, applicant_name="张三", id_number=VALID_ID,
                           phone="13800000000", user=clerk)
    login(clerk)
    html = client.get("/dashboard").get_data(as_text=True)
    assert "Service hall cases" in html and case.serial in html


def test_catalogue_exports_are_formula_safe(app, client, login, org, item, make_user):
    from openpyxl import load_workbook
    Item.update(name="=HYPERLINK(\"http://evil.invalid\",\"点此\")",
                conditions="+cmd|' /C calc'!A0").where(Item.id == item.id).execute()
    login(make_user("mgr", "eservice_manager", org["a"]))
    text = client.get("/eservice/catalogue/export.csv").get_data().decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "'+cmd" in text
    assert ",=HYPERLINK" not in text and ",+cmd" not in text
    xlsx = client.get("/eservice/catalogue/export.xlsx")
    row = list(load_workbook(io.BytesIO(xlsx.get_data())).active.iter_rows())[1]
    name = row[importer.COLUMNS.index("name")]
    assert name.data_type == "s" and name.value.startswith("=HYPERLINK")
    assert row[importer.COLUMNS.index("conditions")].data_type == "s"


def test_a_case_waiting_past_its_acceptance_limit_is_red(app, client, login, item, clerk):
    """受理时限: a case not accepted within 5 working days of receipt is late — red on the
    worklist, as the legend says — and waits on its own clock again after a supplement."""
    from core.api import subtract_workdays, today
    waiting = cases.file_case(item, applicant_name="钱七", id_number=VALID_ID,
                              received=[m.id for m in item.materials], user=clerk,
                              on=subtract_workdays(today(), 8))
    assert waiting.accept_by == cases.add_workdays(subtract_workdays(today(), 8), 5)
    assert cases.is_overdue(waiting) and cases.urgency(waiting, -3) == "red"
    login(clerk)
    body = client.get("/eservice/worklist").get_data(as_text=True)
    row = body[body.index(f'id="case-row-{waiting.id}"'):]
    row = row[:row.index("</tr>")]
    assert "es-row-red" in body[body.rindex("<tr", 0, body.index(f'id="case-row-{waiting.id}"')):
                                body.index(f'id="case-row-{waiting.id}"') + 80]
    assert "badge-red" in row and "3 days late" in row and "to accept by" in row
    asked = cases.transition(waiting, "request_supplement", user=clerk, missing=["申请表"])
    assert asked.accept_by is None and not cases.is_overdue(asked)
    back = cases.transition(asked, "receive_supplement", user=clerk)
    assert back.accept_by == cases.add_workdays(today(), 5) and cases.urgency(back, 5) == "ok"
    accepted = cases.transition(back, "accept", user=clerk)
    assert accepted.accept_by is None and accepted.deadline is not None
