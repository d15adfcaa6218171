"""With the cases plugin enabled alongside risk: a supervisor's transfer of a post warning
reaches the real subscriber through the core event alone and becomes one item of the
channel ``platform`` (plugins/risk imports nothing of cases; the test reads its item)."""
from __future__ import annotations

import datetime as dt

import pytest

from plugins.risk import warnings as warn
from plugins.risk.errors import RiskError
from tests.conftest import running_app

REASON = "经初步了解，该岗位负责人涉嫌违规变更设计，需进一步核实"


@pytest.fixture
def app(settings):
    """The app with cases and risk enabled, their chains applied (the real subscriber)."""
    from core import migrate
    from core.auth.roles import sync_builtin_roles
    from core.plugins import host
    with running_app(settings, available_plugins={"cases": "plugins.cases",
                                                  "risk": "plugins.risk"}) as application:
        migrate.upgrade(host())
        sync_builtin_roles(host())
        yield application


def test_with_the_cases_plugin_the_transfer_becomes_one_item(app, org, make_user):
    """End to end through the core event only: the transferred warning on a post a person
    holds is one item of the channel ``platform`` in the warning's region."""
    from core.org.models import PostHolding
    from plugins.cases.models import Item
    sup = make_user("county_sup", role="supervisor", region=org["a"])
    official = make_user("huang", role="staff", region=org["a"])
    post = org["clerk_a"]
    if not PostHolding.select().where(PostHolding.post == post.id).exists():
        PostHolding.create(person=official.person_id, post=post, start=dt.date(2025, 1, 1))
    w = warn.raise_warning(sup, source="manual", target="post", post=post,
                           subject="擅自变更规划设计", level="red")
    assert not Item.select().where(Item.channel == "platform").exists()  # not by itself
    assert warn.may_transfer(w)
    warn.transfer_as_lead(sup, w, REASON)
    (item,) = Item.select().where(Item.channel == "platform")
    assert (item.source_ref, item.region_id) == (f"risk.warning:{w.id}", org["a"].id)
    with pytest.raises(RiskError):
        warn.transfer_as_lead(sup, w, REASON)
    assert Item.select().where(Item.channel == "platform").count() == 1
