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
    assert demo.seed_catalogue("small", rng) == 0  # idempotent
    assert demo.seed_cases("small", rng) == 0
