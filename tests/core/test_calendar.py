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


def test_years_beyond_the_schedule_fall_back_to_weekdays(app):
    assert calendar.is_workday(D(2040, 1, 2))  # Monday
    assert not calendar.is_workday(D(2040, 1, 7))  # Sunday


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
