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


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_the_shell_on_a_phone(app, live_server, page, org, make_user, lang):
    """At 390 px the header wraps within the screen (it ran 100 px off it, its links over
    the language button) and the menu is a strip under it (it vanished below 860 px)."""
    user = make_user("e2e_phone", role="staff", region=org["city"])
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server}/login")
    want = "zh-CN" if lang == "zh_CN" else "en"
    if page.locator("html").get_attribute("lang") != want:
        page.click("form.locale-switch button")
    browser_login(page, live_server, user.username, STRONG)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    for selector in (".topbar .user-chip", "form.locale-switch button", ".sidebar"):
        box = page.locator(selector).first.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, selector
    switch = page.locator("form.locale-switch button").bounding_box()
    logout = page.locator(".topbar form[action$='/logout'] button").bounding_box()
    overlap = not (switch["x"] >= logout["x"] + logout["width"] or
                   logout["x"] >= switch["x"] + switch["width"] or
                   switch["y"] >= logout["y"] + logout["height"] or
                   logout["y"] >= switch["y"] + switch["height"])
    assert not overlap
    page.locator(".sidebar a").first.click()
    assert page.url.startswith(live_server)
    shot(page, f"phone-dashboard-{lang}")
