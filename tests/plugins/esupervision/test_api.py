"""Ingestion API: tokens, one event, batch backfill, and every bad payload answered
400/409 with the field named and nothing applied."""
from __future__ import annotations

import pytest

from core.api import ApiToken, authenticate_api_token
from core.audit.models import AuditEvent
from plugins.esupervision.models import CaseEvent, MonitoredCase


@pytest.fixture
def token(app, org):
    from plugins.esupervision.services import create_token
    return create_token("cityhall")


def post(client, token, body, path="/api/esupervision/events"):
    return client.post(path, json=body, headers={"Authorization": f"Bearer {token}"})


def counts():
    return (CaseEvent.select().count(), MonitoredCase.select().count())


def test_token_is_stored_hashed_and_revocable(client, token, events):
    row = ApiToken.get((ApiToken.scope == "esupervision.ingest")
                       & (ApiToken.subject == "cityhall"))
    assert token not in row.token_hash and len(row.token_hash) == 64
    ev = events()
    assert post(client, token, ev.make("submitted", "2026-03-02 09:00")).status_code == 201
    from plugins.esupervision.services import revoke_token
    assert revoke_token("cityhall")
    resp = post(client, token, ev.make("accepted", "2026-03-02 10:00"))
    assert resp.status_code == 401 and resp.get_json()["error"] == "unauthorized"
    assert post(client, "wrong", ev.make("accepted", "2026-03-02 10:00")).status_code == 401


def test_event_stored_without_csrf_and_case_created(client, token, events):
    ev = events()
    resp = post(client, token, ev.make("submitted", "2026-03-02 09:00"))
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["source"] == "cityhall"
    case = MonitoredCase.get()
    assert (case.source, case.serial, case.region.code) == ("cityhall", ev.case["serial"],
                                                           "510104")
    assert case.department.code == "ZF"
    assert AuditEvent.select().where(AuditEvent.action == "esupervision.event.ingest").count() == 1


def test_missing_fields_and_wrong_types_named(client, token, events):
    ev = events()
    body = ev.make("submitted", "2026-03-02 09:00")
    del body["event_id"]
    body["case"] = dict(body["case"], committed_limit_days="ten", fee_due=12,
                        item_type="ZZ")
    del body["case"]["serial"]
    body["occurred_at"] = "2026-03-02T09:00:00"  # no zone
    resp = post(client, token, body)
    assert resp.status_code == 400
    fields = resp.get_json()["fields"]
    assert set(fields) >= {"event_id", "case.serial", "case.committed_limit_days",
                           "case.fee_due", "case.item_type", "occurred_at"}
    assert fields["event_id"] == "is required"
    assert "integer" in fields["case.committed_limit_days"]
    assert counts() == (0, 0)


def test_event_specific_fields_and_unknown_region(client, token, events):
    ev = events()
    post(client, token, ev.make("submitted", "2026-03-02 09:00"))
    resp = post(client, token, ev.make("decided", "2026-03-03 09:00", decision="maybe"))
    assert resp.status_code == 400 and "decision" in resp.get_json()["fields"]
    resp = post(client, token, ev.make("step_started", "2026-03-03 09:00"))
    assert resp.status_code == 400 and resp.get_json()["fields"]["step"] == "is required"
    other = events(region_code="999999")
    resp = post(client, token, other.make("submitted", "2026-03-02 09:00"))
    assert resp.status_code == 400 and "case.region_code" in resp.get_json()["fields"]
    resp = client.post("/api/esupervision/events", data="{not json",
                       headers={"Authorization": f"Bearer {token}",
                                "Content-Type": "application/json"})
    assert resp.status_code == 400 and resp.get_json()["error"] == "invalid_json"
    assert counts() == (1, 1)


def test_unknown_case_and_duplicate_answer_409(client, token, events):
    ev = events()
    resp = post(client, token, ev.make("accepted", "2026-03-02 10:00"))
    assert resp.status_code == 409 and resp.get_json()["error"] == "unknown_case"
    assert counts() == (0, 0)
    first = ev.make("submitted", "2026-03-02 09:00")
    assert post(client, token, first).status_code == 201
    resp = post(client, token, first)
    assert resp.status_code == 409 and resp.get_json()["error"] == "duplicate_event"
    assert counts() == (1, 1)


def test_source_must_match_token(client, token, events):
    ev = events(source="someone-else")
    resp = post(client, token, ev.make("submitted", "2026-03-02 09:00"))
    assert resp.status_code == 400 and "source" in resp.get_json()["fields"]


def test_batch_is_all_or_nothing(client, token, events):
    ev = events()
    good = [ev.make("submitted", "2026-03-02 09:00"), ev.make("accepted", "2026-03-02 10:00")]
    bad = dict(ev.make("decided", "2026-03-03 10:00"), decision=None)
    resp = post(client, token, {"events": good + [bad]}, "/api/esupervision/events/batch")
    assert resp.status_code == 400
    assert "events[2].decision" in resp.get_json()["fields"]
    assert counts() == (0, 0)
    resp = post(client, token, {"events": good}, "/api/esupervision/events/batch")
    assert resp.status_code == 201 and resp.get_json()["count"] == 2
    assert MonitoredCase.get().status == "accepted"
    resp = post(client, token, {"events": good}, "/api/esupervision/events/batch")
    assert resp.status_code == 409 and "events[0]" in resp.get_json()["fields"]
    resp = post(client, token, {"events": []}, "/api/esupervision/events/batch")
    assert resp.status_code == 400
    assert counts() == (2, 1)


def test_hook_ingests_eservice_events_and_ignores_duplicates(app, org, events):
    from core.events import publish
    ev = events(source="eservice")
    payload = ev.make("submitted", "2026-03-02 09:00")
    publish("eservice.case.submitted", payload)
    publish("eservice.case.submitted", payload)
    assert counts() == (1, 1)
    assert MonitoredCase.get().source == "eservice"


def test_token_cli(runner, org):
    result = runner.invoke(args=["esupervision", "token", "create", "cityhall"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert authenticate_api_token("esupervision.ingest", token).subject == "cityhall"
    result = runner.invoke(args=["esupervision", "token", "create", "bad source!"])
    assert result.exit_code != 0 and "SOURCE" in result.output
    assert runner.invoke(args=["esupervision", "token", "revoke", "cityhall"]).exit_code == 0
    assert authenticate_api_token("esupervision.ingest", token) is None
    result = runner.invoke(args=["esupervision", "token", "revoke", "cityhall"])
    assert result.exit_code != 0 and "no active token" in result.output


def test_the_handler_follows_the_latest_event(feed, events, org):
    ev = events(handler_post_id=None)
    ev.case["handler"] = {"username": None, "post_id": None, "post_title": None}
    feed(ev.make("submitted", "2026-03-02 09:00"))
    ev.case["handler"] = {"username": "clerk7", "post_id": org["clerk_a"].id,
                          "post_title": "窗口受理员"}
    feed(ev.make("accepted", "2026-03-02 10:00"))
    case = MonitoredCase.get()
    assert (case.handler_username, case.handler_post_id) == ("clerk7", org["clerk_a"].id)


def test_the_shipped_schema_is_the_validator(client, token, events, monkeypatch):
    """The API enforces event.schema.json itself (the file docs/esupervision-api.md gives
    source systems), not a copy of its rules: tighten the schema and the API follows."""
    import copy
    import json
    from pathlib import Path

    from plugins.esupervision import payloads
    shipped = json.loads((Path(payloads.__file__).parent / "event.schema.json")
                         .read_text(encoding="utf-8"))
    assert payloads.SCHEMA == shipped
    ev = events()
    tight = copy.deepcopy(shipped)
    tight["properties"]["case"]["properties"]["serial"]["maxLength"] = 5
    monkeypatch.setattr(payloads, "SCHEMA", tight)
    resp = post(client, token, ev.make("submitted", "2026-03-02 09:00"))
    assert resp.status_code == 400 and "case.serial" in resp.get_json()["fields"]
    monkeypatch.setattr(payloads, "SCHEMA", shipped)
    assert post(client, token, ev.make("submitted", "2026-03-02 09:00")).status_code == 201
