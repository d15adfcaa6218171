"""Risk prevention in a real browser (Chromium), both languages: a unit's register walked
from drafting through submission, a return with reasons and a resubmission to the
discipline inspection office's approval; a talk recorded on the page and, the clock
advanced past its 5 working days, the overdue self-analysis alert in the official's inbox.
Screenshots under test-artifacts/screenshots/risk-*.png."""
from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from tests.browser import browser_login, shot
from tests.conftest import STRONG

pytestmark = pytest.mark.browser


@pytest.fixture
def login(browser, live_server):
    """login(user, lang) -> a page of a fresh browser context logged in as ``user``."""
    contexts = []

    def open_as(user, lang="zh"):
        context = browser.new_context(viewport={"width": 1440, "height": 900},
                                      locale="zh-CN" if lang == "zh" else "en-US")
        contexts.append(context)
        page = context.new_page()
        browser_login(page, live_server, user.username, STRONG)
        if _lang(page) != lang:
            page.click("form.locale-switch button")
            page.wait_for_load_state()
        assert _lang(page) == lang
        return page
    yield open_as
    for context in contexts:
        context.close()


def _lang(page) -> str:
    return "zh" if page.locator("html").get_attribute("lang").startswith("zh") else "en"


def _switch(page, lang: str):
    if _lang(page) != lang:
        page.click("form.locale-switch button")
        page.wait_for_load_state()
    assert _lang(page) == lang


def set_clock(monkeypatch, day: dt.date, hour: int = 9):
    """The deployment's clock (core.clock.now, which today() and every due date ask) at
    ``day`` ``hour``:00 in QL_TIMEZONE, for the app thread of the live server too."""
    from core import clock
    monkeypatch.setattr(clock, "now", lambda: dt.datetime.combine(
        day, dt.time(hour), tzinfo=clock.timezone()))


def test_a_register_from_submission_to_approval(app, live_server, login, unit):
    from plugins.risk.models import Register
    dept = unit["dept"]
    clerk = login(unit["clerk"], "zh")
    clerk.goto(f"{live_server}/risk/units/{dept.id}")
    shot(clerk, "risk-unit-empty-zh")
    clerk.click("form[action$='/working-copy'] button")
    clerk.wait_for_url("**/risk/registers/*")
    form = clerk.locator("#new-point form")
    form.locator("select[name=post]").select_option(str(unit["land"].id))
    form.locator("[name=duty]").fill("项目实施管理")
    form.locator("[name=description]").fill(
        "在土地综合整治建设过程中随意改变规划设计、违规办理相关手续")
    form.locator("select[name=risk_type]").select_option("process")
    form.locator("select[name=likelihood]").select_option("4")
    form.locator("select[name=impact]").select_option("4")
    form.locator("[name=reminder_text]").fill("严禁在土地综合整治建设过程中随意改变规划设计")
    form.locator("button[type=submit]").click()
    clerk.wait_for_url("**/risk/points/*")
    measure = clerk.locator("form[action$='/measures']")
    measure.locator("[name=text]").fill("规划设计变更须集体研究并报批")
    measure.locator("[name=deadline_days]").fill("5")
    measure.locator("button[type=submit]").click()
    expect(clerk.locator("body")).to_contain_text("规划设计变更须集体研究并报批")
    reg = Register.get(Register.department == dept.id)
    clerk.goto(f"{live_server}/risk/registers/{reg.id}")
    shot(clerk, "risk-register-draft-zh")
    clerk.locator("#submit [name=note]").fill("请审核")
    clerk.locator("#submit button[type=submit]").click()
    expect(clerk.locator(".rk-info")).to_be_visible()
    assert Register.get_by_id(reg.id).state == "submitted"

    office = login(unit["reviewer"], "zh")
    office.goto(f"{live_server}/risk/registers/{reg.id}")
    expect(office.locator("#review h3").first).to_have_text("本单位首个版本：全部风险点均为新增")
    shot(office, "risk-register-review-zh")
    returning = office.locator("form[action$='/return']")
    returning.locator("button[type=submit]").click()  # no reasons: refused, nothing written
    expect(office.locator("#review [aria-invalid=true], #review .field-error").first) \
        .to_be_visible()
    assert Register.get_by_id(reg.id).state == "submitted"
    returning = office.locator("form[action$='/return']")
    returning.locator("[name=reasons]").fill("措施缺少手续办理环节的留痕要求")
    returning.locator("button[type=submit]").click()
    expect(office.locator("body")).to_contain_text("退回")
    assert Register.get_by_id(reg.id).state == "returned"

    clerk.goto(f"{live_server}/risk/registers/{reg.id}")
    expect(clerk.locator(".rk-returned")).to_contain_text("措施缺少手续办理环节的留痕要求")
    shot(clerk, "risk-register-returned-zh")
    _switch(clerk, "en")
    shot(clerk, "risk-register-returned-en")
    _switch(clerk, "zh")
    clerk.locator("#rk-points a[href*='/risk/points/']").first.click()
    clerk.wait_for_url("**/risk/points/*")
    measure = clerk.locator("form[action$='/measures']")
    measure.locator("[name=text]").fill("手续办理全程留痕")
    measure.locator("[name=deadline_days]").fill("10")
    measure.locator("button[type=submit]").click()
    expect(clerk.locator("body")).to_contain_text("手续办理全程留痕")
    clerk.goto(f"{live_server}/risk/registers/{reg.id}")
    clerk.locator("#submit button[type=submit]").click()
    expect(clerk.locator(".rk-info")).to_be_visible()

    office.goto(f"{live_server}/risk/registers/{reg.id}")
    expect(office.locator("#review")).to_contain_text("ZF-R001")  # what it adds
    expect(office.locator("body")).to_contain_text("手续办理全程留痕")
    office.locator("form[action$='/approve'] [name=note]").fill("同意")
    office.locator("form[action$='/approve'] button[type=submit]").click()
    office.wait_for_url(f"**/risk/units/{dept.id}")
    reg = Register.get_by_id(reg.id)
    assert reg.state == "approved" and reg.reviewed_by
    expect(office.locator("h2", has_text="现行风险台账").or_(
        office.locator("section.card").first)).to_be_visible()
    expect(office.locator("body")).to_contain_text("手续办理全程留痕")
    shot(office, "risk-unit-approved-zh")
    _switch(office, "en")
    expect(office.locator("body")).to_contain_text("The register in force")
    shot(office, "risk-unit-approved-en")
    office.goto(f"{live_server}/risk/registers/{reg.id}")
    expect(office.locator("#new-point")).to_have_count(0)  # in force: not edited
    expect(office.locator("#review")).to_have_count(0)


def test_a_talk_to_its_overdue_self_analysis_alert(app, live_server, login, unit,
                                                   monkeypatch):
    from core.alerts.models import Alert
    from core.alerts.outbox import dispatch
    from core.queue import _WRAPPERS, huey
    from plugins.risk.models import Talk
    from plugins.risk.tasks import REMINDERS_JOB, register_periodic
    register_periodic(huey)  # the worker's declaration of the jobs
    set_clock(monkeypatch, dt.date(2026, 9, 29))  # a Tuesday before the National Day
    office = login(unit["reviewer"], "zh")
    office.goto(f"{live_server}/risk/talks/")
    form = office.locator("form[action$='/risk/talks/new']")
    form.locator("[name=person]").select_option(str(unit["official_person"].id))
    form.locator("[name=post]").select_option(str(unit["land"].id))
    form.locator("[name=kind]").select_option("admonishment")
    form.locator("[name=held_on]").fill("2026-09-29")
    form.locator("[name=talker]").fill("纪委书记")
    form.locator("[name=content]").fill("就项目变更手续问题进行诫勉谈话")
    form.locator("button[type=submit]").click()
    office.wait_for_url("**/risk/talks/*")
    talk = Talk.get()
    assert talk.submission_due == dt.date(2026, 10, 12)  # the 1–8 October holiday skipped
    expect(office.locator("body")).to_contain_text("2026-10-12")
    shot(office, "risk-talk-recorded-zh")

    set_clock(monkeypatch, dt.date(2026, 10, 12), hour=23)
    _WRAPPERS[REMINDERS_JOB]()  # the sweep, as the worker runs it
    assert not Alert.select().where(Alert.kind == "risk.talk.overdue").exists()
    set_clock(monkeypatch, dt.date(2026, 10, 13))
    _WRAPPERS[REMINDERS_JOB]()
    dispatch()  # the outbox, as the worker drains it
    alert = Alert.get(Alert.kind == "risk.talk.overdue")
    assert alert.target_user_id == unit["official"].id

    official = login(unit["official"], "zh")
    expect(official.locator("#alert-badge .alert-count")).to_have_text("1")
    official.click("#alert-badge")
    official.wait_for_url("**/alerts/")
    card = official.locator(f"#alert-{alert.id}")
    expect(card).to_contain_text("2026-10-12")
    shot(official, "risk-talk-overdue-alert-zh")
    _switch(official, "en")
    expect(official.locator(f"#alert-{alert.id}")).to_contain_text("2026-10-12")
    shot(official, "risk-talk-overdue-alert-en")
    official.goto(f"{live_server}/risk/talks/{talk.id}")
    expect(official.locator(".risk-facts .badge-red")).to_have_text("Overdue")
    shot(official, "risk-talk-overdue-en")
    _switch(official, "zh")
    shot(official, "risk-talk-overdue-zh")
    official.locator("[name=self_analysis]").fill("对变更手续把关不严的剖析")
    official.locator("[name=pledge]").fill("严守规划设计变更程序")
    official.locator("[name=corrections]").fill("变更一律集体研究并报批")
    official.locator("form[action$='/submit'] button[type=submit]").click()
    expect(official.locator("body")).to_contain_text("严守规划设计变更程序")
    assert Talk.get_by_id(talk.id).submitted_at is not None
