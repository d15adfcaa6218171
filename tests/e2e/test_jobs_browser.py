"""The background jobs page in a real browser, both languages: a late job stands out."""
import datetime as dt

import pytest
from playwright.sync_api import expect

from core.db import utcnow
from core.models import PeriodicJob
from tests.conftest import STRONG
from tests.e2e.conftest import browser_login, shot

pytestmark = pytest.mark.browser


def test_background_jobs_page_marks_the_late_job(app, live_server, page, org, make_user):
    now = utcnow()
    PeriodicJob.create(name="core.heartbeat", label="Worker heartbeat", last_completed_at=now,
                       due_by=now + dt.timedelta(minutes=4), runs=120)
    PeriodicJob.create(name="esupervision.sweep", label="E-supervision sweep",
                       last_completed_at=now - dt.timedelta(minutes=12),
                       due_by=now - dt.timedelta(minutes=7), runs=97,
                       last_failed_at=now - dt.timedelta(minutes=8),
                       last_error="OperationalError: database is locked")
    admin = make_user("e2e_admin", role="sys_admin", region=org["city"], totp=True)
    browser_login(page, live_server, admin.username, STRONG, admin.totp_secret)
    page.click(".sidebar a[href='/admin/jobs']")
    row = page.locator("tbody tr").first
    expect(row).to_contain_text("E-supervision sweep")
    expect(row.locator(".badge-red")).to_have_text("Late")
    expect(page.locator(".badge-ok")).to_have_text("On schedule")
    shot(page, "admin-jobs-en")
    page.click("form.locale-switch button")
    row = page.locator("tbody tr").first
    expect(row).to_contain_text("电子监察巡检")
    expect(row.locator(".badge-red")).to_have_text("已逾期")
    shot(page, "admin-jobs-zh")
