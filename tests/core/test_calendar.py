"""Working-day arithmetic over the 2026 Spring Festival and National Day."""
import datetime as dt

import pytest

from core import calendar

D = dt.date


@pytest.mark.parametrize("day,expected", [
    (D(2026, 2, 13), True),   # Friday before the festival
    (D(2026, 2, 14), True),   # Saturday worked in lieu (调休)
    (D(2026, 2, 15), False),  # Spring Festival holiday begins
    (D(2026, 2, 17), False),  # New Year's Day (lunar), a Tuesday
    (D(2026, 2, 23), False),  # last day of the holiday, a Monday
    (D(2026, 2, 24), True),
    (D(2026, 2, 28), True),   # Saturday worked in lieu
    (D(2026, 3, 1), False),   # ordinary Sunday
    (D(2026, 9, 20), True),   # Sunday worked in lieu before National Day
    (D(2026, 10, 1), False),
    (D(2026, 10, 7), False),
    (D(2026, 10, 8), True),
    (D(2026, 10, 10), True),  # Saturday worked in lieu after National Day
])
def test_is_workday_2026(app, day, expected):
    assert calendar.is_workday(day) is expected


def test_add_workdays_across_spring_festival(app):
    # Friday 13 Feb + 1 working day = Saturday 14 Feb (调休), + 2 = Tuesday 24 Feb.
    assert calendar.add_workdays(D(2026, 2, 13), 1) == D(2026, 2, 14)
    assert calendar.add_workdays(D(2026, 2, 13), 2) == D(2026, 2, 24)
    # 20 working days from 10 Feb lands well after the holiday.
    # 11–14 Feb (4, incl. Sat 14), 24–28 Feb (5), 2–6 and 9–13 Mar (10), 16 Mar.
    assert calendar.add_workdays(D(2026, 2, 10), 20) == D(2026, 3, 16)
    assert calendar.workdays_between(D(2026, 2, 10), D(2026, 3, 16)) == 20


def test_add_workdays_across_national_day(app):
    # Tuesday 29 Sep + 1 = Wed 30 Sep, + 2 = Thursday 8 Oct (1–7 Oct off).
    assert calendar.add_workdays(D(2026, 9, 29), 2) == D(2026, 10, 8)
    assert calendar.add_workdays(D(2026, 10, 8), 2) == D(2026, 10, 10)  # Fri 9, Sat 10
    assert calendar.workdays_between(D(2026, 9, 30), D(2026, 10, 9)) == 2


def test_start_on_holiday_counts_from_next_workday(app):
    assert calendar.add_workdays(D(2026, 10, 3), 1) == D(2026, 10, 8)
    assert calendar.add_workdays(D(2026, 10, 3), 0) == D(2026, 10, 8)
    assert calendar.add_workdays(D(2026, 10, 8), 0) == D(2026, 10, 8)


def test_negative_and_round_trip(app):
    assert calendar.add_workdays(D(2026, 10, 8), -1) == D(2026, 9, 30)
    start = D(2026, 1, 5)
    for n in (1, 5, 20, 60):
        assert calendar.workdays_between(start, calendar.add_workdays(start, n)) == n


def test_override_makes_a_local_holiday_and_renumbers(app):
    assert calendar.add_workdays(D(2026, 5, 11), 1) == D(2026, 5, 12)
    calendar.set_override(D(2026, 5, 12), False, "local flood day", "tester")
    assert not calendar.is_workday(D(2026, 5, 12))
    assert calendar.add_workdays(D(2026, 5, 11), 1) == D(2026, 5, 13)
    assert calendar.workdays_between(D(2026, 5, 11), D(2026, 5, 13)) == 1
    calendar.clear_override(D(2026, 5, 12))
    assert calendar.is_workday(D(2026, 5, 12))
    assert calendar.workdays_between(D(2026, 5, 11), D(2026, 5, 13)) == 2


def test_override_extra_working_day(app):
    calendar.set_override(D(2026, 3, 7), True, "make-up day", "tester")  # a Saturday
    assert calendar.add_workdays(D(2026, 3, 6), 1) == D(2026, 3, 7)


def test_outside_calendar_is_a_clear_error(app):
    with pytest.raises(calendar.CalendarError, match="outside the calendar"):
        calendar.is_workday(D(1990, 1, 1))


def test_years_beyond_the_schedule_follow_the_law(app):
    """Issue 15: such years were Monday to Friday. 1 January 2040 is a Sunday, so the law
    makes Monday 2 January up; weekdays otherwise work and Sundays rest."""
    assert not calendar.is_workday(D(2040, 1, 2))  # New Year's Day made up
    assert calendar.is_workday(D(2040, 1, 3))  # Tuesday
    assert not calendar.is_workday(D(2040, 1, 7))  # Sunday
    assert calendar.year_source(2040) == "provisional"


def test_admin_rules_a_day_from_the_calendar_page(client, org, make_user, login, csrf_token):
    admin = make_user("caladmin", role="sys_admin", region=org["city"])
    login(admin)
    page = client.get("/admin/calendar?year=2026&month=2").get_data(as_text=True)
    assert "Adjusted working day" in page and "Holiday" in page
    token = csrf_token("/admin/calendar?year=2026&month=5")
    resp = client.post("/admin/calendar/2026-05-12", data={"action": "restday",
                                                           "csrf_token": token})
    assert resp.status_code == 303
    assert not calendar.is_workday(D(2026, 5, 12))
    from core.audit.models import AuditEvent
    assert AuditEvent.select().where(AuditEvent.action == "calendar.override").count() == 1
    assert client.post("/admin/calendar/2026-13-40", data={"action": "restday",
                                                           "csrf_token": token}).status_code == 422
    assert client.post("/admin/calendar/2026-05-13", data={"action": "explode",
                                                           "csrf_token": token}).status_code == 422
    assert calendar.is_workday(D(2026, 5, 13))
    assert client.get("/admin/calendar?year=2026&month=99").status_code == 422
    assert client.get("/admin/calendar?year=" + "9" * 30).status_code == 422
    assert client.post("/admin/calendar/9999-12-31", data={"action": "restday",
                                                           "csrf_token": token}).status_code == 422


def test_calendar_page_is_for_system_administrators_only(client, org, make_user, login):
    login(make_user("plain", role="staff", region=org["city"]))
    assert client.get("/admin/calendar").status_code == 403


def test_today_is_the_deployment_time_zone_not_the_servers(app):
    """At 23:30 UTC it is already tomorrow in Asia/Shanghai (UTC+8), and still today in
    America/Los_Angeles: ``today()`` follows QL_TIMEZONE whatever the server's zone."""
    import datetime as dt
    from dataclasses import replace

    from core.clock import local_day, now, today
    assert now().utcoffset() == dt.timedelta(hours=8)
    assert today() == now().date()
    late = dt.datetime(2026, 12, 1, 23, 30)
    assert local_day(late) == dt.date(2026, 12, 2)
    settings = app.config["QL_SETTINGS"]
    app.config["QL_SETTINGS"] = replace(settings, timezone="America/Los_Angeles")
    try:
        assert local_day(late) == dt.date(2026, 12, 1)
        assert now().utcoffset() in (dt.timedelta(hours=-8), dt.timedelta(hours=-7))
    finally:
        app.config["QL_SETTINGS"] = settings


def test_subtract_workdays_is_the_inverse_of_workdays_between(app):
    # Monday 9 Feb 2026 - 1 = Friday 6 Feb; the Tuesday after the Spring Festival - 1 =
    # Saturday 14 Feb, worked in lieu; from a holiday, counting starts on the working day
    # before it.
    assert calendar.subtract_workdays(D(2026, 2, 9), 1) == D(2026, 2, 6)
    assert calendar.subtract_workdays(D(2026, 2, 24), 1) == D(2026, 2, 14)
    assert calendar.subtract_workdays(D(2026, 2, 18), 1) == D(2026, 2, 13)
    assert calendar.subtract_workdays(D(2026, 2, 24), 0) == D(2026, 2, 24)
    for day in (D(2026, 2, 24), D(2026, 10, 4), D(2026, 3, 16)):
        for n in (0, 1, 3, 20):
            back = calendar.subtract_workdays(day, n)
            assert calendar.is_workday(back)
            assert calendar.workdays_between(back, day) == n
    with pytest.raises(calendar.CalendarError, match="outside the calendar"):
        calendar.subtract_workdays(D(2000, 1, 4), 10)


def test_workdays_left_of_many_clocks_at_once(app):
    clocks = {
        "running": (D(2026, 2, 13), D(2026, 2, 25)),   # Sat 14, Tue 24, Wed 25
        "due_today": (D(2026, 3, 2), D(2026, 3, 2)),
        "late": (D(2026, 10, 9), D(2026, 9, 30)),      # 8 and 9 Oct past 30 Sep
        "stopped": (D(2026, 2, 16), D(2026, 2, 24)),   # stands on a holiday
    }
    left = calendar.workdays_left(clocks)
    assert left == {key: calendar.workdays_between(*pair) for key, pair in clocks.items()}
    assert left == {"running": 3, "due_today": 0, "late": -2, "stopped": 1}
    assert calendar.workdays_left({}) == {}


def test_sql_workdays_between_counts_in_the_statement(app):
    from core.models import CalendarDay
    rows = (CalendarDay.select(CalendarDay.day,
                               calendar.sql_workdays_between(D(2026, 2, 10), CalendarDay.day))
            .where(CalendarDay.day.in_([D(2026, 2, 14), D(2026, 3, 16)])).order_by(CalendarDay.day)
            .tuples())
    assert [n for _d, n in rows] == [4, 20]


def test_month_bounds():
    assert calendar.month_bounds(2026, 2) == (D(2026, 2, 1), D(2026, 2, 28))
    assert calendar.month_bounds(2028, 2) == (D(2028, 2, 1), D(2028, 2, 29))
    assert calendar.month_bounds(2026, 12) == (D(2026, 12, 1), D(2026, 12, 31))


def test_utc_midnight_is_local_midnight_as_stored_utc(app):
    from core.clock import local_day, utc_midnight
    start = utc_midnight(D(2026, 12, 2))
    assert start == dt.datetime(2026, 12, 1, 16, 0)
    assert local_day(start) == D(2026, 12, 2)
    assert local_day(start - dt.timedelta(microseconds=1)) == D(2026, 12, 1)


def test_no_bare_today_or_now_outside_the_clock():
    """'Today' is core.clock.today() in QL_TIMEZONE: date.today(), datetime.now() and
    datetime.today() read the server's time zone, so none may appear in core or plugins."""
    import re

    from core.settings import ROOT
    bare = re.compile(r"\b(date\.today|datetime\.today|datetime\.now)\(\s*\)")
    found = []
    for folder in ("core", "plugins"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path == ROOT / "core" / "clock.py":
                continue
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if bare.search(line):
                    found.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert found == [], "use core.api.today()/now():\n" + "\n".join(found)
