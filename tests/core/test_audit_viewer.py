"""The audit viewer: only the audit administrator reads it, within their region scope."""
from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest

from core.audit import seal as sealing
from core.audit.models import AuditEvent
from core.db import db, is_postgres, utcnow

PAGE = "/audit/?sort=time&order=desc"


def token(client, path=PAGE) -> str:
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


@pytest.fixture
def events(app, org):
    """A spread of events: two counties, the city, no region, a failure, an old one."""
    def ev(action, region=None, **kw):
        return AuditEvent.create(action=action, region_id=region.id if region else None, **kw)
    return {
        "a_update": ev("person.update", org["a"], username="clerk_a", object_type="person",
                       object_id="11", summary="renamed person 11 in A"),
        "b_update": ev("person.update", org["b"], username="clerk_b", object_type="person",
                       object_id="12", summary="renamed person 12 in B"),
        "city_grant": ev("grant.create", org["city"], username="secadm",
                         object_type="user", object_id="3", summary="granted staff"),
        "login_fail": ev("auth.login_failed", None, username="mallory", success=False,
                         summary="wrong password for mallory"),
        "old": ev("person.create", org["a"], username="clerk_a", object_type="person",
                  object_id="9", summary="created person 9 long ago",
                  ts=utcnow() - dt.timedelta(days=40)),
    }


@pytest.fixture
def city_auditor(client, org, make_user, login):
    user = make_user("auditor", role="audit_admin", region=org["city"])
    login(user)
    return user


def test_sys_admin_and_security_admin_get_403(app, org, make_user, login):
    for name, role in (("sysadm", "sys_admin"), ("secadm", "security_admin")):
        c = app.test_client()
        login(make_user(name, role=role, region=org["city"]), c=c)
        assert c.get(PAGE).status_code == 403
        assert c.get("/audit/").status_code == 403
        tok = re.search(r'"X-CSRFToken": "([^"]+)"',
                        c.get("/dashboard").get_data(as_text=True)).group(1)
        assert c.post("/audit/verify", headers={"X-CSRFToken": tok}).status_code == 403
        assert c.post("/audit/export.csv", data={"csrf_token": tok}).status_code == 403
        assert "Audit trail" not in c.get("/dashboard").get_data(as_text=True)
    assert not AuditEvent.select().where(AuditEvent.action == "audit.export").exists()


def test_audit_admin_sees_menu_and_newest_first(client, events, city_auditor):
    assert "Audit trail" in client.get("/dashboard").get_data(as_text=True)
    resp = client.get("/audit/")
    assert resp.status_code == 302 and "sort=time" in resp.headers["Location"] \
        and "order=desc" in resp.headers["Location"]
    html = client.get(PAGE).get_data(as_text=True)
    assert html.index("wrong password for mallory") < html.index("renamed person 11 in A")
    assert "created person 9 long ago" in html


@pytest.mark.parametrize("query, shown, hidden", [
    ("user=clerk_b", ["renamed person 12 in B"], ["renamed person 11 in A"]),
    ("action=person.", ["renamed person 11 in A", "created person 9"], ["granted staff"]),
    ("object_type=user&object_id=3", ["granted staff"], ["renamed person 11 in A"]),
    ("object_type=person&object_id=12", ["renamed person 12 in B"], ["person 11"]),
    ("outcome=failure", ["wrong password for mallory"], ["granted staff"]),
])
def test_filters(client, events, city_auditor, query, shown, hidden):
    html = client.get(f"{PAGE}&{query}").get_data(as_text=True)
    for text in shown:
        assert text in html
    for text in hidden:
        assert text not in html


def test_region_and_date_filters(client, org, events, city_auditor):
    html = client.get(f"{PAGE}&region={org['a'].id}").get_data(as_text=True)
    assert "renamed person 11 in A" in html and "renamed person 12 in B" not in html
    assert "wrong password for mallory" not in html
    today = dt.date.today()
    start = (today - dt.timedelta(days=2)).isoformat()
    end = (today + dt.timedelta(days=1)).isoformat()
    html = client.get(f"{PAGE}&date_from={start}&date_to={end}").get_data(as_text=True)
    assert "renamed person 11 in A" in html and "created person 9 long ago" not in html
    old = (today - dt.timedelta(days=45)).isoformat()
    until = (today - dt.timedelta(days=30)).isoformat()
    html = client.get(f"{PAGE}&date_from={old}&date_to={until}").get_data(as_text=True)
    assert "created person 9 long ago" in html and "renamed person 11" not in html


def test_bad_filter_is_400_naming_the_field(client, org, events, city_auditor):
    resp = client.get(f"{PAGE}&date_from=yesterday")
    assert resp.status_code == 400 and "date_from" in resp.get_data(as_text=True)
    resp = client.get(f"{PAGE}&date_from=2026-05-02&date_to=2026-05-01")
    assert resp.status_code == 400 and "date_to" in resp.get_data(as_text=True)
    resp = client.get(f"{PAGE}&region=999999")
    assert resp.status_code == 400 and "region" in resp.get_data(as_text=True)


def test_htmx_paging_returns_the_results_fragment(client, org, city_auditor):
    for i in range(60):
        AuditEvent.create(action="bulk.act", region_id=org["a"].id, summary=f"bulk {i:02d}")
    html = client.get(PAGE + "&action=bulk.").get_data(as_text=True)
    assert "bulk 59" in html and "bulk 09" not in html and "Page 1 of 2" in html
    resp = client.get(PAGE + "&action=bulk.&page=2", headers={"HX-Request": "true"})
    frag = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "<html" not in frag and 'id="results"' in frag
    assert "bulk 09" in frag and "bulk 59" not in frag and "Page 2 of 2" in frag
    assert "HX-Request" in resp.headers.get("Vary", "")


def test_county_auditor_sees_only_their_county(app, org, events, make_user, login):
    c = app.test_client()
    login(make_user("auditor_a", role="audit_admin", region=org["a"]), c=c)
    html = c.get(PAGE).get_data(as_text=True)
    assert "renamed person 11 in A" in html
    assert "renamed person 12 in B" not in html
    assert "granted staff" not in html  # the city's own event
    assert "wrong password for mallory" not in html  # no region: city-level auditors only
    assert c.get(f"{PAGE}&region={org['b'].id}").status_code == 400


def test_city_auditor_sees_events_without_region(client, events, city_auditor):
    html = client.get(PAGE).get_data(as_text=True)
    for text in ("renamed person 11 in A", "renamed person 12 in B", "granted staff",
                 "wrong password for mallory"):
        assert text in html


def test_csv_export_is_audited(client, org, events, city_auditor):
    resp = client.post("/audit/export.csv", data={"csrf_token": token(client),
                                                  "action": "person.update"})
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in resp.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:3] == ["id", "seq", "ts_utc"]
    assert sorted(r[6] for r in rows[1:]) == ["510104", "510105"]
    assert {r[10] for r in rows[1:]} == {"person.update"}
    ev = AuditEvent.select().where(AuditEvent.action == "audit.export").get()
    assert ev.username == "auditor" and "exported 2 audit event(s)" in ev.summary
    assert "action=person.update" in ev.summary


def test_csv_export_needs_csrf(client, events, city_auditor):
    assert client.post("/audit/export.csv", data={}).status_code == 400
    assert not AuditEvent.select().where(AuditEvent.action == "audit.export").exists()


def test_csv_export_neutralises_formulas(client, org, city_auditor):
    AuditEvent.create(action="x.act", region_id=org["a"].id, summary="=HYPERLINK(\"evil\")")
    body = client.post("/audit/export.csv", data={"csrf_token": token(client),
                                                  "action": "x."}).get_data(as_text=True)
    assert "'=HYPERLINK" in body


def test_verify_now_shows_chain_status(client, org, events, city_auditor):
    sealing.seal(lag_seconds=0)
    tok = token(client)
    resp = client.post("/audit/verify", headers={"X-CSRFToken": tok, "HX-Request": "true"})
    assert resp.status_code == 200 and "The chain is intact." in resp.get_data(as_text=True)
    if is_postgres():
        db.execute_sql("ALTER TABLE audit_event DISABLE TRIGGER USER")
    else:
        db.execute_sql("DROP TRIGGER audit_event_no_update")
    AuditEvent.update(summary="forged").where(
        AuditEvent.id == events["a_update"].id).execute()
    resp = client.post("/audit/verify", headers={"X-CSRFToken": tok, "HX-Request": "true"})
    html = resp.get_data(as_text=True)
    assert "The chain is broken at block" in html
    checks = list(AuditEvent.select().where(AuditEvent.action == "audit.verify")
                  .order_by(AuditEvent.id))
    assert [c.success for c in checks] == [True, False]


def test_columns_and_actions_read_in_chinese(client, city_auditor, events):
    """The address column has its own heading (not the date filter's "From", 起始日期);
    actions show their label above the code and fixed summaries are translated."""
    AuditEvent.create(action="auth.login", username="auditor", summary="login with second factor")
    with client.session_transaction() as session:
        session["locale"] = "zh_CN"
    html = client.get(PAGE).get_data(as_text=True)
    head = html[html.index("<thead>"):html.index("</thead>")]
    assert "起始日期" not in head and "地址" in head
    assert "授予角色" in html and "<code>grant.create</code>" in html
    assert "登录（双因素认证）" in html and "login with second factor" not in html
    assert "renamed person 11 in A" in html  # a summary with names stays as recorded
