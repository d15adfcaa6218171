"""The alert inbox in a real browser: header badge, acknowledge and resolve in place."""
import pytest
from playwright.sync_api import expect

from tests.conftest import STRONG
from tests.e2e.conftest import browser_login, shot

pytestmark = pytest.mark.browser


def test_inbox_badge_and_actions_in_place(app, live_server, page, org, make_user):
    from core.alerts import service
    from core.alerts.models import Alert
    from core.alerts.outbox import dispatch
    from core.org.models import Person
    clerk = make_user("e2e_clerk", role="staff", region=org["a"],
                      person=Person.get(Person.name == "受理员a"))
    red = service.emit("core.test", org["a"], "Tender 9 red flag", target_post=org["clerk_a"],
                       level="red")
    service.emit("core.test", org["a"], "Approval 17 near its limit",
                 target_post=org["clerk_a"], level="yellow")
    dispatch()
    browser_login(page, live_server, clerk.username, STRONG)
    assert page.locator("#alert-badge .alert-count").inner_text() == "2"
    page.click("#alert-badge")
    page.wait_for_url("**/alerts/")
    card = page.locator(f"#alert-{red.id}")
    card.locator("button", has_text="确认").or_(card.locator("button", has_text="Acknowledge")) \
        .first.click()
    expect(page.locator(f"#alert-{red.id} .alert-state-acknowledged")).to_be_visible()
    expect(page.locator("#alert-badge .alert-count")).to_have_text("1")  # refreshed at once
    card = page.locator(f"#alert-{red.id}")
    card.locator("input[name=note]").fill("Tender annulled and re-issued.")
    card.locator(".alert-resolve button").click()
    expect(page.locator(f"#alert-{red.id} .alert-resolution")).to_be_visible()
    assert "Tender annulled" in page.locator(f"#alert-{red.id}").inner_text()
    assert Alert.get_by_id(red.id).state == "resolved"
    shot(page, "alerts-inbox")
