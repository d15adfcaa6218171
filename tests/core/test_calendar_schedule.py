"""Years without a published schedule: provisional holidays from the law, the banner and
the alert for administrators, and the published schedule arriving (an import, a newer
package) with the calendar re-numbered."""
from __future__ import annotations

import datetime as dt
import io

import chinese_calendar
import pytest

from core import calendar
from core.alerts.models import Alert
from core.audit.models import AuditEvent
from core.calendar_hooks import PROVISIONAL_KIND, check_provisional
from core.clock import today
from core.models import CalendarChange, CalendarDay, CalendarSchedule
from core.settings import ROOT

D = dt.date
SCHEDULE = ROOT / "tests" / "data" / "schedule-2027.csv"


def test_2027_holidays_come_from_the_law_and_are_provisional(app):
    assert calendar.year_source(2026) == "statutory"
    assert calendar.year_source(2027) == "provisional"
    assert not calendar.is_workday(D(2027, 1, 1))  # 元旦, a Friday
    for day in range(5, 11):  # 春节 Fri 5 to Mon 8 Feb, the weekend made up Tue 9, Wed 10
        assert not calendar.is_workday(D(2027, 2, day)), day
    assert calendar.is_workday(D(2027, 2, 11))
    row = CalendarDay.get_by_id(D(2027, 2, 9))
    assert (row.source, row.holiday) == ("provisional", "spring_festival.makeup")
    # a deadline with the Spring Festival in it: the 1st working day after Thu 4 Feb
    assert calendar.add_workdays(D(2027, 2, 4), 1) == D(2027, 2, 11)
    assert calendar.workdays_between(D(2027, 1, 28), D(2027, 2, 17)) == 10


BAD = """date,kind,festival
2027-01-01,放假,元旦
2027-02-05/2027-02-12,放假,春节
2027-02-19,上班,春节
2027-13-01,放假,春节
2027-04-05,rest-ish,清明节
2027-05-01/2027-05-02,放假,植树节
2027-02-06,放假,春节
"""


def test_an_import_with_bad_rows_changes_nothing_and_names_each_row(app):
    before = list(CalendarDay.select().where(CalendarDay.day.year == 2027).tuples())
    with pytest.raises(calendar.ScheduleError) as err:
        calendar.import_schedule(BAD, "tester")
    lines = {line for line, _message in err.value.errors}
    assert {4, 5, 6, 7, 8} <= lines
    text = str(err.value)
    assert "2027-02-19 is a weekday" in text and "2027-13-01" in text and "rest-ish" in text
    assert "植树节" in text and "also on line 3" in text
    assert CalendarSchedule.select().count() == 0 and CalendarChange.select().count() == 0
    assert list(CalendarDay.select().where(CalendarDay.day.year == 2027).tuples()) == before


def test_an_import_must_hold_every_statutory_holiday_of_one_year(app):
    missing = SCHEDULE.read_text(encoding="utf-8").replace("2027-10-01/2027-10-07",
                                                           "2027-10-04/2027-10-07")
    with pytest.raises(calendar.ScheduleError, match="2027-10-01 .* statutory holiday"):
        calendar.import_schedule(missing, "tester")
    with pytest.raises(calendar.ScheduleError, match="one year"):
        calendar.import_schedule("2027-01-01,放假,元旦\n2028-01-01,放假,元旦\n", "tester")
    with pytest.raises(calendar.ScheduleError, match="only years from 2025"):
        calendar.import_schedule("2024-01-01,放假,元旦\n", "tester")


def test_the_published_schedule_replaces_the_provisional_year(app):
    year, change = calendar.import_schedule(SCHEDULE.read_text(encoding="utf-8"), "tester")
    assert year == 2027 and calendar.year_source(2027) == "published"
    assert not calendar.is_workday(D(2027, 2, 12))
    assert calendar.is_workday(D(2027, 2, 20))  # Saturday worked in lieu (调休)
    assert calendar.add_workdays(D(2027, 1, 28), 10) == D(2027, 2, 19)
    assert change.reason == "import" and change.detail == "2027"
    changed = set(change_days(change))
    assert {D(2027, 2, 11), D(2027, 2, 12), D(2027, 2, 20), D(2027, 5, 8)} <= changed
    assert D(2027, 2, 9) not in changed  # off in both
    assert calendar.change_label(change) == "Published schedule of 2027 imported"
    assert AuditEvent.select().where(AuditEvent.action == "calendar.renumber").count() == 1
    # importing it again changes no working day
    assert calendar.import_schedule(SCHEDULE.read_text(encoding="utf-8"), "tester")[1] is None


def change_days(change):
    import json
    return [D.fromisoformat(d) for d in json.loads(change.days)]


@pytest.fixture
def package_2027():
    """The chinesecalendar data as a newer release would ship it: 2027 added to its
    tables (the package's own dictionaries, restored after the test)."""
    from chinese_calendar import Holiday
    added_off = {D(2027, 1, 1): Holiday.new_years_day, **{
        D(2027, 2, d): Holiday.spring_festival for d in range(5, 13)}}
    added_work = {D(2027, 2, 20): Holiday.spring_festival}
    chinese_calendar.holidays.update(added_off)
    chinese_calendar.workdays.update(added_work)
    calendar.package_years.cache_clear()
    yield
    for day in added_off:
        chinese_calendar.holidays.pop(day)
    for day in added_work:
        chinese_calendar.workdays.pop(day)
    calendar.package_years.cache_clear()


def test_a_newer_package_replaces_the_provisional_year_on_upgrade(app, package_2027):
    assert calendar.year_source(2027) == "provisional"
    calendar.ensure()  # what `db upgrade` runs
    assert calendar.year_source(2027) == "statutory"
    assert calendar.is_workday(D(2027, 2, 20)) and not calendar.is_workday(D(2027, 2, 11))
    change = CalendarChange.get()
    assert change.reason == "package" and change.detail == "2004–2027"
    assert calendar.change_label(change) == "Schedule of the calendar package (2004–2027)"


def test_administrators_see_a_banner_and_get_one_alert_per_provisional_year(
        app, client, org, make_user, login):
    admin = make_user("cal_admin", role="sys_admin", region=org["city"])
    make_user("county_admin", role="sys_admin", region=org["a"])
    staff = make_user("cal_staff", role="staff", region=org["city"])
    assert check_provisional(D(2026, 6, 1)) == []  # 2026 is published; October not yet
    raised = check_provisional(D(2026, 12, 2))
    assert [a.target_user_id for a in raised] == [admin.id]  # not the county's, not staff
    assert check_provisional(D(2026, 12, 3)) == []  # once per year and administrator
    alert = Alert.get(Alert.kind == PROVISIONAL_KIND)
    assert alert.ref == "calendar:2027" and alert.level == "yellow"
    years = calendar.provisional_years(today())
    login(admin)
    page = client.get("/dashboard").get_data(as_text=True)
    assert ("calendar-banner" in page) == bool(years)
    if years:
        assert f"The holiday schedule of {', '.join(map(str, years))} is not published" in page
        with client.session_transaction() as s:
            s["locale"] = "zh_CN"
        zh = client.get("/dashboard").get_data(as_text=True)
        assert "尚未公布" in zh and "暂定" in zh
    other = app.test_client()
    login(staff, c=other)
    assert "calendar-banner" not in other.get("/dashboard").get_data(as_text=True)


def test_the_admin_uploads_the_schedule(app, client, org, make_user, login, csrf_token):
    admin = make_user("cal_admin", role="sys_admin", region=org["city"])
    login(admin)
    token = csrf_token("/admin/calendar")
    bad = client.post("/admin/calendar/schedule", data={
        "csrf_token": token, "schedule": (io.BytesIO(BAD.encode()), "2027.csv")})
    assert bad.status_code == 422
    body = bad.get_data(as_text=True)
    assert "nothing changed" in body and "line 4" in body and "2027-02-19 is a weekday" in body
    assert calendar.year_source(2027) == "provisional"
    gbk = SCHEDULE.read_text(encoding="utf-8").encode("gb18030")  # as a spreadsheet saves it
    ok = client.post("/admin/calendar/schedule", data={
        "csrf_token": token, "schedule": (io.BytesIO(gbk), "2027.csv")})
    assert ok.status_code == 303 and "year=2027" in ok.headers["Location"]
    assert calendar.year_source(2027) == "published"
    assert AuditEvent.select().where(AuditEvent.action == "calendar.schedule.import").count() == 1
    page = client.get("/admin/calendar?year=2027&month=2").get_data(as_text=True)
    assert "Published schedule (imported)" in page and "Spring Festival" in page
    assert "Published schedule of 2027 imported" in page


def test_the_command_line_import(app, runner, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(BAD, encoding="utf-8")
    result = runner.invoke(args=["calendar", "import", str(bad)])
    assert result.exit_code == 1 and "nothing imported" in result.output
    assert f"{bad}:4:" in result.output
    good = runner.invoke(args=["calendar", "import", str(SCHEDULE), "--by", "ops"])
    assert good.exit_code == 0, good.output
    assert "2027: published schedule imported" in good.output
    status = runner.invoke(args=["calendar", "status"])
    assert "2027  published" in status.output and "2028  provisional  PROVISIONAL" in status.output
