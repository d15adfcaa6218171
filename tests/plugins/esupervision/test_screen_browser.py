"""Browser tests of the monitoring screen: at 1920×1080 a new red signal appears without a
reload and a click on a district drills down; at three wall sizes (and a portrait display)
the bounding boxes of tiles, totals and panels are measured and must not overlap, spill
out of the display or clip their text. Screenshots are kept for review."""
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


def _city_with_signals(org, events) -> dict:
    """The city's twenty districts, eight of them with a case ten or more days overdue at
    acceptance, swept: twenty tiles and a feed of red signals."""
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
    for name in DISTRICTS:  # a case decided early and rated in each: rates of "100.0%"
        ev = events(region_code=regions[name].code)
        when = _iso(now - dt.timedelta(hours=2))
        ev.case["submitted_at"] = when
        for short, extra in (("submitted", {}), ("accepted", {}),
                             ("decided", {"decision": "approved"}), ("closed", {}),
                             ("evaluated", {"rating": 5})):
            ingest(dict(ev.make(short, "2026-03-02 09:00", **extra), occurred_at=when), "ext",
                   received_at=now)
    sweep()
    return regions


def test_screen_live_feed_and_drill_down(live_server, wall_page, org, make_user,
                                         events):
    from plugins.esupervision.services import ingest
    _city_with_signals(org, events)
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


# The boxes that must each stay whole and apart: totals, tiles, the two panels.
BOXES = """() => {
  const box = (el) => { const r = el.getBoundingClientRect();
    return {name: (el.dataset.region || el.className) + " " + el.innerText.split("\\n")[0],
            left: r.left, top: r.top, right: r.right, bottom: r.bottom,
            clipped: el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1}; };
  const all = (sel) => Array.from(document.querySelectorAll(sel)).map(box);
  const names = Array.from(document.querySelectorAll(".esv-tile-name, .esv-cap"))
    .filter((el) => el.scrollWidth > el.clientWidth + 1).map((el) => el.innerText);
  return {tiles: all(".esv-tile"), totals: all(".esv-total"), panels: all(".esv-panel"),
          head: all(".esv-screen-head"), cut: names,
          feed: all(".esv-feed-code").map((b) => b.right - b.left),
          page: [document.documentElement.scrollWidth, document.documentElement.scrollHeight],
          view: [window.innerWidth, window.innerHeight]};
}"""


def _overlap(a: dict, b: dict) -> bool:
    return (min(a["right"], b["right"]) - max(a["left"], b["left"]) > 0.5
            and min(a["bottom"], b["bottom"]) - max(a["top"], b["top"]) > 0.5)


@pytest.mark.parametrize("width,height,wall", [(1920, 1080, True), (2560, 1440, True),
                                               (1366, 768, True), (1024, 1280, False)])
def test_screen_geometry(live_server, browser, org, make_user, events, width, height, wall):
    """Wall sizes fit the display without scrolling; a portrait display scrolls one column.
    Nowhere does a box overlap another, clip its text or leave the display sideways."""
    _city_with_signals(org, events)
    make_user("wall", role="supervisor", region=org["city"])
    context = browser.new_context(viewport={"width": width, "height": height},
                                  locale="zh-CN")
    pg = context.new_page()
    try:
        browser_login(pg, live_server, "wall", STRONG)
        pg.goto(f"{live_server}/esupervision/screen")
        pg.wait_for_selector("#esv-trend[data-loaded='1']", timeout=10000)
        m = pg.evaluate(BOXES)
        shot(pg, f"esupervision-screen-{width}x{height}")
    finally:
        context.close()
    assert len(m["tiles"]) == 20 and len(m["totals"]) == 5 and len(m["panels"]) == 2
    boxes = m["head"] + m["totals"] + m["tiles"] + m["panels"]
    overlaps = [(a["name"], b["name"]) for i, a in enumerate(boxes) for b in boxes[i + 1:]
                if _overlap(a, b)]
    assert not overlaps, overlaps
    # the feed shows as many signals as fit (it fades out at the bottom); nothing else cuts
    assert not [b["name"] for b in boxes if b["clipped"] and "esv-feed-panel" not in b["name"]]
    assert not m["cut"], m["cut"]
    assert m["page"][0] <= width, m["page"]
    assert all(b["right"] <= width + 0.5 and b["left"] >= 0 for b in boxes)
    if wall:
        assert m["page"][1] <= height, m["page"]
        assert all(b["bottom"] <= height + 0.5 for b in boxes)
    # a signal's label is readable on one line, not squeezed to a character a line
    assert m["feed"] and min(m["feed"]) >= 0.15 * width, m["feed"]


def test_screen_feed_times_are_local(client, org, make_user, events, login):
    """The feed shows QL_TIMEZONE (Beijing) times, not UTC."""
    from plugins.esupervision.models import Signal
    _city_with_signals(org, events)
    login(make_user("wall", role="supervisor", region=org["city"]))
    signal = Signal.select().order_by(Signal.id.desc()).first()
    local = signal.raised_at + dt.timedelta(hours=8)
    body = client.get(f"/esupervision/screen/feed?region={org['city'].id}").get_data(True)
    assert local.strftime("%m-%d %H:%M") in body
    assert "UTC" not in body
