"""End to end through the event contract (docs/events.md): the REAL eservice plugin files,
accepts and reviews a case; esupervision hears its events on the core bus, keeps the
clocks, and its sweep raises the yellow warning and the STEP_OVERDUE red signal.

Only this test imports eservice: the plugins themselves never import each other."""
from __future__ import annotations

import datetime as dt

import pytest

from core import calendar
from core.alerts.models import Alert
from core.api import today
from plugins.esupervision.models import Clock, MonitoredCase, Signal
from plugins.esupervision.sweep import sweep
from tests.conftest import running_app


@pytest.fixture
def app(settings):
    """The app with every installed plugin (eservice and esupervision), jobs inline —
    the suite's default app, instead of the esupervision folder's plugin-alone one."""
    with running_app(settings) as application:
        yield application


def _case_in_review(org, make_user):
    """A window clerk of county A and a case of theirs, accepted and in review."""
    from core.org.models import PostHolding
    from plugins.eservice import cases, catalogue
    from tests.plugins.eservice.conftest import VALID_ID, item_spec
    clerk = make_user("clerk1", "clerk", org["a"])
    PostHolding.create(person=clerk.person_id, post=org["clerk_a"], start=dt.date(2024, 1, 1))
    item = catalogue.create_item(item_spec(org["dept_a"]))
    case = cases.file_case(item, applicant_name="张三", id_number=VALID_ID,
                           received=[m.id for m in item.materials if m.required], user=clerk)
    cases.transition(case, "accept", user=clerk)
    cases.transition(case, "start_review", user=clerk)
    return clerk, case


def test_eservice_case_past_its_step_limit_is_signalled(app, org, make_user):
    from core.plugins import host
    from plugins.eservice import cases
    assert {"eservice", "esupervision"} <= {n for n, r in host().records.items() if r.enabled}
    _clerk, case = _case_in_review(org, make_user)

    monitored = MonitoredCase.get((MonitoredCase.source == "eservice")
                                  & (MonitoredCase.serial == case.serial))
    assert (monitored.status, monitored.region_id, monitored.department_id) == \
        ("accepted", org["a"].id, org["dept_a"].id)
    assert monitored.events.count() == 3  # submitted, accepted, step_started
    step = Clock.get((Clock.case == monitored) & (Clock.kind == "step"))
    assert (step.limit_days, step.ended_on) == (3, None)
    assert step.start_day == today()
    assert step.due == calendar.add_workdays(step.start_day, 3)

    warned = sweep(step.yellow_on)
    assert warned.yellow >= 1
    yellow = Signal.get((Signal.case == monitored) & (Signal.clock == step))
    assert (yellow.level, yellow.code) == ("yellow", "DEADLINE_YELLOW")
    assert Alert.select().where((Alert.kind == "esupervision.deadline.yellow")
                                & (Alert.ref == f"esupervision.case:{monitored.id}")).exists()

    late = sweep(calendar.add_workdays(step.due, 1))
    assert late.red >= 1
    red = Signal.get((Signal.case == monitored) & (Signal.code == "STEP_OVERDUE"))
    assert (red.level, red.clock_id) == ("red", step.id)
    assert Alert.select().where(Alert.kind == "esupervision.signal.STEP_OVERDUE").exists()
    again = sweep(calendar.add_workdays(step.due, 1))
    assert (again.yellow, again.red) == (0, 0)

    from tests.plugins.eservice.conftest import step_holder
    # the overdue step ends (completed by a holder of its post): one more event
    cases.transition(case, "advance", user=step_holder("审查员", org["dept_a"]))
    ended = Clock.get_by_id(step.id)
    assert ended.ended_on == today()
    assert Signal.select().where((Signal.case == monitored)
                                 & (Signal.code == "STEP_OVERDUE")).count() == 1


def test_backdated_in_process_events_are_not_late_arrivals(app, org, make_user):
    """Events the service hall publishes arrive when they happen: an entry recorded with
    an earlier date is not flagged as arriving late (that check is for external pushes)."""
    import datetime as dt

    from plugins.eservice import cases, catalogue
    from plugins.esupervision.models import MonitoredCase, Signal
    from tests.plugins.eservice.conftest import VALID_ID, item_spec
    clerk = make_user("bd_clerk", role="clerk", region=org["a"])
    item = catalogue.create_item(item_spec(org["dept_a"]))
    case = cases.file_case(item, applicant_name="李四", id_number=VALID_ID, phone="13800000000",
                           received=[m.id for m in item.materials if m.required], user=clerk,
                           on=dt.date(2026, 3, 2))
    cases.transition(case, "accept", user=clerk, on=dt.date(2026, 3, 3))
    mc = MonitoredCase.get(MonitoredCase.serial == case.serial)
    assert not Signal.select().where((Signal.case == mc.id)
                                     & (Signal.code == "OFF_SYSTEM_HANDLING")).exists()


def test_a_suspension_supervision_refuses_is_refused_by_the_hall(app, org, make_user):
    """Issue 11 defect 6: the hall must never accept what supervision refuses. A special
    procedure of 10^6 working days (inside 64 bits, outside the event contract's 1–3650)
    is refused in the clerk's own act, naming the field; the case keeps its state and
    supervision's clocks keep matching it. 10^23 never passes the form."""
    from core.api import FieldError
    from plugins.eservice import cases
    from plugins.eservice.models import Case
    from plugins.esupervision.models import CaseEvent
    clerk, case = _case_in_review(org, make_user)
    events = CaseEvent.select().count()
    with pytest.raises(FieldError) as refused:
        cases.transition(Case.get_by_id(case.id), "suspend", user=clerk, reason="听证",
                         procedure="hearing", expected_days=10 ** 6)
    # the hall checks the contract's range itself (so it holds with supervision off too)
    assert refused.value.field == "expected_days" and "3650" in refused.value.message
    assert Case.get_by_id(case.id).state == "in_review"
    assert CaseEvent.select().count() == events
    cases.transition(Case.get_by_id(case.id), "suspend", user=clerk, reason="听证",
                     procedure="hearing", expected_days=10)
    assert Case.get_by_id(case.id).state == "suspended"
    monitored = MonitoredCase.get(MonitoredCase.serial == case.serial)
    assert monitored.status == "stopped"
    from plugins.eservice.forms import TransitionForm
    with app.test_request_context(method="POST", data={"expected_days": str(10 ** 23)}):
        form = TransitionForm(meta={"csrf": False})
        form.validate()
        assert "expected_days" in form.errors
