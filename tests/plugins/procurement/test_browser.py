"""Browser test: two suppliers in two browser contexts run an online auction to its end
while two supervisors (one reading Chinese, one English) watch it update without a reload;
the scheduler ends and awards it. Screenshots of every page, in both languages."""
from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

import pytest

from core.api import utcnow
from tests.browser import shot
from tests.conftest import STRONG

pytestmark = pytest.mark.browser


def _context(browser, locale):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale=locale)
    return context, context.new_page()


def _login(page, base, username, landing):
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", STRONG)
    page.click(".login-card button[type=submit]")
    page.wait_for_url(f"**{landing}")


def _best(page) -> str:
    return page.locator(".pc-best").first.inner_text().strip()


def test_two_suppliers_run_an_auction_while_supervisors_watch(app, live_server, browser,
                                                             world, make_user):
    from core.api import User
    from plugins.procurement import auction, projects, tasks
    from plugins.procurement.models import Auction, Award, Project
    supervisor_en = make_user("jw_a_en", role="supervisor", region=world.region)
    User.update(locale="en").where(User.id == supervisor_en.id).execute()
    User.update(locale="zh_CN").where(User.id == world.supervisor.id).execute()
    a, b = world.suppliers[0], world.suppliers[1]
    User.update(locale="zh_CN").where(User.id == a.user_id).execute()
    User.update(locale="en").where(User.id == b.user_id).execute()
    project = world.project("auction", budget="300000", title="办公电脑网上竞价")
    auction.setup(world.purchaser, project, starts_at=utcnow() + dt.timedelta(seconds=30),
                  ends_at=utcnow() + dt.timedelta(minutes=10), step=Decimal(500),
                  extension_seconds=10, max_extension_seconds=20)
    projects.publish(world.purchaser, project, "competitive")
    auc = Auction.get(Auction.project == project.id)
    auction.join(a, auc)
    auction.join(b, auc)
    end = utcnow() + dt.timedelta(seconds=40)
    Auction.update(starts_at=utcnow() - dt.timedelta(seconds=1), planned_end=end,
                   ends_at=end).where(Auction.id == auc.id).execute()

    watchers = []
    for user, locale in ((world.supervisor, "zh-CN"), (supervisor_en, "en-US")):
        context, page = _context(browser, locale)
        _login(page, live_server, user.username, "/dashboard")
        page.goto(f"{live_server}/procurement/projects/{project.id}/auction")
        page.evaluate("window.__sameDocument = 'yes'")
        watchers.append((context, page))
    bidders = []
    for supplier, locale in ((a, "zh-CN"), (b, "en-US")):
        context, page = _context(browser, locale)
        _login(page, live_server, User.get_by_id(supplier.user_id).username, "/supplier/")
        page.goto(f"{live_server}/supplier/auctions/{project.id}")
        bidders.append((context, page))
    shot(watchers[0][1], "procurement-auction-supervisor-start-zh")

    prices = ["299500", "298000", "297500", "296000"]
    for n, price in enumerate(prices):
        page = bidders[n % 2][1]
        page.fill("input[name=price]", price)
        page.click(".pc-bid button[type=submit]")
        expected = f"{int(price):,}.00"
        page.wait_for_function(
            "text => document.querySelector('.pc-best').innerText.includes(text)", arg=expected,
            timeout=10000)
        for _ctx, watcher in watchers:  # the supervisors' pages follow without a reload
            watcher.wait_for_function(
                "text => document.querySelector('.pc-best').innerText.includes(text)",
                arg=expected, timeout=10000)
    shot(bidders[0][1], "procurement-auction-supplier-zh")
    shot(bidders[1][1], "procurement-auction-supplier-en")
    shot(watchers[0][1], "procurement-auction-supervisor-running-zh")
    shot(watchers[1][1], "procurement-auction-supervisor-running-en")
    # a refused bid (not a multiple of the step) is said so in place
    bidders[1][1].fill("input[name=price]", "295900")
    bidders[1][1].click(".pc-bid button[type=submit]")
    bidders[1][1].wait_for_selector(".flash-error", timeout=10000)
    shot(bidders[1][1], "procurement-auction-supplier-refused-en")

    stored = Auction.get_by_id(auc.id)
    while utcnow() < stored.ends_at + dt.timedelta(seconds=1):
        time.sleep(0.5)
        stored = Auction.get_by_id(auc.id)
    assert tasks.minute()["auctions"] == 1  # the scheduler ends and awards it
    award = Award.get(Award.project == project.id)
    assert award.amount == Decimal(296000) and award.supplier_id == b.id
    assert Project.get_by_id(project.id).status == "awarded"
    for _ctx, watcher in watchers:
        watcher.wait_for_function(
            "name => document.querySelector('.pc-log').innerText.includes(name)", arg=b.name,
            timeout=10000)
        assert watcher.evaluate("window.__sameDocument") == "yes"
    shot(watchers[0][1], "procurement-auction-supervisor-ended-zh")
    shot(watchers[1][1], "procurement-auction-supervisor-ended-en")
    for context, _page in watchers + bidders:
        context.close()


def test_staff_and_public_pages_screenshots(app, live_server, browser, world):
    """The purchaser's project page with the opening record, and the public notices, in
    both languages (screenshots for review)."""
    from core.api import User
    from plugins.procurement import bidding
    from tests.plugins.procurement.conftest import PASS, reach_deadline
    project = world.open_tender()
    for supplier, price in zip(world.suppliers[:3], ("873456.12", "912345.67", "888777.66"),
                               strict=True):
        bidding.submit(supplier, project, price=Decimal(price), note="响应")
    reach_deadline(project)
    from plugins.procurement import tasks
    tasks.minute()
    bidding.release(world.supervisor, PASS, [project])
    bidding.release(world.agency, PASS, [project])
    tasks.minute()
    for locale, lang in (("zh-CN", "zh_CN"), ("en-US", "en")):
        User.update(locale=lang).where(User.id == world.purchaser.id).execute()
        context, page = _context(browser, locale)
        _login(page, live_server, world.purchaser.username, "/dashboard")
        page.goto(f"{live_server}/procurement/projects/{project.id}")
        assert "873,456.12" in page.content()
        shot(page, f"procurement-project-opened-{lang}")
        page.goto(f"{live_server}/procurement/")
        shot(page, f"procurement-projects-{lang}")
        page.goto(f"{live_server}/dashboard")
        shot(page, f"procurement-dashboard-{lang}")
        context.close()
        context, page = _context(browser, locale)
        page.goto(f"{live_server}/public/procurement/")
        if lang == "zh_CN":
            page.click("button[name=locale][value=zh_CN]")
            page.wait_for_load_state()
        page.select_option("select[name=kind]", "tender")
        page.wait_for_timeout(800)
        shot(page, f"procurement-public-notices-{lang}")
        page.goto(f"{live_server}/public/procurement/projects/{project.id}")
        shot(page, f"procurement-public-project-{lang}")
        context.close()
