"""The one formula-safe export writer, and the core's exports (people, audit) through it."""
from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from core.export import Sheet, safe_cell, sheet_title, write_csv, write_xlsx

HOSTILE = ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tx", "\rx", "＝1+1", "=HYPERLINK(\"x\")"]


@pytest.mark.parametrize("text", HOSTILE)
def test_text_that_looks_like_a_formula_is_neutralised(text):
    assert safe_cell(text) == "'" + text


def test_values_keep_their_meaning():
    assert [safe_cell(v) for v in (None, True, False, -5, Decimal("-1.50"), 2.5,
                                   dt.date(2026, 3, 2), dt.datetime(2026, 3, 2, 9, 30),
                                   "李雷", "a=b")] == \
        ["", "1", "0", "-5", "-1.50", "2.5", "2026-03-02", "2026-03-02 09:30:00", "李雷",
         "a=b"]


def test_csv_streams_lines_with_bom_and_safe_cells():
    lines = list(write_csv(["name", "n"], iter([["=1+1", 1], ["ok", -2]])))
    assert lines[0] == "\ufeff" and len(lines) == 4
    rows = list(csv.reader(io.StringIO("".join(lines).lstrip("\ufeff"))))
    assert rows == [["name", "n"], ["'=1+1", "1"], ["ok", "-2"]]


def test_xlsx_writes_text_cells_never_formulas():
    data = write_xlsx([Sheet("a/b[c]" * 10, ["=h"], [[t] for t in HOSTILE]
                             + [[-5], [Decimal("1.25")], [dt.date(2026, 3, 2)], ["a\x00b"]])])
    ws = load_workbook(io.BytesIO(data)).active
    assert ws.title == sheet_title("a/b[c]" * 10) and len(ws.title) <= 31
    cells = [row[0] for row in ws.iter_rows()]
    assert all(c.data_type == "s" for c in cells[:len(HOSTILE) + 1])
    assert [c.value for c in cells[1:len(HOSTILE) + 1]] == [t.replace("\r", "\n") for t in HOSTILE]
    assert cells[-4].value == -5 and cells[-3].value == 1.25
    assert cells[-2].value.date() == dt.date(2026, 3, 2)
    assert cells[-1].value == "a\ufffdb"


def test_people_export_is_formula_safe(app, client, org, make_user, login):
    from core.org.models import Person
    Person.update(name="=HYPERLINK(\"http://evil.invalid\")").where(
        Person.name == "局长a").execute()
    admin = make_user("orgadmin", role="sys_admin", region=org["city"], totp=True)
    login(admin)
    resp = client.get("/org/people/export.csv")
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"
    text = resp.get_data().decode("utf-8-sig")
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text


def test_audit_export_is_formula_safe(app, client, org, make_user, login, csrf_token):
    from core.audit.service import record
    from core.db import db
    with db.atomic():
        record("test.probe", object_type="x", summary="=cmd|' /C calc'!A0")
    auditor = make_user("auditor", role="audit_admin", region=org["city"], totp=True)
    login(auditor)
    resp = client.post("/audit/export.csv", data={"csrf_token": csrf_token("/dashboard")})
    assert resp.status_code == 200
    text = resp.get_data().decode("utf-8-sig")
    assert "'=cmd|" in text and ",=cmd|" not in text
