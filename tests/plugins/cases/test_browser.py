"""In a real browser: a citizen files an anonymous web report with a file on /public/cases
(no login) and is shown the 16-digit receipt code once; the petitions office (信访室)
routes it; the supervision and inspection office, which now holds it, writes to the
reporter; the citizen, in a fresh browser context, enters the code, reads the state and
the message and adds information with a file; a wrong code gets the one generic answer.
Screenshots of every page in Chinese and English go to test-artifacts/screenshots/."""
from __future__ import annotations

import re

import pytest

from tests.browser import browser_login, shot
from tests.conftest import STRONG

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
QUESTION = "请补充送礼的具体时间和地点。"
ANSWER = "2026年9月1日晚，在锦江区某饭店包间。"


def _context(browser, lang):
    context = browser.new_context(viewport={"width": 1280, "height": 900},
                                  locale="zh-CN" if lang == "zh_CN" else "en-US")
    return context, context.new_page()


def _speak(page, lang):
    """Press the header's language switch if the page is not in ``lang`` yet."""
    button = page.locator(f"button[name=locale][value={lang}]")
    if button.count():
        with page.expect_navigation():
            button.click()
    assert page.locator("html").get_attribute("lang").startswith(lang[:2])


def _both(page, name, first):
    """Screenshots of the page in ``first`` and then in the other language."""
    for lang in (first, "en" if first == "zh_CN" else "zh_CN"):
        _speak(page, lang)
        shot(page, f"cases-{name}-{lang}")


def _file_report(page, base, world, lang, subject, text):
    page.goto(f"{base}/public/cases/")
    _speak(page, lang)
    shot(page, f"cases-public-report-{lang}")
    page.select_option("select[name=region]", str(world.a.id))
    page.check("input[name=anonymous]")
    page.fill("input[name=subject_name]", subject)
    page.fill("input[name=subject_post]", "锦江区某局 科长")
    page.select_option("select[name=subject_region]", str(world.a.id))
    page.select_option("select[name=subject_rank]", "general")
    page.select_option("select[name=category]", "integrity")
    page.fill("textarea[name=text]", text)
    page.set_input_files("#files", files=[{"name": "证据.pdf", "mimeType": "application/pdf",
                                          "buffer": PDF}])
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.click("form.card button[type=submit]")
    assert answer.value.status == 201
    shown = page.locator("#receipt-code").inner_text().strip()
    assert re.fullmatch(r"\d{4} \d{4} \d{4} \d{4}", shown), shown
    shot(page, f"cases-public-filed-{lang}")
    return shown


def _miss(page, base, code):
    page.goto(f"{base}/public/cases/follow")
    page.fill("input[name=code]", code)
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.click("form.card button[type=submit]")
    page.wait_for_load_state()
    return answer.value.status, page.locator(".form-error").inner_text().strip()


def test_anonymous_report_routed_asked_and_answered_with_the_code(app, live_server, browser,
                                                                  world):
    from core.api import User
    from plugins.cases.models import Attachment, Item, Message
    for user in (world.petition, world.supervision):
        User.update(locale="zh_CN").where(User.id == user.id).execute()

    # the citizen files anonymously, in Chinese, and keeps the code shown once
    citizen, page = _context(browser, "zh_CN")
    shown = _file_report(page, live_server, world, "zh_CN", "李四", "收受管理服务对象礼金两万元。")
    assert "查询码" in page.content()
    citizen.close()
    item = Item.get()
    assert item.channel == "web" and item.anonymous and item.status == "registered"
    assert item.reporter_name is None and item.receipt_hash
    assert [a.file.kind for a in item.attachments] == ["pdf"]
    # the English form and its answer (another report, about another person)
    other, page = _context(browser, "en")
    _file_report(page, live_server, world, "en", "王六", "Took a bribe of 20,000 yuan.")
    assert "receipt code" in page.content()
    other.close()

    # the petitions office (信访室) sees it in its ledger and accepts it here
    office, page = _context(browser, "zh_CN")
    browser_login(page, live_server, world.petition.username, STRONG)
    page.goto(f"{live_server}/cases/?office=petition")
    assert item.number in page.content()
    _both(page, "ledger-petition", "zh_CN")
    page.goto(f"{live_server}/cases/items/{item.id}")
    _speak(page, "zh_CN")
    shot(page, "cases-item-registered-zh_CN")
    assert page.locator("select[name=decision]").input_value() == "accept"
    page.click("form[action$='/route'] button[type=submit]")
    page.wait_for_url(f"**/cases/items/{item.id}")
    assert Item.get_by_id(item.id).status == "accepted"
    _both(page, "item-accepted", "zh_CN")
    office.close()

    # the supervision and inspection office, holding it now, asks the reporter a question
    team, page = _context(browser, "zh_CN")
    browser_login(page, live_server, world.supervision.username, STRONG)
    page.goto(f"{live_server}/cases/items/{item.id}")
    page.fill("#messages textarea[name=text]", QUESTION)
    page.click("#messages button[type=submit]")
    page.wait_for_selector(f"#messages .entry:has-text('{QUESTION}')")
    assert shown.replace(" ", "") not in page.content().replace(" ", "")
    _both(page, "item-message-sent", "zh_CN")
    team.close()

    # the citizen, in a fresh browser, opens the report with the code as it was shown
    citizen, page = _context(browser, "zh_CN")
    page.goto(f"{live_server}/public/cases/follow")
    _both(page, "public-follow", "zh_CN")
    _speak(page, "zh_CN")
    page.fill("input[name=code]", shown)
    page.click("form.card button[type=submit]")
    page.wait_for_url("**/public/cases/mine")
    assert page.locator("#report-state").inner_text().strip() == "已受理，正在办理"
    assert QUESTION in page.locator("#messages").inner_text()
    shot(page, "cases-public-mine-zh_CN")
    page.fill("textarea[name=text]", ANSWER)
    page.set_input_files("#files", files=[{"name": "现场照片.png", "mimeType": "image/png",
                                          "buffer": PNG}])
    page.click("form[enctype] button[type=submit]")
    page.wait_for_selector(f"#messages .entry:has-text('{ANSWER}')")
    _both(page, "public-mine-answered", "zh_CN")
    citizen.close()
    assert Message.select().where((Message.item == item.id)
                                  & (Message.author == "reporter")).get().text == ANSWER
    assert sorted(a.file.kind for a in Attachment.select().where(
        Attachment.item == item.id)) == ["pdf", "png"]

    # a wrong code — one digit off the real one, or any other — gets the same answer
    stranger, page = _context(browser, "en")
    digits = shown.replace(" ", "")
    near = digits[:-1] + str((int(digits[-1]) + 1) % 10)
    answers = {_miss(page, live_server, near), _miss(page, live_server, "1234 5678 9012 3456")}
    assert answers == {(404, "No report matches this code.")}
    shot(page, "cases-public-follow-miss-en")
    _speak(page, "zh_CN")
    status, said = _miss(page, live_server, near)
    assert status == 404 and said and "No report" not in said
    shot(page, "cases-public-follow-miss-zh_CN")
    stranger.close()
