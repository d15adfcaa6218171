"""A confirmed supervision case transferred to the case supervision platform as a problem
lead (移送问题线索): the service's refusals, the audit record, the event it publishes
(heard by a subscriber registered on the bus, as another plugin would), and the route."""
from __future__ import annotations

import datetime as dt

import pytest

from core import hookimpl
from core.api import FieldError, utcnow
from core.audit.models import AuditEvent
from plugins.esupervision import supervision as sv
from plugins.esupervision.alerting import alert_pending
from plugins.esupervision.models import SupervisionCase
from tests.conftest import _csrf

SHARED = ("signal_id", "code", "level", "region_code", "post_id", "handler_username", "case")


@pytest.fixture
def app(settings):
    """E-supervision with the cases plugin installed (a transfer needs someone to take the
    lead: the service refuses where cases does not run); the test hears the event itself."""
    from core import migrate
    from core.auth.roles import sync_builtin_roles
    from core.plugins import host
    from tests.conftest import running_app
    with running_app(settings, available_plugins={"esupervision": "plugins.esupervision",
                                                  "cases": "plugins.cases"}) as application:
        migrate.upgrade(host())
        sync_builtin_roles(host())
        yield application


@pytest.fixture
def heard(app):
    """The events published while the test runs, as (name, payload)."""
    received: list[tuple[str, dict]] = []

    class Listener:
        @staticmethod
        @hookimpl
        def ql_handle_event(name, payload):
            received.append((name, payload))
    pm = app.extensions["qinglian.plugins"].pm
    pm.register(Listener, name="transfer-listener")
    yield received
    pm.unregister(name="transfer-listener")


def _transfers():
    return AuditEvent.select().where(AuditEvent.action == sv.TRANSFER_ACTION)


def _sent(heard):
    return [p for n, p in heard if n == sv.TRANSFERRED_EVENT]


def test_transfer_publishes_the_documented_payload_once(red_signal, make_user, org, heard):
    sup = make_user("sup", role="supervisor", region=org["a"])
    alert_pending()
    raised = [p for n, p in heard if n == "esupervision.signal.raised"]
    sc = sv.verify(sv.open_case(red_signal, sup), sup, "confirmed", "收费凭证属实")
    before = utcnow().replace(microsecond=0)
    sv.transfer_as_lead(sc, sup, "  涉嫌违规收费，\r\n移送线索  ")
    [payload] = _sent(heard)
    assert set(payload) == {"supervision_id", *SHARED, "finding", "reason", "transferred_by",
                            "transferred_at"}
    assert {k: payload[k] for k in SHARED} == {k: raised[0][k] for k in SHARED}
    assert payload["supervision_id"] == sc.id and payload["signal_id"] == red_signal.id
    assert (payload["code"], payload["level"], payload["region_code"]) == \
        ("ILLEGAL_FEE", "red", "510104")
    assert payload["handler_username"] == "clerk1"
    assert payload["case"]["id"] == red_signal.case_id
    assert set(payload["case"]) == {"id", "serial", "source", "department_name", "item_name"}
    assert (payload["finding"], payload["reason"], payload["transferred_by"]) == \
        ("confirmed", "涉嫌违规收费，\n移送线索", "sup")
    at = dt.datetime.fromisoformat(payload["transferred_at"])
    assert at.tzinfo is None and at.microsecond == 0 and before <= at
    [audit] = _transfers()
    assert (audit.object_type, audit.object_id, audit.region_id, audit.username) == \
        ("supervision_case", str(sc.id), org["a"].id, "sup")
    assert sv.transfer_record(sc).username == "sup"
    with pytest.raises(sv.SupervisionError, match="already transferred"):
        sv.transfer_as_lead(sc, sup, "再次移送")
    assert len(_sent(heard)) == 1 and _transfers().count() == 1


def test_transfer_refusals_write_nothing(red_signal, make_user, org, heard):
    sup = make_user("sup", role="supervisor", region=org["a"])
    sc = sv.open_case(red_signal, sup)
    with pytest.raises(sv.SupervisionError, match="confirmed"):
        sv.transfer_as_lead(sc, sup, "未核实")
    sc = sv.verify(sc, sup, "confirmed", "属实")
    for bad in ("", "   ", None, "x" * 2001, "含\x00控制符"):
        with pytest.raises(FieldError) as exc:
            sv.transfer_as_lead(sc, sup, bad)
        assert exc.value.field == "reason"
    outsider = make_user("sup_b", role="supervisor", region=org["b"])
    with pytest.raises(sv.SupervisionError, match="region"):
        sv.transfer_as_lead(sc, outsider, "越权移送")
    assert _sent(heard) == [] and _transfers().count() == 0


def test_dismissed_case_is_not_transferred(red_signal, make_user, org, heard):
    sup = make_user("sup", role="supervisor", region=org["city"])
    sc = sv.verify(sv.open_case(red_signal, sup), sup, "dismissed", "系统录入错误")
    with pytest.raises(sv.SupervisionError, match="confirmed"):
        sv.transfer_as_lead(sc, sup, "移送")
    assert _sent(heard) == [] and _transfers().count() == 0


def test_route_transfers_and_refuses(app, client, login, make_user, org, red_signal,
                                     csrf_token, heard):
    sup = make_user("sup", role="supervisor", region=org["a"])
    sc = sv.verify(sv.open_case(red_signal, sup), sup, "confirmed", "属实")
    url = f"/esupervision/supervision/{sc.id}"
    other = app.test_client()
    login(make_user("sup_b", role="supervisor", region=org["b"]), c=other)
    token_b = _csrf(other, "/esupervision/supervision")
    # another county's supervisor: its case is out of scope (404, as the page itself);
    # someone of county A without the supervise permission: 403
    assert other.post(url + "/transfer", data={"csrf_token": token_b,
                                               "t-reason": "越权"}).status_code == 404
    clerk = app.test_client()
    login(make_user("clerk_x", role="clerk", region=org["a"]), c=clerk)
    assert clerk.post(url + "/transfer", data={"csrf_token": _csrf(clerk, "/dashboard"),
                                               "t-reason": "越权"}).status_code == 403
    login(sup)
    from core.models import PluginSwitch
    switch = PluginSwitch.create(plugin="cases", region=org["a"])  # cases off in county A
    page = client.get(url).get_data(as_text=True)
    # no case supervision platform to take the lead: no form, and the service refuses
    assert "Transfer as a problem lead" not in page
    token = csrf_token(url)
    off = client.post(url + "/transfer", data={"csrf_token": token, "t-reason": "移送线索"})
    assert off.status_code == 422 and "does not run" in off.get_data(as_text=True)
    switch.delete_instance()
    assert "Transfer as a problem lead" in client.get(url).get_data(as_text=True)
    assert client.post(url + "/transfer", data={"t-reason": "x"}).status_code == 400
    bad = client.post(url + "/transfer", data={"csrf_token": token, "t-reason": "  "})
    assert bad.status_code == 422 and "t-reason" in bad.get_data(as_text=True)
    assert _sent(heard) == [] and _transfers().count() == 0
    resp = client.post(url + "/transfer", data={"csrf_token": token, "t-reason": "移送线索"})
    assert resp.status_code == 303 and resp.headers["Location"].endswith(url)
    page = client.get(url).get_data(as_text=True)
    assert "Transferred to the case supervision platform" in page and "sup" in page
    assert 'name="t-reason"' not in page
    again = client.post(url + "/transfer", data={"csrf_token": token, "t-reason": "再次"})
    assert again.status_code == 422 and "already transferred" in again.get_data(as_text=True)
    assert len(_sent(heard)) == 1 and _transfers().count() == 1
    assert SupervisionCase.get_by_id(sc.id).state == "opened"


