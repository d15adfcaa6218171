"""The department's rectification report in a real browser: the liaison attaches a file
and sends the report, the supervisor sees it and returns it with a reason, the liaison
sees the reason. Screenshots in both languages are kept for review."""
from __future__ import annotations

import pytest

from plugins.esupervision import supervision as sv
from plugins.esupervision.models import Signal, SupervisionCase
from tests.conftest import STRONG
from tests.e2e.conftest import browser_login, shot
from tests.plugins.esupervision import test_letters

pytestmark = pytest.mark.browser
low = test_letters.low


def _in(page, lang: str) -> None:
    """Switch the page's language to ``lang`` ("zh-CN" or "en") with the header switch."""
    if page.get_attribute("html", "lang") != lang:
        page.click("form.locale-switch button")
        page.wait_for_load_state()
    assert page.get_attribute("html", "lang") == lang


def test_a_report_with_a_file_sent_returned_and_seen(low, org, make_user, live_server,
                                                    browser, tmp_path):
    sc = sv.verify(sv.open_case(Signal.get(), low), low, "confirmed", "属实")
    sc = sv.demand_rectification(sc, low, "说明超期原因并整改", 5)
    make_user("liaison_a", "department_liaison", org["a"],
              person=test_letters.person("受理员a"))
    evidence = tmp_path / "整改方案.pdf"
    evidence.write_bytes(b"%PDF-1.4\n%%EOF\n")
    liaison = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    page = liaison.new_page()
    browser_login(page, live_server, "liaison_a", STRONG)
    url = f"{live_server}/esupervision/rectification/{sc.id}"
    page.goto(url)
    _in(page, "zh-CN")
    page.fill("textarea[name=r-report]", "已逐件核查超期原因，调整审查环节时限。")
    page.set_input_files("input[name=r-files]", str(evidence))
    shot(page, "esv-report-department-zh")
    page.click("form[enctype] button[type=submit]")
    page.wait_for_url(url)
    assert "整改方案.pdf" in page.content()
    assert SupervisionCase.get_by_id(sc.id).state == "reported"
    supervisor = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    spage = supervisor.new_page()
    browser_login(spage, live_server, "sup", STRONG)
    for lang in ("en", "zh-CN"):
        spage.goto(f"{live_server}/esupervision/supervision/{sc.id}")
        _in(spage, lang)
        shot(spage, f"esv-report-supervisor-{lang[:2]}")
    spage.fill("textarea[name=b-reason]", "缺少调整时限的文件依据")
    spage.click("form[action$='/return'] button[type=submit]")
    spage.wait_for_url(f"**/esupervision/supervision/{sc.id}")
    assert SupervisionCase.get_by_id(sc.id).state == "rectifying"
    for lang in ("zh-CN", "en"):
        page.goto(url)
        _in(page, lang)
        assert "缺少调整时限的文件依据" in page.content()
        shot(page, f"esv-report-returned-{lang[:2]}")
    liaison.close()
    supervisor.close()


def test_a_letter_reply_with_a_file(low, org, make_user, live_server, browser, tmp_path):
    from plugins.esupervision import evaluation as ev_mod
    from plugins.esupervision.models import ReportFile, SuggestionLetter
    ev_mod.evaluate("2026-03", low)
    letter = SuggestionLetter.get(SuggestionLetter.department == org["dept_a"])
    make_user("liaison_a", "department_liaison", org["a"],
              person=test_letters.person("受理员a"))
    evidence = tmp_path / "整改报告.pdf"
    evidence.write_bytes(b"%PDF-1.4\n%%EOF\n")
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    page = context.new_page()
    browser_login(page, live_server, "liaison_a", STRONG)
    url = f"{live_server}/esupervision/letters/{letter.id}"
    page.goto(url)
    _in(page, "zh-CN")
    page.fill("textarea[name=reply]", "已逐件复核超期办件，调整审查环节时限。")
    page.set_input_files("input[name=files]", str(evidence))
    page.click("form[action$='/reply'] button[type=submit]")
    page.wait_for_url(url)
    assert ReportFile.get(ReportFile.letter == letter.id).file.filename == "整改报告.pdf"
    for lang in ("zh-CN", "en"):
        page.goto(url)
        _in(page, lang)
        assert "整改报告.pdf" in page.content()
        shot(page, f"esv-letter-reply-{lang[:2]}")
    context.close()
