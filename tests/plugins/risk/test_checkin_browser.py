"""The phone page's check-in in a real browser (Chromium, a phone-sized context with the
geolocation permission and a faked position): outside the site's radius no SMS; inside it
exactly one SMS at a real local HTTP SMS receiver, delivered by a real worker against
Redis; a second check-in the same day none more. Screenshots risk-checkin-*.png."""
from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from core.alerts.models import Notification
from plugins.risk import reminders
from plugins.risk.models import CheckIn
from tests import workers
from tests.browser import browser_login, shot
from tests.conftest import STRONG
from tests.plugins.risk import test_checkin_sms as api_test

pytestmark = [pytest.mark.browser, pytest.mark.redis]
sms, settings, queue = api_test.sms, api_test.settings, api_test.queue  # the fixtures
SITE = {"latitude": 30.657, "longitude": 104.066}


def _switch_language(page):
    # At phone width the core's top bar runs past the screen's edge and its last links
    # overlap the language button, so the button is pressed by script, not by pointer.
    with page.expect_navigation():
        page.locator("form.locale-switch button").dispatch_event("click")


def _check_in(page, context, latitude: float, longitude: float):
    context.set_geolocation({"latitude": latitude, "longitude": longitude, "accuracy": 12})
    with page.expect_navigation():  # the script reads the position and posts the form
        page.click("#checkin-button")
    result = page.locator("#checkin-result")
    expect(result).to_be_visible()
    return result


def test_phone_page_check_in_sends_one_sms(app, settings, approved, unit, sms, queue,
                                           browser, live_server):
    from core.alerts.tasks import sweep_task
    reminders.save_site(unit["reviewer"], {
        "department": unit["dept"].id, "code": "TZ-01", "name": "三圣乡土地整治项目",
        "latitude": str(SITE["latitude"]), "longitude": str(SITE["longitude"]),
        "radius_m": "300", "posts": [unit["land"].id]})
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
        device_scale_factor=2, locale="zh-CN", permissions=["geolocation"],
        geolocation={**SITE, "accuracy": 12})
    worker = workers.start_worker(settings, api_test.REDIS, "-w", "2", "--no-periodic",
                                  QL_SMS_GATEWAY_URL=settings.sms_gateway_url)
    try:
        page = context.new_page()
        browser_login(page, live_server, "huang", STRONG)
        if not page.locator("html").get_attribute("lang").startswith("zh"):
            _switch_language(page)
        resp = page.goto(f"{live_server}/risk/reminders/checkin")
        # the core forbids geolocation everywhere; this page allows it for itself
        assert "geolocation=(self)" in resp.headers["permissions-policy"]
        expect(page.locator("#checkin-button")).to_be_visible()
        expect(page.locator(".rk-tabs a.active")).to_have_text("现场打卡")  # one tab marked
        shot(page, "risk-checkin-phone-zh")

        result = _check_in(page, context, 30.70, 104.066)  # about 4.8 km away
        expect(result).to_have_class("form-error")
        shot(page, "risk-checkin-outside-zh")
        assert CheckIn.select().where(CheckIn.inside == False).count() == 1

        result = _check_in(page, context, 30.6571, 104.066)
        expect(result).to_have_class("form-success")
        expect(result).to_contain_text("三圣乡土地整治项目")
        shot(page, "risk-checkin-inside-zh")
        assert workers.wait_for(lambda: len(sms.accepted) >= 1, 60), workers.stop(worker)

        _switch_language(page)
        result = _check_in(page, context, 30.6569, 104.0661)  # again the same day
        expect(result).to_contain_text("Checked in at")
        shot(page, "risk-checkin-again-en")
        assert workers.wait_for(lambda: Notification.select().where(
            Notification.state != "sent").count() == 0, 60, every=0.5, tick=sweep_task)
        time.sleep(2)  # nothing more arrives late
    finally:
        out = workers.stop(worker)
        context.close()
    assert "Traceback" not in out, out
    assert CheckIn.select().where(CheckIn.source == "phone").count() == 3
    assert len(sms.accepted) == 1 and len(sms.requests) == 1
    message = next(iter(sms.accepted.values()))
    assert message["to"] == "13800000001"
    assert "严禁在土地综合整治建设过程中随意改变规划设计" in message["text"]
    assert message["alert"]["kind"] == "risk.reminder.site_arrival"
