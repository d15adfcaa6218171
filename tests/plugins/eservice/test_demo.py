"""Demo data: catalogues for every department and cases in many states."""
from __future__ import annotations

import random
import re

from core import demo as core_demo
from core.plugins import host
from plugins.eservice import demo
from plugins.eservice.models import Case, Item


def test_demo_catalogue_and_cases(app):
    # the core's organisation without the plugins' demo hooks, then ours, smaller
    from core.auth.roles import sync_builtin_roles
    sync_builtin_roles(host())
    core_demo.seed(host(), "small", plugins=False)
    rng = random.Random(7)
    made = demo.seed_catalogue("small", rng)
    assert made == Item.select().count() > 300
    codes = [c for (c,) in Item.select(Item.code).tuples()]
    assert len(set(codes)) == len(codes)
    assert all(re.fullmatch(r"\d{8}[A-Z]{2}-[A-Z]{2}-\d{4}", c) for c in codes)
    assert demo.seed_cases("small", rng, count=60) > 40
    states = {c.state for c in Case.select()}
    assert {"closed", "in_review", "submitted"} <= states
    # every step was completed by a holder of its post in the case's department
    from core.auth.models import User
    from plugins.eservice.delegation import held_post
    from plugins.eservice.models import CaseEvent, ItemStep
    done = list(CaseEvent.select(CaseEvent, Case).join(Case)
                .where(CaseEvent.event == "step_completed"))
    assert done
    for event in done:
        step = ItemStep.get((ItemStep.item == event.case.item_id)
                            & (ItemStep.seq == event.step_seq))
        actor = User.get_by_id(event.actor_id)
        assert held_post(actor, event.case.department_id, step.post_title, event.at.date()), \
            (event.case.serial, step.post_title, actor.username)
        assert event.post_title == step.post_title
    demo.seed_contacts()
    demo.seed_contacts()
    from plugins.eservice.contact import contact_for
    from plugins.eservice.models import HallContact
    assert HallContact.select().count() == 2
    from core.api import Region
    county = Region.get(Region.code == "510105")
    assert contact_for(county.id).phone == "028-61881234"  # the city's
    assert demo.seed_catalogue("small", rng) == 0  # idempotent
    assert demo.seed_cases("small", rng) == 0
