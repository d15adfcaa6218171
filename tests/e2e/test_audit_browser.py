"""The audit viewer in a real browser: filter, page, and the "verify now" button."""
import pytest
from playwright.sync_api import expect

from core.audit import seal as sealing
from core.audit.models import AuditEvent
from tests.conftest import STRONG
from tests.e2e.conftest import browser_login, shot

pytestmark = pytest.mark.browser


def test_audit_viewer_filters_and_verifies(app, live_server, page, org, make_user):
    for i in range(60):
        AuditEvent.create(action="person.update", region_id=org["a"].id,
                          username="clerk_a", object_type="person", object_id=str(i),
                          summary=f"renamed person {i}")
    AuditEvent.create(action="auth.login_failed", username="mallory", success=False,
                      summary="wrong password for mallory")
    sealing.seal(lag_seconds=0)
    auditor = make_user("e2e_auditor", role="audit_admin", region=org["city"], totp=True)
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    browser_login(page, live_server, auditor.username, STRONG, auditor.totp_secret)
    page.click(".sidebar a[href^='/audit/']")
    page.wait_for_selector("#results table")
    assert page.locator("#results tbody tr").count() == 50
    shot(page, "audit-viewer")
    page.click("#results .pagination a")  # HTMX paging: next page
    expect(page.locator("#results tbody tr")).not_to_have_count(50)
    assert "page=2" in page.url
    page.fill("input[name=user]", "mallory")
    page.click(".audit-filters button[type=submit]")
    expect(page.locator("#results tbody tr")).to_have_count(1)
    assert "wrong password for mallory" in page.inner_text("#results")
    page.click(".audit-chain button[type=submit]")
    expect(page.locator(".audit-chain-ok")).to_be_visible()
    shot(page, "audit-viewer-verified")
    assert not [e for e in errors if "Content Security Policy" in e], errors
