"""Fixtures for risk prevention: the app with only the risk plugin (it must work with
every other plugin disabled), its chain migrated, and a unit with posts and people."""
from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import running_app

PLUGINS = {"risk": "plugins.risk"}


@pytest.fixture
def app(settings):
    """The app with only the risk plugin; its migration chain applied."""
    from core import migrate
    from core.auth.roles import sync_builtin_roles
    from core.plugins import host
    with running_app(settings, available_plugins=PLUGINS) as application:
        migrate.upgrade(host())
        sync_builtin_roles(host())
        yield application


@pytest.fixture
def unit(app, org, make_user):
    """County A's service bureau as a unit: its head and clerk posts, a land-consolidation
    post with a holder who has an account and a phone, a unit clerk who drafts the
    register and a county supervisor who reviews it."""
    from core.org.models import Person, Post, PostHolding
    dept = org["dept_a"]
    land = Post.create(department=dept, title="土地整治项目负责人", risk_level=3)
    clerk = make_user("unit_clerk", role="staff", region=org["a"])
    reviewer = make_user("county_sup", role="supervisor", region=org["a"])
    official = make_user("huang", role="staff", region=org["a"], phone="13800000001")
    Person.update(name="黄耘成", phone="13800000001").where(
        Person.id == official.person_id).execute()
    PostHolding.create(person=official.person_id, post=land, start=dt.date(2025, 1, 1))
    return {"dept": dept, "region": org["a"], "land": land, "head": org["head_a"],
            "clerk_post": org["clerk_a"], "clerk": clerk, "reviewer": reviewer,
            "official": official, "official_person": Person.get_by_id(official.person_id)}


def point_data(post, **extra) -> dict:
    data = {"post": post.id, "duty": "项目实施管理", "power_code": "",
            "description": "在土地综合整治建设过程中随意改变规划设计、违规办理相关手续",
            "risk_type": "process", "likelihood": 4, "impact": 4, "criteria": "",
            "reminder_text": "严禁在土地综合整治建设过程中随意改变规划设计和违规办理相关手续"}
    data.update(extra)
    return data


@pytest.fixture
def approved(unit):
    """An approved register of the unit: one point on the land post with two measures."""
    from plugins.risk import register as reg
    copy = reg.open_working_copy(unit["clerk"], unit["dept"])
    point = reg.add_point(unit["clerk"], copy, point_data(unit["land"]))
    reg.add_measure(unit["clerk"], point, {"text": "规划设计变更须集体研究并报批",
                                           "deadline_days": 5})
    reg.add_measure(unit["clerk"], point, {"text": "手续办理全程留痕", "deadline_days": 10})
    reg.submit(unit["clerk"], copy)
    return reg.approve(unit["reviewer"], copy, on=dt.date(2026, 9, 29))
