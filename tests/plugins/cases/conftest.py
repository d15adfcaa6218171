"""Fixtures for case supervision: the app with only this plugin and a small world — the
petitions, supervision and case-management offices of county A and the city, a
supervisor of county B, investigators, a reviewer and the commission's leaders."""
from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import running_app

PLUGINS = {"cases": "plugins.cases"}


@pytest.fixture
def app(settings):
    """The app with only the cases plugin; its migration chain applied."""
    from core import migrate
    from core.auth.roles import sync_builtin_roles
    from core.plugins import host
    with running_app(settings, available_plugins=PLUGINS) as application:
        migrate.upgrade(host())
        sync_builtin_roles(host())
        yield application


class World:
    def __init__(self, org, make_user):
        self.org = org
        self.city, self.a, self.b = org["city"], org["a"], org["b"]
        self.petition = make_user("xf_a", role="cases_petition", region=self.a)
        self.petition_city = make_user("xf_city", role="cases_petition", region=self.city)
        self.supervision = make_user("jc_a", role="cases_supervision", region=self.a)
        self.management = make_user("ag_a", role="cases_management", region=self.a)
        self.investigator = make_user("sc_a", role="cases_investigator", region=self.a)
        self.investigator2 = make_user("sc_a2", role="cases_investigator", region=self.a)
        self.reviewer = make_user("sl_a", role="cases_reviewer", region=self.a)
        self.leader = make_user("ld_a", role="cases_leader", region=self.a)
        self.head = make_user("zr_a", role="cases_head", region=self.a)
        self.petition_b = make_user("xf_b", role="cases_petition", region=self.b)

    def report(self, region=None, subject_region=None, **kw):
        """A letter registered by the petitions office of ``region`` (county A)."""
        from plugins.cases import intake
        region = region or self.a
        user = self.petition if region.id == self.a.id else self.petition_city
        data = {"channel": "letter", "category": "integrity", "subject_rank": "general",
                "anonymous": False, "reporter_name": "王五", "reporter_contact": "13800138000",
                "subject_name": "李四", "subject_post": "锦江区某局 科长",
                "subject_region": (subject_region or region).id,
                "text": "收受管理服务对象礼金两万元。", "received_on": kw.pop("received_on",
                                                                    dt.date(2026, 9, 21))}
        data.update(kw)
        return intake.register_by_staff(user, region, data)


    def lead(self, rank="general", **kw):
        """An accepted item taken up as a lead by the supervision office."""
        from plugins.cases import intake, leads
        item = self.report(subject_rank=rank, **kw)
        intake.route(self.petition, item, "accept")
        return leads.take_up(self.supervision, item)

    def case(self, rank="general", **kw):
        """A lead approved for 初步核实: its case at the first stage."""
        from plugins.cases import leads
        lead = self.lead(rank, **kw)
        leads.propose(self.supervision, lead, "verify", "问题具体，可查性强", "第3次专题会")
        approver = self.head if rank == "head" else self.leader
        return leads.decide(approver, lead, True)


@pytest.fixture
def world(app, org, make_user):
    return World(org, make_user)


@pytest.fixture
def on_day(monkeypatch):
    """Fix "today" of the plugin's services."""
    def fix(day):
        import plugins.cases.casework
        import plugins.cases.clocks
        import plugins.cases.intake
        import plugins.cases.leads
        import plugins.cases.portal
        for mod in (plugins.cases.intake, plugins.cases.clocks, plugins.cases.portal,
                    plugins.cases.leads, plugins.cases.casework):
            monkeypatch.setattr(mod, "today", lambda: day)
    return fix
