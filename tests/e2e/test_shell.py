"""The shell in a real browser: login page, dashboard and public portal, both languages."""
import pytest

from tests.conftest import STRONG
from tests.e2e.conftest import browser_login, shot

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_login_dashboard_portal_screens(app, live_server, page, org, make_user, lang):
    user = make_user("e2e_staff", role="staff", region=org["city"])
    page.goto(f"{live_server}/login")
    want = "zh-CN" if lang == "zh_CN" else "en"
    if page.locator("html").get_attribute("lang") != want:
        page.click("form.locale-switch button")
    assert page.locator("html").get_attribute("lang") == want
    shot(page, f"login-{lang}")
    browser_login(page, live_server, user.username, STRONG)
    assert page.locator(".sidebar").is_visible()
    assert page.locator(".widget").count() >= 1
    shot(page, f"dashboard-{lang}")
    page.goto(f"{live_server}/public/")
    shot(page, f"portal-{lang}")
    # htmx loaded from our own server, and nothing failed to load
    assert page.evaluate("typeof htmx") == "object"
    assert page.evaluate("htmx.config.allowEval") is False
    assert page.evaluate("htmx.config.historyCacheSize") == 0
