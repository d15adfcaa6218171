"""A supervisor transfers a post warning to the case supervision platform as a problem lead
(移送问题线索): the service's refusals (no grant, another county, a department's warning,
no reason, the cases plugin off, a second transfer), the exact ``risk.warning.transferred``
payload seen by a subscriber, and the page with its form and its 422/403/404 answers.

The risk plugin runs alone here; the cases plugin is "on" through ``cases_on`` (the check
the service and the page share), and a test subscriber stands in for it."""
from __future__ import annotations

import datetime as dt

import pytest

from core.api import AccessDenied, FieldError, hookimpl
from core.audit.models import AuditEvent
from plugins.risk import warnings as warn
from plugins.risk.errors import RiskError
from plugins.risk.models import RiskWarning
from tests.plugins.risk import web_b

client_for = web_b.client_for  # the fixture

REASON = "经初步了解，该岗位负责人涉嫌违规变更设计，需进一步核实"


@pytest.fixture
def cases_on(monkeypatch):
    """The case supervision platform counts as running in every region."""
    monkeypatch.setattr(warn, "enabled_for", lambda plugin, region: plugin == "cases")


@pytest.fixture
def events(app):
    """Events published while the test runs: [(name, payload)]."""
    received = []

    class Listener:
        @staticmethod
        @hookimpl
        def ql_handle_event(name, payload):
            received.append((name, payload))
    pm = app.extensions["qinglian.plugins"].pm
    pm.register(Listener, name="transfer-listener")
    yield received
    pm.unregister(name="transfer-listener")


def transfers(w=None):
    q = AuditEvent.select().where(AuditEvent.action == "risk.warning.transfer")
    return q.where(AuditEvent.object_id == str(w.id)) if w is not None else q


def _post_warning(unit, **extra):
    return warn.manual(unit["reviewer"], {"target": "post", "post": unit["land"].id,
                                          "subject": "土地整治项目擅自变更设计", **extra})


def test_a_post_warning_transferred_once_with_its_payload(unit, cases_on, events):
    sup = unit["reviewer"]
    w = warn.escalate(sup, _post_warning(unit))
    before = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    payload = warn.transfer_as_lead(sup, w, f"  {REASON}\n请核查  ")
    sent = [p for n, p in events if n == "risk.warning.transferred"]
    assert sent == [payload]
    at = payload.pop("transferred_at")
    assert payload == {
        "warning_id": w.id, "level": "red", "alert_level": "red", "source": "manual",
        "region_code": unit["region"].code, "target": "post", "post_id": unit["land"].id,
        "person_id": None, "department_id": unit["dept"].id,
        "subject": "土地整治项目擅自变更设计", "reason": f"{REASON}\n请核查",
        "transferred_by": "county_sup"}
    moment = dt.datetime.fromisoformat(at)
    assert moment.tzinfo is None and moment.microsecond == 0 and moment >= before
    assert len(at) == 19
    (event,) = transfers(w)
    assert (event.object_type, event.region_id, event.username) == (
        "risk_warning", unit["region"].id, "county_sup")
    assert warn.transfer_of(w)["by"] == "county_sup"
    assert abs(warn.transfer_of(w)["at"] - moment) < dt.timedelta(seconds=2)
    assert not warn.may_transfer(w)
    with pytest.raises(RiskError, match="already transferred"):
        warn.transfer_as_lead(sup, w, "再次移送")
    assert transfers(w).count() == 1
    assert len([n for n, _p in events if n == "risk.warning.transferred"]) == 1
    assert RiskWarning.get_by_id(w.id).state == "open"  # the warning itself is unchanged


def test_a_handled_person_warning_may_be_transferred(unit, cases_on, events):
    sup = unit["reviewer"]
    w = warn.manual(sup, {"target": "person", "person": unit["official_person"].id,
                          "subject": "群众反映收受礼金"})
    w = warn.handle(sup, w, "已谈话提醒")
    assert warn.may_transfer(w)
    payload = warn.transfer_as_lead(sup, w, REASON)
    assert (payload["target"], payload["person_id"], payload["post_id"], payload["level"],
            payload["alert_level"]) == ("person", unit["official_person"].id, None,
                                        "yellow", "yellow")
    assert payload["department_id"] == unit["land"].department_id


def test_refusals_write_nothing(unit, org, make_user, cases_on, events):
    sup = unit["reviewer"]
    w = _post_warning(unit)
    dept_w = warn.manual(sup, {"target": "department", "department": unit["dept"].id,
                               "subject": "专项检查发现问题"})
    other = make_user("county_b_sup", role="supervisor", region=org["b"])
    audited = AuditEvent.select().count()
    for reason in ("", "   ", None):
        with pytest.raises(FieldError) as err:
            warn.transfer_as_lead(sup, w, reason)
        assert err.value.field == "reason"
    with pytest.raises(FieldError) as err:
        warn.transfer_as_lead(sup, w, "长" * 2001)
    assert err.value.field == "reason"
    with pytest.raises(RiskError, match="a lead is about a person"):
        warn.transfer_as_lead(sup, dept_w, REASON)
    assert not warn.may_transfer(dept_w)
    with pytest.raises(AccessDenied):
        warn.transfer_as_lead(unit["clerk"], w, REASON)  # staff hold no warning grant
    with pytest.raises(AccessDenied):
        warn.transfer_as_lead(other, w, REASON)
    assert AuditEvent.select().count() == audited
    assert [n for n, _p in events if n == "risk.warning.transferred"] == []


def test_refused_where_the_cases_plugin_does_not_run(unit, events):
    w = _post_warning(unit)
    assert not warn.cases_enabled(w) and not warn.may_transfer(w)
    with pytest.raises(RiskError, match="does not run"):
        warn.transfer_as_lead(unit["reviewer"], w, REASON)
    assert transfers().count() == 0 and events == []


def test_a_failing_subscriber_undoes_the_transfer(unit, cases_on, app):
    """Audit and event in one transaction: a subscriber's error leaves no audit record,
    so the warning may be transferred again."""
    w = _post_warning(unit)

    class Broken:
        @staticmethod
        @hookimpl
        def ql_handle_event(name, payload):
            if name == "risk.warning.transferred":
                raise RuntimeError("cases is down")
    pm = app.extensions["qinglian.plugins"].pm
    pm.register(Broken, name="broken-listener")
    try:
        with pytest.raises(RuntimeError):
            warn.transfer_as_lead(unit["reviewer"], w, REASON)
    finally:
        pm.unregister(name="broken-listener")
    assert transfers(w).count() == 0 and warn.may_transfer(w)
    warn.transfer_as_lead(unit["reviewer"], w, REASON)
    assert transfers(w).count() == 1


def test_the_page_and_route(unit, org, make_user, client_for, cases_on, events):
    sup = unit["reviewer"]
    w = _post_warning(unit)
    dept_w = warn.manual(sup, {"target": "department", "department": unit["dept"].id,
                               "subject": "专项检查发现问题"})
    client = client_for(sup, "zh_CN")
    url = f"/risk/warnings/{w.id}/transfer"
    page = client.get(f"/risk/warnings/{w.id}").text
    assert f'action="{url}"' in page
    assert "移送问题线索" in page and "移送理由" in page
    assert "/transfer" not in client.get(f"/risk/warnings/{dept_w.id}").text
    viewer = client_for(unit["clerk"])  # risk.view, no warning grant: no form
    assert "/transfer" not in viewer.get(f"/risk/warnings/{w.id}").text
    assert viewer.post(url, data={"reason": REASON}).status_code == 403
    outsider = client_for(make_user("b_sup", role="supervisor", region=org["b"]))
    assert outsider.post(url, data={"reason": REASON}).status_code == 404
    resp = client.post(url, data={"reason": "  "})
    assert resp.status_code == 422 and "reason" in resp.text
    resp = client.post(f"/risk/warnings/{dept_w.id}/transfer", data={"reason": REASON})
    assert resp.status_code == 422
    assert transfers().count() == 0 and events == []
    resp = client.post(url, data={"reason": REASON})
    assert resp.status_code == 303 and resp.headers["Location"].endswith(
        f"/risk/warnings/{w.id}")
    assert transfers(w).count() == 1
    page = client.get(f"/risk/warnings/{w.id}").text
    assert f'action="{url}"' not in page
    assert "county_sup" in page and "移送案件监督管理平台" in page
    assert client.post(url, data={"reason": REASON}).status_code == 422
    assert transfers(w).count() == 1


def test_no_form_where_the_cases_plugin_does_not_run(unit, client_for):
    w = _post_warning(unit)
    page = client_for(unit["reviewer"]).get(f"/risk/warnings/{w.id}").text
    assert "/transfer" not in page

