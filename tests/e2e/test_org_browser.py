"""Organisation pages in a real browser: active search, click to edit with field errors."""
import pytest
from playwright.sync_api import expect

from core.org.models import Person
from tests.conftest import STRONG
from tests.e2e.conftest import browser_login, shot

pytestmark = pytest.mark.browser


def test_search_and_inline_edit(app, live_server, page, org, make_user):
    admin = make_user("e2e_org_admin", role="sys_admin", region=org["a"], totp=True)
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    browser_login(page, live_server, admin.username, STRONG, totp_secret=admin.totp_secret)
    page.goto(f"{live_server}/org/people?lang=en")
    shot(page, "org-people")
    page.fill("input[type=search]", "受理员")
    expect(page.locator("#results tbody tr")).to_have_count(1)
    assert "受理员a" in page.inner_text("#results")
    assert "q=" in page.url  # the search is in the address bar
    person = Person.get(Person.name == "受理员a")
    row = f"#person-{person.id}"
    page.click(f"{row} .row-actions a")
    page.wait_for_selector("tr.editing")
    page.fill("tr.editing input[name=phone]", "12345")
    page.click("tr.editing .btn-primary")
    page.wait_for_selector("tr.editing .field-error")
    assert "phone" in page.inner_text("tr.editing .field-error")
    shot(page, "org-inline-edit-error")
    page.fill("tr.editing input[name=phone]", "13800138000")
    page.click("tr.editing .btn-primary")
    page.wait_for_selector(f"{row}:not(.editing)")
    assert "13800138000" in page.inner_text(row)
    assert Person.get_by_id(person.id).phone == "13800138000"
    page.goto(f"{live_server}/org/regions")
    shot(page, "org-regions")
    page.goto(f"{live_server}/org/departments/{org['dept_a'].id}")
    shot(page, "org-department")
    assert not [e for e in errors if "Content Security Policy" in e], errors
