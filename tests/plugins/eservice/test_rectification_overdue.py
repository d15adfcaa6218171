"""Follow-up of bad ratings: a rectification (差评整改) still open after its 15 working
days raises one red alert to the department head — once, whatever the number of runs."""
from __future__ import annotations

import datetime as dt

import pytest

from core import calendar
from core.alerts.models import Alert
from core.api import today
from core.audit.models import AuditEvent
from plugins.eservice import rating, rectification
from plugins.eservice.models import Rectification
from tests.plugins.eservice.test_cases import MON, case_in

KIND = "eservice.rectification.overdue"


@pytest.fixture
def rect(app, org, item, clerk, make_user):
    from core.org.models import PostHolding
    head = make_user("head1", "eservice_manager", org["a"])
    PostHolding.create(person=head.person_id, post=org["head_a"], start=MON)
    case = case_in("closed", item, clerk)
    rating.rate_case(case, 1, "没人理")
    return Rectification.get()


def overdue_alerts():
    return list(Alert.select().where(Alert.kind == KIND))


def test_overdue_rectification_raises_one_red_alert(app, org, rect):
    late_day = calendar.add_workdays(rect.due, 1)
    raised = rectification.raise_overdue_rectifications(on=late_day)
    (alert,) = raised
    assert overdue_alerts() == [alert]
    alert = Alert.get_by_id(alert.id)
    assert (alert.level, alert.target_post_id, alert.region_id) == \
        ("red", org["head_a"].id, rect.region_id)
    assert alert.ref == f"eservice_rectification:{rect.id}"
    assert rect.rating.case.serial in alert.subject and alert.notifications.count() >= 1
    assert AuditEvent.select().where(AuditEvent.action == "eservice.rectification.overdue") \
        .count() == 1
    assert rectification.raise_overdue_rectifications(on=late_day) == []
    assert rectification.raise_overdue_rectifications(on=late_day + dt.timedelta(days=7)) == []
    assert len(overdue_alerts()) == 1


def test_resolved_overdue_alert_is_not_raised_again(app, org, rect, clerk):
    late_day = calendar.add_workdays(rect.due, 1)
    (alert,) = rectification.raise_overdue_rectifications(on=late_day)
    from core.alerts import resolve
    resolve(Alert.get_by_id(alert.id), clerk, "已催办")
    assert rectification.raise_overdue_rectifications(on=late_day) == []
    assert len(overdue_alerts()) == 1


def test_not_yet_due_or_closed_rectification_raises_nothing(app, rect, clerk):
    assert rectification.raise_overdue_rectifications(on=rect.due) == []
    assert rectification.raise_overdue_rectifications() == []
    rectification.close_rectification(rect, "已回访并整改", clerk)
    assert rectification.raise_overdue_rectifications(on=rect.due + dt.timedelta(days=60)) == []
    assert overdue_alerts() == []


def test_cli_runs_the_job_once_and_prints_it(app, runner, rect):
    Rectification.update(due=today() - dt.timedelta(days=3)).where(
        Rectification.id == rect.id).execute()
    result = runner.invoke(args=["eservice", "rectifications-overdue"])
    assert result.exit_code == 0, result.output
    assert KIND in result.output and "red" in result.output
    assert "1 overdue rectification alert(s) raised." in result.output
    again = runner.invoke(args=["eservice", "rectifications-overdue"])
    assert again.exit_code == 0 and "0 overdue rectification alert(s) raised." in again.output
    assert len(overdue_alerts()) == 1


def test_periodic_job_is_registered(app):
    from core.queue import huey
    from plugins.eservice import tasks

    def names():
        return {t.__name__ for t in huey._registry._periodic_tasks}
    if "eservice.rectifications_overdue" not in names():  # the worker registers it once
        tasks.register(huey)
    assert "eservice.rectifications_overdue" in names()
