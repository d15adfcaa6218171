"""Fixtures for procurement: the app with only this plugin, a small world (buying units,
purchaser, agency and supervisor custodians, suppliers) and helpers to build projects."""
from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest

from tests.conftest import STRONG, running_app

PLUGINS = {"procurement": "plugins.procurement"}
PASS = "custody phrase for tests"
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_serial = itertools.count(1)


def uscc(n: int) -> str:
    """A valid unified social credit code (GB 32100) for test supplier ``n``."""
    body = f"91510100MA{n:07d}"[:17]
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(body, USCC_WEIGHTS, strict=True))
    return body + USCC_CHARS[(31 - total % 31) % 31]


@pytest.fixture
def app(settings):
    """The app with only the procurement plugin; its migration chain applied."""
    from core import migrate
    from core.auth.roles import sync_builtin_roles
    from core.plugins import host
    with running_app(settings, available_plugins=PLUGINS) as application:
        migrate.upgrade(host())
        sync_builtin_roles(host())
        yield application


class World:
    """Users, custodians and suppliers of county A (and a county-B purchaser)."""

    def __init__(self, org, make_user):
        from core.api import sealing
        from plugins.procurement import suppliers
        self.org = org
        a = org["a"]
        self.region = a
        self.dept = org["dept_a"]
        self.purchaser = make_user("buyer_a", role="procurement_purchaser", region=a)
        self.agency = make_user("agency_a", role="procurement_agency", region=a)
        self.supervisor = make_user("jw_a", role="supervisor", region=a)
        self.finance = make_user("cz_a", role="procurement_finance", region=a)
        self.purchaser_b = make_user("buyer_b", role="procurement_purchaser", region=org["b"])
        for user in (self.purchaser, self.agency, self.supervisor):
            sealing.enroll_custodian(user, PASS)
        self.custodians = [self.purchaser, self.agency, self.supervisor]
        self.suppliers = [suppliers.register(
            name=f"供应商{n}有限公司", uscc=uscc(n), contact=f"联系人{n}",
            phone="13800138000", email=f"s{n}@example.org", address="成都市",
            password=STRONG) for n in range(1, 5)]

    def plan(self, method="open_tender", budget="1000000.00", category="goods",
             user=None, **kw):
        from plugins.procurement import projects
        return projects.create_plan(
            user or self.purchaser, self.dept, year=2026, title=kw.pop("title", "办公家具采购"),
            category=category, budget=Decimal(budget), method=method,
            method_reason=kw.pop("method_reason", "" if method in ("open_tender", "auction")
                                 else "符合法定情形"),
            approval_ref=kw.pop("approval_ref", "成财采〔2026〕1号"),
            items=[{"description": "办公桌椅", "classification": kw.pop("code", "A06010101"),
                    "quantity": Decimal(10), "unit": "套"}], **kw)

    def project(self, method="open_tender", budget="1000000.00", ceiling=None, **kw):
        from plugins.procurement import projects
        plan = self.plan(method, budget, **{k: kw.pop(k) for k in list(kw)
                                             if k in ("category", "code", "title")})
        return projects.create_project(self.purchaser, plan,
                                       ceiling=Decimal(ceiling or budget), **kw)

    def open_tender(self, method="open_tender", days=21, budget="1000000.00", **kw):
        """A project taking sealed bids, its deadline ``days`` after now."""
        from core.api import utcnow
        from plugins.procurement import projects
        from plugins.procurement.methods import OPENING_NOTICE
        project = self.project(method, budget, **kw)
        projects.publish(self.purchaser, project, OPENING_NOTICE[method],
                         deadline=utcnow() + dt.timedelta(days=days),
                         custodians=self.custodians)
        return project.__class__.get_by_id(project.id)


@pytest.fixture
def world(app, org, make_user):
    return World(org, make_user)


def reach_deadline(project):
    """Let a project's deadline come, as if the clock had reached it (its seal too)."""
    from core.api import utcnow
    from core.sealing.models import Seal
    from plugins.procurement.models import Project
    past = utcnow() - dt.timedelta(seconds=1)
    Project.update(deadline=past).where(Project.id == project.id).execute()
    Seal.update(opens_at=past).where(Seal.ref == project.number).execute()
    return Project.get_by_id(project.id)
