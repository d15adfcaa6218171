"""Fixtures of the service hall tests: a catalogue item and a clerk (the app and its
database come from tests/conftest.py, with every installed plugin)."""
from __future__ import annotations

import datetime as dt

import pytest

VALID_ID = "11010519491231002X"


def item_spec(dept, **over):
    spec = {
        "name": "食品经营许可", "type": "XK", "department": dept, "level": "county",
        "statutory_days": 20, "committed_days": 5, "fee_amount": "0",
        "conditions": "具有与经营的食品品种、数量相适应的经营场所",
        "effective_from": dt.date(2026, 1, 1),
        "bases": [{"title": "《中华人民共和国食品安全法》第三十五条",
                   "article": "国家对食品生产经营实行许可制度。"}],
        "materials": [{"name": "食品经营许可申请书", "original": True, "copies": 1,
                       "required": True},
                      {"name": "营业执照复印件", "original": False, "copies": 1,
                       "required": True},
                      {"name": "委托书", "original": True, "copies": 1, "required": False}],
        "steps": [{"code": "review", "name": "审查", "limit_days": 3, "post_title": "审查员"},
                  {"code": "decide", "name": "决定", "limit_days": 2, "post_title": "局长"}],
        "specials": [{"kind": "inspection", "name": "现场核查", "limit_days": 10}],
    }
    spec.update(over)
    return spec


@pytest.fixture
def item(org):
    from plugins.eservice import catalogue
    return catalogue.create_item(item_spec(org["dept_a"]))


@pytest.fixture
def clerk(org, make_user):
    from core.org.models import PostHolding
    user = make_user("clerk1", "clerk", org["a"])
    PostHolding.create(person=user.person_id, post=org["clerk_a"], start=dt.date(2024, 1, 1))
    return user


@pytest.fixture
def events(app):
    """Every event published during the test: [(name, payload)]."""
    from core.hookspecs import hookimpl
    from core.plugins import host

    seen = []

    class Recorder:
        @hookimpl
        def ql_handle_event(self, name, payload):
            seen.append((name, payload))

    rec = Recorder()
    host().pm.register(rec, name="event-recorder")
    yield seen
    host().pm.unregister(rec)


def step_holder(title: str, dept=None):
    """The account holding the post ``title`` in ``dept`` (county A's department by
    default), made on first use: a step assigned to a post is completed by its holder."""
    from core.auth.models import User
    from core.auth.service import create_user
    from core.org.models import Department, Post, PostHolding
    from tests.conftest import STRONG
    dept = dept or Department.get(Department.code == "ZF", Department.region ==
                                  Department.region.rel_model.get(code="510104"))
    post = Post.get_or_none(Post.department == dept.id, Post.title == title) \
        or Post.create(department=dept, title=title, risk_level=2)
    holding = (PostHolding.select(PostHolding, User).join(User, on=(
        User.person == PostHolding.person)).where(PostHolding.post == post.id).first())
    if holding is not None:
        return User.get(User.person == holding.person_id)
    user = create_user(f"holder{post.id}", STRONG, role="clerk",
                       region_code=dept.region.code, must_change=False)
    PostHolding.create(person=user.person_id, post=post, start=dt.date(2024, 1, 1))
    return user


def by(action: str, clerk, dept=None):
    """Who completes ``action`` on the fixture item: its review step's 审查员, its decide
    step's 局长, the window clerk for the rest."""
    title = {"advance": "审查员", "decide": "局长"}.get(action)
    return step_holder(title, dept) if title else clerk


@pytest.fixture
def reviewer(org, make_user):
    """A holder of the post 审查员 in county A's department (the item's review step)."""
    from core.org.models import Post, PostHolding
    post = Post.create(department=org["dept_a"], title="审查员", risk_level=2)
    user = make_user("reviewer1", "clerk", org["a"])
    PostHolding.create(person=user.person_id, post=post, start=dt.date(2024, 1, 1))
    return user


@pytest.fixture
def director(org, make_user):
    """A holder of the post 局长 (the head) of county A's department (the decide step)."""
    from core.org.models import PostHolding
    user = make_user("director1", "clerk", org["a"])
    PostHolding.create(person=user.person_id, post=org["head_a"], start=dt.date(2024, 1, 1))
    return user
