"""API tokens of machine clients (core.auth.tokens): issued per scope and subject, only a
hash stored, revoked, expired; ``Authorization: Bearer`` on the views that take them,
exempt from CSRF and blind to the session cookie; the ``tokens`` CLI."""
from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from flask import Blueprint, jsonify

from core import hookimpl
from core.api import (
    ApiToken,
    FieldError,
    api_token_required,
    authenticate_api_token,
    current_api_token,
    issue_api_token,
    revoke_api_token,
)
from core.audit.models import AuditEvent
from core.db import utcnow
from tests.conftest import running_app

machines = Blueprint("machines", __name__, url_prefix="/api/test")


@machines.post("/checkin")
@api_token_required("test.checkin")
def checkin():
    token = current_api_token()
    return jsonify(subject=token.subject, region=token.region_id)


@machines.post("/plain")
def plain():
    return "a browser form"


class Terminals:
    """A throw-away core part: a scope, and the blueprint of its machine client."""

    @staticmethod
    @hookimpl
    def ql_api_scopes():
        return [("test.checkin", "Check in from a terminal")]

    @staticmethod
    @hookimpl
    def ql_blueprints():
        return [machines]


@pytest.fixture
def token_app(settings):
    with running_app(settings, extra_core=[Terminals]) as application:
        yield application


def _county():
    from core.org.models import Region
    city = Region.create(code="510100", name="成都市", level="city")
    return Region.create(code="510104", name="锦江区", parent=city)


def _columns(row) -> str:
    return repr(list(row.__data__.values()))


def test_hook_ql_api_scopes(token_app):
    from core.auth.tokens import declared_scopes
    scopes = declared_scopes()
    assert scopes["test.checkin"] == "Check in from a terminal"
    assert "esupervision.ingest" in scopes  # e-supervision's ingestion, when it is enabled


def test_issue_stores_only_the_hash_and_is_audited(token_app):
    token = issue_api_token("test.checkin", "terminal-7", by="ops")
    row = ApiToken.get(ApiToken.subject == "terminal-7")
    assert token.startswith("ql_") and len(token) > 40
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in _columns(row) and row.hint == token[-4:]
    assert (row.scope, row.created_by, row.revoked_at) == ("test.checkin", "ops", None)
    event = AuditEvent.get(AuditEvent.action == "core.api_token.issue")
    assert "terminal-7" in event.summary and token not in event.summary


def test_a_token_opens_only_its_scope_until_revoked_or_expired(token_app):
    token = issue_api_token("test.checkin", "terminal-7")
    assert authenticate_api_token("test.checkin", token).subject == "terminal-7"
    assert authenticate_api_token("esupervision.ingest", token) is None
    assert authenticate_api_token("test.checkin", token + "x") is None
    assert authenticate_api_token("test.checkin", "") is None
    assert ApiToken.get(ApiToken.subject == "terminal-7").last_used_at is not None
    assert revoke_api_token("test.checkin", "terminal-7") == 1
    assert authenticate_api_token("test.checkin", token) is None
    assert revoke_api_token("test.checkin", "terminal-7") == 0
    soon = issue_api_token("test.checkin", "terminal-8",
                           expires_at=utcnow() + dt.timedelta(hours=1))
    assert authenticate_api_token("test.checkin", soon) is not None
    ApiToken.update(expires_at=utcnow() - dt.timedelta(seconds=1)).where(
        ApiToken.subject == "terminal-8").execute()
    assert authenticate_api_token("test.checkin", soon) is None


def test_a_new_token_replaces_the_old_unless_kept_for_a_changeover(token_app):
    first = issue_api_token("test.checkin", "terminal-7")
    second = issue_api_token("test.checkin", "terminal-7")
    assert authenticate_api_token("test.checkin", first) is None
    assert authenticate_api_token("test.checkin", second) is not None
    third = issue_api_token("test.checkin", "terminal-7", replace=False)
    assert authenticate_api_token("test.checkin", second) is not None
    assert authenticate_api_token("test.checkin", third) is not None
    assert revoke_api_token("test.checkin", "terminal-7") == 2


@pytest.mark.parametrize(("scope", "subject", "field"), [
    ("test.nope", "terminal-7", "scope"), ("test.checkin", "", "subject"),
    ("test.checkin", "two words", "subject"), ("test.checkin", "x" * 65, "subject"),
    ("test.checkin", "bad\x00name", "subject"),
])
def test_bad_scope_or_subject_is_refused_and_nothing_written(token_app, scope, subject,
                                                              field):
    with pytest.raises(FieldError) as err:
        issue_api_token(scope, subject)
    assert err.value.field == field
    assert ApiToken.select().count() == 0


def test_bearer_views_answer_401_without_a_token_and_skip_csrf(token_app):
    client = token_app.test_client()
    county = _county()
    token = issue_api_token("test.checkin", "terminal-7", region=county)
    resp = client.post("/api/test/checkin")
    assert resp.status_code == 401 and resp.get_json()["error"] == "unauthorized"
    assert 'scope="test.checkin"' in resp.headers["WWW-Authenticate"]
    assert client.post("/api/test/checkin", headers={"Authorization": "Basic x"}) \
        .status_code == 401
    resp = client.post("/api/test/checkin", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200  # no CSRF token, none needed
    assert resp.get_json() == {"subject": "terminal-7", "region": county.id}
    assert client.post("/api/test/plain").status_code == 400  # CSRF still guards the rest


def test_a_logged_in_session_is_no_token(token_app):
    import re

    from core.auth.service import create_user
    from tests.conftest import STRONG
    county = _county()
    create_user("clerk_a", STRONG, role="staff", region_code=county.code, must_change=False)
    client = token_app.test_client()
    csrf = re.search(r'name="csrf_token" value="([^"]+)"',
                     client.get("/login").get_data(as_text=True)).group(1)
    assert client.post("/login", data={"username": "clerk_a", "password": STRONG,
                                       "csrf_token": csrf}).status_code == 303
    assert client.get("/dashboard").status_code == 200
    assert client.post("/api/test/checkin").status_code == 401


def test_tokens_cli(token_app):
    county = _county()
    runner = token_app.test_cli_runner()
    out = runner.invoke(args=["tokens", "issue", "test.checkin", "terminal-7",
                              "--region", "510104", "--expires-days", "30"])
    assert out.exit_code == 0, out.output
    token = out.output.strip().splitlines()[-1]
    row = authenticate_api_token("test.checkin", token)
    assert row.region_id == county.id and row.expires_at > utcnow() + dt.timedelta(days=29)
    listing = runner.invoke(args=["tokens", "list"]).output
    assert "terminal-7" in listing and f"…{token[-4:]}" in listing and "active" in listing
    assert token not in listing
    bad = runner.invoke(args=["tokens", "issue", "test.nope", "terminal-7"])
    assert bad.exit_code != 0 and "Unknown API scope" in bad.output
    bad = runner.invoke(args=["tokens", "issue", "test.checkin", "t", "--region", "999999"])
    assert bad.exit_code != 0 and "unknown region" in bad.output
    assert runner.invoke(args=["tokens", "revoke", "test.checkin", "terminal-7"]).exit_code == 0
    assert "revoked" in runner.invoke(args=["tokens", "list"]).output
    again = runner.invoke(args=["tokens", "revoke", "test.checkin", "terminal-7"])
    assert again.exit_code != 0 and "no active" in again.output
