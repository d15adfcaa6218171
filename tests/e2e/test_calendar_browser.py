"""The working-day calendar in a real browser, both languages: a provisional 2027 with
its derived holidays, the banner, and the published schedule imported from a file."""
import pytest
from playwright.sync_api import expect

from core.settings import ROOT
from tests.conftest import STRONG
from tests.e2e.conftest import browser_login, shot

pytestmark = pytest.mark.browser


def test_provisional_february_2027_then_the_schedule_imported(app, live_server, page, org,
                                                             make_user):
    admin = make_user("e2e_cal", role="sys_admin", region=org["city"], totp=True)
    browser_login(page, live_server, admin.username, STRONG, admin.totp_secret)
    page.goto(f"{live_server}/admin/calendar?year=2027&month=2")
    expect(page.locator(".cal-source")).to_contain_text("Provisional")
    expect(page.locator(".cal-day.rest .cal-holiday").first).to_contain_text("Spring Festival")
    expect(page.locator(".cal-holiday", has_text="make-up day")).to_have_count(2)
    shot(page, "calendar-2027-provisional-en")
    page.click("form.locale-switch button")
    expect(page.locator(".cal-source")).to_contain_text("暂定")
    expect(page.locator(".cal-holiday", has_text="春节（补假）")).to_have_count(2)
    shot(page, "calendar-2027-provisional-zh")
    page.set_input_files("input[name=schedule]", str(ROOT / "tests" / "data" /
                                                      "schedule-2027.csv"))
    page.click("#schedule-import button[type=submit]")
    expect(page.locator(".cal-source")).to_contain_text("已公布的放假安排（导入）")
    page.goto(f"{live_server}/admin/calendar?year=2027&month=2")
    expect(page.locator(".cal-day.adjusted")).to_have_count(1)  # Saturday 20 February
    shot(page, "calendar-2027-published-zh")
