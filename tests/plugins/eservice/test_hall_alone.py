"""The service hall on its own (e-supervision off): it still refuses what the case-event
contract refuses (issue 11 defect 6)."""
from __future__ import annotations

from dataclasses import replace

import pytest

from core.api import FieldError
from plugins.eservice import cases
from plugins.eservice.models import Case, CaseEvent
from tests.plugins.eservice.test_cases import MON, case_in


@pytest.fixture
def settings(settings):
    return replace(settings, plugins=("eservice",))


def test_special_procedure_length_outside_the_contract_is_refused(app, item, clerk):
    """A length outside 1–3650 working days is refused naming the field, with nothing
    recorded; full-width digits are folded, superscripts and words are not numbers."""
    from core.plugins import host
    assert host().enabled == ["eservice"]
    case = case_in("in_review", item, clerk)
    events = CaseEvent.select().where(CaseEvent.case == case.id).count()
    for days in (0, -3, 3651, 10 ** 23, str(10 ** 23), "²", "三", "1e3", "1\x00"):
        with pytest.raises(FieldError) as err:
            cases.transition(Case.get_by_id(case.id), "suspend", user=clerk, on=MON,
                             procedure="hearing", reason="听证", expected_days=days)
        assert err.value.field == "expected_days" and "3650" in err.value.message, days
        again = Case.get_by_id(case.id)
        assert (again.state, again.stopped_since) == ("in_review", None)
        assert CaseEvent.select().where(CaseEvent.case == case.id).count() == events
    done = cases.transition(Case.get_by_id(case.id), "suspend", user=clerk, on=MON,
                            procedure="hearing", reason="听证", expected_days="３650")
    assert done.state == "suspended"
