"""Every statutory period, each across a holiday (2025 National Day: 1–8 October off,
Sunday 28 September and Saturday 11 October worked), refused with its article named."""
from __future__ import annotations

import datetime as dt

import pytest

from core.api import FieldError

BEIJING = dt.timezone(dt.timedelta(hours=8))


def utc(local: str) -> dt.datetime:
    """'2025-09-30 09:00' Beijing time -> naive UTC."""
    return dt.datetime.fromisoformat(local).replace(tzinfo=BEIJING).astimezone(
        dt.UTC).replace(tzinfo=None)


@pytest.mark.parametrize("method,ok,short,basis", [
    ("open_tender", "2025-10-20 09:00", "2025-10-19 09:00", "政府采购法第三十五条"),
    ("invited_tender", "2025-10-20 09:00", "2025-10-19 09:00", "政府采购法第三十五条"),
    ("consultation", "2025-10-10 09:00", "2025-10-09 09:00", "214号第十条"),
    # 3 working days after 30 September: 9, 10 and 11 October (a make-up Saturday)
    ("negotiation", "2025-10-11 09:00", "2025-10-10 17:00", "第74号第二十九条"),
    ("inquiry", "2025-10-11 09:00", "2025-10-10 17:00", "第74号第四十五条"),
])
def test_bid_periods(app, method, ok, short, basis):
    from plugins.procurement.periods import check_bid_period
    issued = utc("2025-09-30 09:00")
    check_bid_period(method, issued, utc(ok))
    with pytest.raises(FieldError) as exc:
        check_bid_period(method, issued, utc(short))
    assert exc.value.field == "deadline" and basis in exc.value.message


def test_negotiation_over_the_holiday_counts_working_days_not_days(app):
    from plugins.procurement.periods import BID_PERIODS
    period = BID_PERIODS["negotiation"]
    assert period.length(dt.date(2025, 9, 30), dt.date(2025, 10, 8)) == 0
    assert period.earliest_end(dt.date(2025, 9, 30)) == dt.date(2025, 10, 11)


@pytest.mark.parametrize("method,early_enough,too_late,basis", [
    ("open_tender", "2025-09-15 09:00", "2025-09-16 09:00", "第87号第二十七条"),
    ("consultation", "2025-09-25 09:00", "2025-09-26 09:00", "214号第十条"),
    # deadline 13 October: from 10 October only 11 and 13 are left, from 9 October three
    ("negotiation", "2025-09-30 09:00", "2025-10-10 09:00", "第74号第十条"),
])
def test_corrections_that_affect_bids(app, method, early_enough, too_late, basis):
    from plugins.procurement.periods import check_amendment
    deadline = utc("2025-09-30 09:00") if method != "negotiation" else utc("2025-10-13 09:00")
    if method == "negotiation":
        assert check_amendment(method, utc("2025-10-08 09:00"), deadline, None) == deadline
    assert check_amendment(method, utc(early_enough), deadline, None) == deadline
    with pytest.raises(FieldError) as exc:
        check_amendment(method, utc(too_late), deadline, None)
    assert exc.value.field == "new_deadline" and basis in exc.value.message
    later = deadline + dt.timedelta(days=30)
    assert check_amendment(method, utc(too_late), deadline, later) == later
    with pytest.raises(FieldError):
        check_amendment(method, utc(too_late), deadline, deadline + dt.timedelta(hours=1))


def test_single_source_publicity_of_five_working_days(app):
    from plugins.procurement.periods import check_single_source_publicity
    published = utc("2025-09-29 09:00")  # Mon; then 30 Sep, 9, 10, 11 (Sat, worked), 13 Oct
    check_single_source_publicity(published, utc("2025-10-13 09:00"))
    with pytest.raises(FieldError) as exc:
        check_single_source_publicity(published, utc("2025-10-11 09:00"))
    assert "实施条例第三十八条" in exc.value.message


@pytest.mark.parametrize("kind,start,due", [
    ("winner", "2025-09-29", "2025-10-13"),  # 5 working days: 30 Sep, 9, 10, 11, 13 Oct
    ("result", "2025-09-30", "2025-10-10"),  # 2 working days: 9, 10 Oct
    ("contract_sign", "2025-09-30", "2025-10-30"),  # 30 days, holidays included
    ("contract_publish", "2025-09-30", "2025-10-10"),
    ("contract_file", "2025-09-30", "2025-10-16"),  # 7 working days: 9, 10, 11, 13–16
    ("challenge_reply", "2025-09-30", "2025-10-16"),
    ("complaint_decision", "2025-09-30", "2025-11-18"),
])
def test_clock_due_days(app, kind, start, due):
    from core.api import add_workdays
    from plugins.procurement.periods import CLOCKS
    from plugins.procurement.periods import due as due_of
    days, working, _basis = CLOCKS[kind]
    expected = add_workdays(dt.date.fromisoformat(start), days) if working else \
        dt.date.fromisoformat(start) + dt.timedelta(days=days)
    assert due_of(kind, dt.date.fromisoformat(start)) == expected
    assert expected == dt.date.fromisoformat(due)


def test_publishing_a_tender_too_short_is_refused_and_changes_nothing(app, world):
    from core.api import utcnow
    from core.audit.models import AuditEvent
    from plugins.procurement import projects
    from plugins.procurement.models import Announcement, Project
    project = world.project("open_tender")
    before = AuditEvent.select().count()
    with pytest.raises(FieldError) as exc:
        projects.publish(world.purchaser, project, "tender",
                         deadline=utcnow() + dt.timedelta(days=19),
                         custodians=world.custodians)
    assert "政府采购法第三十五条" in exc.value.message
    assert Project.get_by_id(project.id).status == "planning"
    assert not Announcement.select().where(Announcement.project == project.id).exists()
    assert AuditEvent.select().count() == before


def test_challenge_window(app, world):
    from core.api import utcnow
    from plugins.procurement import complaints
    from plugins.procurement.models import Project
    project = world.project("open_tender")
    Project.update(result_announced_at=utcnow()).where(Project.id == project.id).execute()
    row = complaints.challenge(world.suppliers[0], Project.get_by_id(project.id), "评审不公")
    from core.api import add_workdays, today
    assert row.reply_due == add_workdays(today(), 7)
    Project.update(result_announced_at=utcnow() - dt.timedelta(days=40)).where(
        Project.id == project.id).execute()
    with pytest.raises(FieldError) as exc:
        complaints.challenge(world.suppliers[1], Project.get_by_id(project.id), "太晚了")
    assert "第五十二条" in exc.value.message
