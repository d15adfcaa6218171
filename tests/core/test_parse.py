"""The checked parser, the checked form fields and the app-wide FieldError answer."""
from __future__ import annotations

import datetime as dt
import unicodedata
from decimal import Decimal

import pytest
from werkzeug.datastructures import MultiDict

from core import parse
from core.errors import FieldError


def refused(func, *args, **kwargs) -> FieldError:
    with pytest.raises(FieldError) as info:
        func(*args, **kwargs)
    return info.value


@pytest.mark.parametrize("raw,expected", [
    ("42", 42), (" 7 ", 7), ("-3", -3), ("+5", 5), ("１２３", 123), (17, 17),
    (str(parse.INT_MAX), parse.INT_MAX),
])
def test_integers_accepted(raw, expected):
    assert parse.parse_int(raw, "n") == expected


@pytest.mark.parametrize("raw", [
    "9" * 30, str(parse.INT_MAX + 1), str(parse.INT_MIN - 1), "1_000", "١٢", "²", "①",
    "1e3", "0x10", "12abc", "1.0", True, 1.5, [], "9" * 5000,
])
def test_integers_refused_naming_the_field(raw):
    err = refused(parse.parse_int, raw, "page")
    assert err.field == "page" and err.status == 422 and err.message


def test_integer_bounds_and_default():
    assert parse.parse_int("", "page", default=1) == 1
    assert parse.parse_int(None, "page", default=None) is None
    assert "required" in refused(parse.parse_int, "", "page").message
    refused(parse.parse_int, "0", "page", min=1)
    refused(parse.parse_int, "101", "size", max=100)
    refused(parse.parse_id, str(parse.ID_MAX + 1), "id")
    refused(parse.parse_id, "0", "id")
    assert parse.parse_id("12", "id") == 12


@pytest.mark.parametrize("raw,expected", [
    ("12.5", Decimal("12.50")), ("0", Decimal("0.00")), ("１２.３４", Decimal("12.34")),
    ("-1.25", Decimal("-1.25")), (Decimal("3.1"), Decimal("3.10")),
])
def test_decimals_accepted(raw, expected):
    assert parse.parse_decimal(raw, "amount") == expected


@pytest.mark.parametrize("raw", [
    "1E+30", "1e3", "NaN", "Infinity", "-inf", "12.345", "9" * 14, "1,000.00", "", "１E５",
    ".5", "5.", Decimal("1E+30"), 1.5,
])
def test_decimals_refused(raw):
    assert refused(parse.parse_decimal, raw, "amount").field == "amount"


def test_decimal_bounds():
    refused(parse.parse_decimal, "-1", "amount", min=0)
    refused(parse.parse_decimal, "100.01", "amount", max=100)
    assert parse.parse_decimal("3", "score", places=0) == Decimal(3)


@pytest.mark.parametrize("raw", [
    "9999-12-31", "0001-01-01", "1899-12-31", "2100-01-01", "2026-02-30", "2026-13-01",
    "26-01-01", "2026-1-1", "20260101", "2026-01-01T00:00", "２０２６-０２-３０",
])
def test_dates_refused(raw):
    assert refused(parse.parse_date, raw, "date_to").field == "date_to"


def test_dates_accepted_within_range():
    assert parse.parse_date("2026-02-28", "d") == dt.date(2026, 2, 28)
    assert parse.parse_date("２０２６-０２-２８", "d") == dt.date(2026, 2, 28)
    assert parse.parse_date("", "d", default=None) is None
    refused(parse.parse_date, "2026-03-01", "d", max=dt.date(2026, 2, 28))
    refused(parse.parse_date, dt.date(9999, 1, 1), "d")


def test_months_and_years():
    assert parse.parse_month("2026-03", "month") == dt.date(2026, 3, 1)
    for raw in ("9999-12", "0000-01", "2026-13", "2026-00", "2026-3", "2026"):
        refused(parse.parse_month, raw, "month")
    assert parse.parse_year("2026", "year") == 2026
    for raw in ("9999", "1", "-2026", "9" * 25):
        refused(parse.parse_year, raw, "year")


@pytest.mark.parametrize("raw,expected", [
    ("2026-03-02T09:30:00+08:00", dt.datetime(2026, 3, 2, 1, 30)),
    ("2026-03-02T01:30:00Z", dt.datetime(2026, 3, 2, 1, 30)),
    ("2026-03-02 09:30+08:00", dt.datetime(2026, 3, 2, 1, 30)),
])
def test_datetimes_as_naive_utc(raw, expected):
    assert parse.parse_datetime(raw, "occurred_at") == expected


@pytest.mark.parametrize("raw", [
    "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "2026-03-02T09:30:00",
    "2026-03-02T09:30:00+25:00", "yesterday", "2026-03-02", 1700000000,
])
def test_datetimes_refused(raw):
    assert refused(parse.parse_datetime, raw, "occurred_at").field == "occurred_at"


@pytest.mark.parametrize("raw", [
    "ab\x00cd", "ab\x1bcd", "ab\u202ecd", "ab\u2066cd", "ab\u200bcd", "ab\u200dcd",
    "\ufeffab", "ab\u2028cd", "a\nb", "a\tb", "a\x7fb", "a\x85b",
])
def test_text_refuses_control_and_invisible_characters(raw):
    assert refused(parse.clean_text, raw, "name", max_length=50).field == "name"


def test_text_cleaning_rules():
    assert parse.clean_text("  李雷 ", "name", max_length=10) == "李雷"
    assert parse.clean_text("Ａｄｍｉｎ１", "username", max_length=10, nfkc=True) == "Admin1"
    assert parse.clean_text("Ａｄｍｉｎ", "name", max_length=10) == "Ａｄｍｉｎ"
    assert parse.clean_text("a\r\nb\rc", "note", max_length=10, multiline=True) == "a\nb\nc"
    assert parse.clean_text(None, "note", max_length=10) == ""
    assert "10" in refused(parse.clean_text, "x" * 11, "name", max_length=10).message
    refused(parse.clean_text, "x" * 10_000, "name", max_length=64)
    refused(parse.clean_text, " ", "name", max_length=10, required=True)
    refused(parse.clean_text, 12, "name", max_length=10)


def test_text_refuses_by_category_on_every_code_point():
    """Text that ``str.isprintable`` passes skips the per-character check: every code point
    is refused exactly when its category is (control, format, surrogate, line or paragraph
    separator; a line end or tab only outside multiline text)."""
    for cp in range(0x110000):
        ch = chr(cp)
        cat = unicodedata.category(ch)
        for multiline in (False, True):
            bad = (cat == "Cc" and not (multiline and ch in "\n\r\t")) or cat in ("Cf", "Cs") \
                or ch in "\u2028\u2029"
            try:
                parse.clean_text(f"a{ch}b", "name", max_length=10, multiline=multiline)
            except FieldError:
                assert bad, (hex(cp), multiline)
            else:
                assert not bad, (hex(cp), multiline)


def test_whole_numbers_of_plain_digits_as_any_other():
    assert parse.parse_int("0042", "n") == 42
    assert parse.parse_int("9" * 40, "n", max=10 ** 41) == int("9" * 40)
    assert "too long" in refused(parse.parse_int, "9" * 41, "n").message
    assert "at most 9" in refused(parse.parse_int, "10", "n", min=1, max=9).message
    assert "at least 1" in refused(parse.parse_int, "0", "n", min=1, max=9).message
    refused(parse.parse_int, "٣", "n")  # a digit, but not ASCII


SCHEMA = {
    "type": "object",
    "properties": {
        "serial": {"type": "string", "maxLength": 8},
        "case": {"type": "object", "properties": {"days": {"type": "integer",
                                                           "minimum": 1, "maximum": 10}},
                 "required": ["days"]},
    },
    "required": ["serial", "case"],
    "additionalProperties": False,
}


def test_json_bodies():
    assert parse.parse_json(b'{"serial": "A1", "case": {"days": 3}}', schema=SCHEMA) == \
        {"serial": "A1", "case": {"days": 3}}
    deep = refused(parse.parse_json, "[" * 5000 + "]" * 5000)
    assert deep.field == "body" and deep.status == 400 and "32" in deep.message
    assert parse.parse_json('["[[[[", "]]]]"]', max_depth=2) == ["[[[[", "]]]]"]
    refused(parse.parse_json, '{"a": NaN}')
    refused(parse.parse_json, '{"a": Infinity}')
    refused(parse.parse_json, b"\xff\xfe")
    refused(parse.parse_json, "")
    refused(parse.parse_json, "{")
    assert refused(parse.parse_json, b"[" + b"1," * 600_000 + b"1]").status == 413
    nul = refused(parse.parse_json, '{"case": {"notes": ["ok", "a\\u0000b"]}}')
    assert nul.field == "case.notes.1" and nul.status == 400
    assert parse.parse_json('{"a": "\\\\u0000"}') == {"a": "\\u0000"}  # an escaped backslash


def test_json_schema_errors_name_every_path():
    err = refused(parse.parse_json, '{"serial": "' + "x" * 9 + '", "case": {"days": 99},'
                  ' "extra": 1}', schema=SCHEMA)
    assert set(err.errors) == {"serial", "case.days", "extra"}
    err = refused(parse.parse_json, '{"case": {}}', schema=SCHEMA)
    assert set(err.errors) == {"serial", "case.days"}


# -- forms ---------------------------------------------------------------------------
def _form(app, cls, **data):
    with app.test_request_context("/", method="POST"):
        form = cls(formdata=MultiDict(data), meta={"csrf": False})
        ok = form.validate()
        return form, ok


def test_checked_form_fields(app):
    from wtforms import StringField, TextAreaField
    from wtforms.validators import Length

    from core import forms

    class F(forms.Form):
        n = forms.IntegerField("N", min=1, max=10)
        amount = forms.DecimalField("Amount", min=0)
        day = forms.DateField("Day")
        month = forms.MonthField("Month")
        name = forms.TextField("Name", max_length=5)
        note = forms.TextAreaField("Note", max_length=20)
        legacy = StringField("Legacy", validators=[Length(max=8)])
        legacy_text = TextAreaField("Legacy text")

    form, ok = _form(app, F, n="３", amount="1.5", day="2026-03-02", month="2026-03",
                     name="李雷", note="a\r\nb", legacy="ok", legacy_text="x\ny")
    assert ok, form.errors
    assert (form.n.data, form.amount.data, form.day.data, form.month.data) == \
        (3, Decimal("1.50"), dt.date(2026, 3, 2), dt.date(2026, 3, 1))
    assert form.note.data == "a\nb" and form.legacy_text.data == "x\ny"
    form, ok = _form(app, F, n="9" * 30, amount="1E+30", day="9999-12-31", month="9999-12",
                     name="a\u202eb", note="x" * 21, legacy="a\x00", legacy_text="\x1b")
    assert not ok
    assert set(form.errors) == {"n", "amount", "day", "month", "name", "note", "legacy",
                                "legacy_text"}


def test_form_shows_a_service_error_on_its_field(app):
    from core import forms

    class F(forms.Form):
        name = forms.TextField("Name", max_length=5)

    form, _ok = _form(app, F, name="x")
    form.apply_error(FieldError("name", "taken"))
    form.apply_error(FieldError("other", "wrong"))
    assert form.name.errors == ["taken"] and "wrong" in form.form_errors
    assert form.first_error == "wrong"


def test_coerce_id():
    from core.forms import coerce_id
    assert coerce_id("12") == 12
    for raw in ("9" * 30, "-1", "١"):
        with pytest.raises(ValueError):
            coerce_id(raw)


# -- the app's answer ------------------------------------------------------------------
@pytest.fixture
def probe_app(app):
    from flask import request

    @app.route("/_probe", methods=["GET", "POST"])
    def probe():
        parse.parse_int(request.args.get("page"), "page", min=1, default=1)
        return "ok"

    @app.route("/_probe/<name>")
    def probe_named(name):
        return "ok"

    from core.app import csrf

    @app.route("/api/_probe", methods=["POST"])
    @csrf.exempt
    def api_probe():
        parse.parse_json(request.get_data(), schema=SCHEMA)
        return "ok"
    return app


def test_field_error_answers_422_naming_the_field(probe_app):
    c = probe_app.test_client()
    assert c.get("/_probe?page=3").status_code == 200
    html = c.get("/_probe?page=" + "9" * 30)
    assert html.status_code == 422 and "page" in html.get_data(as_text=True)
    assert "<html" in html.get_data(as_text=True).lower()
    frag = c.get("/_probe?page=x", headers={"HX-Request": "true"})
    body = frag.get_data(as_text=True)
    assert frag.status_code == 422 and 'data-field="page"' in body and "<html" not in body
    js = c.get("/_probe?page=0", headers={"Accept": "application/json"})
    assert js.status_code == 422
    assert js.get_json()["field"] == "page" and js.get_json()["error"] == "invalid_input"


def test_json_api_answers_400_with_every_field(probe_app):
    c = probe_app.test_client()
    resp = c.post("/api/_probe", data="[" * 10_000, content_type="application/json")
    assert resp.status_code == 400 and resp.get_json()["field"] == "body"
    resp = c.post("/api/_probe", json={"serial": 5, "case": {"days": 0}})
    assert resp.status_code == 400
    assert set(resp.get_json()["fields"]) == {"serial", "case.days"}


def test_route_ids_beyond_the_key_range_are_no_route(app, org, make_user, login, client):
    user = make_user("head", role="staff", region=org["city"])
    login(user)
    pid = org["head_city"].department.id
    assert client.get(f"/org/departments/{pid}").status_code == 200
    for path in ("/org/departments/" + "9" * 30, "/org/departments/" + str(2 ** 63),
                 "/org/departments/١٢"):
        assert client.get(path).status_code == 404


def test_nul_in_any_query_or_form_value_is_refused_before_the_view(probe_app):
    """PostgreSQL cannot compare a text holding NUL (a search for it was a 500 there): the
    app refuses NUL in every query and form key or value, naming the field."""
    c = probe_app.test_client()
    for path in ("/_probe?q=a%00b", "/_probe?page=1&q%00=x"):
        resp = c.get(path, headers={"Accept": "application/json"})
        assert resp.status_code == 422, path
        assert resp.get_json()["field"] == "q"
    resp = c.post("/api/_probe", data={"note": "x\x00"}, headers={"Accept": "application/json"})
    assert resp.status_code == 422 and resp.get_json()["field"] == "note"
    assert c.get("/_probe?q=%E4%B8%AD%09").status_code == 200  # other text is the view's
    assert c.get("/_probe/a%00b").status_code == 404  # nothing is named with NUL
    assert c.get("/_probe/ab").status_code == 200
