"""With e-supervision and risk enabled alongside cases: e-supervision's own ingestion and
alerting pass raise a red signal; risk warns the post and cases registers it once, each
through the core event alone (plugins/cases
imports nothing of e-supervision; the test does, to drive the real pass)."""
from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import running_app


@pytest.fixture
def app(settings):
    """The app with cases, e-supervision and risk enabled, their chains applied."""
    from core import migrate
    from core.auth.roles import sync_builtin_roles
    from core.plugins import host
    with running_app(settings, available_plugins={
            "cases": "plugins.cases", "esupervision": "plugins.esupervision",
            "risk": "plugins.risk"}) as application:
        migrate.upgrade(host())
        sync_builtin_roles(host())
        yield application


def test_the_real_esupervision_pass_registers_its_red_signal(app, org, make_user):
    """E-supervision's own ingestion and alerting raise a red ILLEGAL_FEE signal on the
    case county A's clerk handled: risk warns the post; cases registers nothing until a
    supervisor transfers the supervision case."""
    from plugins.esupervision.alerting import alert_pending
    from plugins.esupervision.models import Signal
    from plugins.esupervision.payloads import parse_time
    from plugins.esupervision.services import ingest
    from tests.plugins.esupervision.conftest import Events
    ev = Events(fee_due="0.00", handler_post_id=org["clerk_a"].id)
    for p in (ev.make("submitted", "2026-03-02 09:00"),
              ev.make("fee_charged", "2026-03-02 10:00", fee_charged="20.00")):
        ingest(p, "ext", received_at=parse_time(p["occurred_at"]) + dt.timedelta(minutes=1))
    alert_pending()
    alert_pending()
    signal = Signal.get(Signal.code == "ILLEGAL_FEE")
    from plugins.cases.models import Item
    assert signal.level == "red"
    assert not Item.select().where(Item.channel == "platform").exists()
    # a supervisor verifies it and transfers the supervision case as a problem lead
    from plugins.esupervision import supervision as sv
    sup = make_user("sup_city", role="supervisor", region=org["city"])
    sc = sv.verify(sv.open_case(signal, sup), sup, "confirmed", "属实")
    sv.transfer_as_lead(sc, sup, "受理员违规收费，移送问题线索")
    items = list(Item.select().where(Item.channel == "platform"))
    assert [i.source_ref for i in items] == [f"esupervision.supervision:{sc.id}"]
    assert items[0].subject_name == "受理员a" and "ILLEGAL_FEE" in items[0].text
    assert "违规收费" in items[0].text
    from plugins.risk.models import Signal as RiskSignal
    assert RiskSignal.select().where(RiskSignal.source == "esupervision").count() == 1


def test_a_risk_warning_is_no_lead_by_itself(app, org):
    """Raised at the top level or escalated to it, a risk warning stays risk's own: cases
    registers nothing until a supervisor transfers it."""
    from plugins.cases.models import Item
    from plugins.risk import warnings as warn
    post = org["clerk_a"]
    warn.raise_warning(None, source="manual", target="post", post=post,
                       subject="擅自变更规划设计", level="red")
    yellow = warn.raise_warning(None, source="manual", target="post", post=post,
                                subject="手续办理不规范", level="yellow")
    warn.escalate(None, yellow, "一月内第二次")
    assert not Item.select().where(Item.channel == "platform").exists()
