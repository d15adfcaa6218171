"""The official 2027 schedule replaces the provisional one while a case runs over the
Spring Festival: the service hall keeps the deadline the applicant was told and records
the re-numbered date; e-supervision re-numbers its monitoring clocks."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from core import calendar
from core.audit.models import AuditEvent
from core.org.models import PostHolding
from core.settings import ROOT
from plugins.esupervision.models import Clock, MonitoredCase
from tests.conftest import running_app

D = dt.date


@pytest.fixture
def app(settings):
    """Every installed plugin: eservice files the case, esupervision monitors it."""
    with running_app(settings) as application:
        yield application


def test_a_deadline_over_the_spring_festival_when_the_schedule_arrives(app, org, make_user):
    from plugins.eservice import cases, catalogue
    from plugins.eservice.models import CaseEvent
    from tests.plugins.eservice.conftest import VALID_ID, item_spec
    clerk = make_user("clerk1", "clerk", org["a"])
    PostHolding.create(person=clerk.person_id, post=org["clerk_a"], start=D(2024, 1, 1))
    item = catalogue.create_item(item_spec(org["dept_a"], committed_days=10))
    thu = D(2027, 1, 28)
    case = cases.file_case(item, applicant_name="张三", id_number=VALID_ID,
                           received=[m.id for m in item.materials if m.required], user=clerk,
                           on=thu)
    case = cases.transition(case, "accept", user=clerk, on=thu)
    # provisional 2027: 5–10 Feb off (春节 and its two make-up days)
    assert case.deadline == D(2027, 2, 17)
    monitored = MonitoredCase.get(MonitoredCase.serial == case.serial)
    completion = Clock.get((Clock.case == monitored) & (Clock.kind == "completion"))
    assert completion.due == D(2027, 2, 17)

    schedule = (ROOT / "tests" / "data" / "schedule-2027.csv").read_text(encoding="utf-8")
    year, change = calendar.import_schedule(schedule, "cal_admin")
    assert year == 2027 and change is not None

    # the applicant was told 17 Feb: it stays, and the timeline says why it is not 19 Feb
    kept = type(case).get_by_id(case.id)
    assert kept.deadline == D(2027, 2, 17)
    assert cases.compute_deadline(kept) == D(2027, 2, 19)  # 5–12 Feb off, Sat 20 worked
    note = CaseEvent.get((CaseEvent.case == case.id) & (CaseEvent.event == "deadline_kept"))
    assert json.loads(note.data) == {"deadline": "2027-02-17", "renumbered": "2027-02-19",
                                     "calendar_change": change.id}
    assert note.public is False
    audit = AuditEvent.get(AuditEvent.action == "eservice.case.deadline_kept")
    assert case.serial in audit.summary and "2027-02-19" in audit.summary
    # the remaining working days follow the new calendar at once
    assert cases.remaining_days(kept, D(2027, 2, 4)) == 3  # 15, 16, 17 Feb
    # e-supervision's monitoring clock follows the calendar in force
    completion = Clock.get_by_id(completion.id)
    assert completion.due == D(2027, 2, 19)
    renumbered = AuditEvent.get(AuditEvent.action == "esupervision.clocks.renumber")
    assert "completion#0 2027-02-17→2027-02-19" in renumbered.summary
    # a second import of the same schedule changes nothing and records nothing more
    assert calendar.import_schedule(schedule, "cal_admin")[1] is None
    assert CaseEvent.select().where(CaseEvent.event == "deadline_kept").count() == 1
