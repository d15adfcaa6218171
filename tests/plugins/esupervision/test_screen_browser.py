"""Browser test of the monitoring screen at 1920×1080: a new red signal appears without a
reload, a click on a district drills down; the screenshot is kept for review."""
from __future__ import annotations

import datetime as dt

import pytest

from core.db import utcnow
from tests.conftest import STRONG
from tests.e2e.conftest import browser_login, shot

pytestmark = pytest.mark.browser

DISTRICTS = ["锦江区", "青羊区", "金牛区", "武侯区", "成华区", "龙泉驿区", "青白江区", "新都区",
             "温江区", "双流区", "郫都区", "新津区", "简阳市", "都江堰市", "彭州市", "邛崃市",
             "崇州市", "金堂县", "大邑县", "蒲江县"]


@pytest.fixture
def wall_page(browser):
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    pg = context.new_page()
    yield pg
    context.close()


def _iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_screen_live_feed_and_drill_down(live_server, wall_page, org, make_user,
                                         events):
    from core.org.models import Region
    from plugins.esupervision.services import ingest
    from plugins.esupervision.sweep import sweep
    regions = {org["a"].name: org["a"], org["b"].name: org["b"]}
    for i, name in enumerate(DISTRICTS):
        if name not in regions:
            regions[name] = Region.create(code=f"5101{50 + i}", name=name, level="district",
                                          parent=org["city"], sort=i + 1)
    now = utcnow()
    for i, name in enumerate(DISTRICTS[:8]):
        ev = events(region_code=regions[name].code, submitted="2026-03-02 09:00")
        when = _iso(now - dt.timedelta(days=10 + i))
        ev.case["submitted_at"] = when
        ingest(dict(ev.make("submitted", "2026-03-02 09:00"), occurred_at=when), "ext",
               received_at=now)
    sweep()
    make_user("wall", role="supervisor", region=org["city"])
    browser_login(wall_page, live_server, "wall", STRONG)
    wall_page.goto(f"{live_server}/esupervision/screen")
    assert wall_page.locator(".esv-tile").count() == 20
    wall_page.wait_for_selector("#esv-trend[data-loaded='1']", timeout=10000)
    overflow = wall_page.evaluate("[document.documentElement.scrollHeight, "
                                  "document.documentElement.scrollWidth]")
    assert overflow[0] <= 1080 and overflow[1] <= 1920, overflow
    path = shot(wall_page, "esupervision-screen-1920x1080")
    assert path.exists()

    fresh = events(region_code=org["b"].code, fee_due="0.00")
    when = _iso(utcnow())
    fresh.case["submitted_at"] = when
    ingest(dict(fresh.make("submitted", "2026-03-02 09:00"), occurred_at=when), "ext")
    ingest(dict(fresh.make("fee_charged", "2026-03-02 09:00", fee_charged="30.00"),
                occurred_at=when), "ext")
    wall_page.wait_for_selector("#esv-feed .esv-red:has-text('A fee charged that differs')", timeout=12000)
    assert wall_page.url.endswith("/esupervision/screen")  # no reload happened
    shot(wall_page, "esupervision-screen-new-red")

    wall_page.click(f".esv-tile[data-region='{org['b'].id}']")
    wall_page.wait_for_selector(".esv-dept-table")
    assert "A fee charged that differs" in wall_page.inner_text(".esv-case-list")
    shot(wall_page, "esupervision-screen-drill-down")
