"""The searchable pickers in a real browser: typing in the department picker of the
findings page asks the server and narrows the list (HTMX, no other script); the person
held accountable is picked from the people of the case's region. Screenshots in both
languages are kept for review."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from core.org.models import Department
from plugins.esupervision import supervision as sv
from plugins.esupervision.models import Accountability, InspectionFinding
from tests.conftest import STRONG
from tests.e2e.conftest import browser_login, shot
from tests.plugins.esupervision.test_reports_browser import _in

pytestmark = pytest.mark.browser


def test_pick_a_department_and_a_person_by_searching(red_signal, org, make_user,
                                                     live_server, browser):
    for n in range(40):
        Department.create(region=org["a"], code=f"D{n:02d}", name=f"锦江区第{n:02d}局")
    sup = make_user("sup", role="supervisor", region=org["a"])
    sc = sv.verify(sv.open_case(red_signal, sup), sup, "confirmed", "属实")
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    page = context.new_page()
    browser_login(page, live_server, "sup", STRONG)
    for lang in ("zh-CN", "en"):
        page.goto(f"{live_server}/esupervision/findings")
        _in(page, lang)
        page.fill("#department-q", "第3")
        expect(page.locator("#department option")).to_have_count(10)
        shot(page, f"esv-picker-department-{lang[:2]}")
    page.select_option("#department", label="锦江区第37局 (锦江区)")
    page.fill("#day", "2026-03-12")
    page.fill("#description", "收费公示不全")
    page.click("form.esv-threshold-form button[type=submit]")
    page.wait_for_url("**/esupervision/findings")
    assert InspectionFinding.get().department.name == "锦江区第37局"
    for lang in ("zh-CN", "en"):
        page.goto(f"{live_server}/esupervision/supervision/{sc.id}")
        _in(page, lang)
        page.fill("#a-person-q", "局长")
        expect(page.locator("#a-person option")).to_have_count(1)
        shot(page, f"esv-picker-person-{lang[:2]}")
    page.select_option("#a-person", index=0)
    page.fill("#a-what", "违规收费")
    page.fill("#a-outcome", "诫勉谈话")
    page.click("form[action$='/accountability'] button[type=submit]")
    page.wait_for_url(f"**/esupervision/supervision/{sc.id}")
    assert Accountability.get().person_name == "局长a"
    context.close()
