"""Signals of other platforms through core events: an e-supervision red signal on a case
a post handled warns that post (both plugins enabled, the real sweep publishing
``esupervision.signal.raised``); repeated signals within the window raise the level; a
dismissed signal (``.closed``) stops counting; a procurement red flag warns the post of
the officer who runs the project. The risk plugin imports neither plugin."""
from __future__ import annotations

import datetime as dt

import pytest

from core.alerts.models import Alert
from core.api import publish
from plugins.risk import config
from plugins.risk.models import RiskWarning, Signal
from tests.conftest import running_app
from tests.plugins.esupervision.conftest import Events


@pytest.fixture
def both(settings):
    """The app with risk and e-supervision enabled, both chains applied."""
    from core import migrate
    from core.auth.roles import sync_builtin_roles
    from core.plugins import host
    with running_app(settings, available_plugins={
            "risk": "plugins.risk", "esupervision": "plugins.esupervision"}) as application:
        migrate.upgrade(host())
        sync_builtin_roles(host())
        yield application


@pytest.fixture
def app(both):
    return both


def _red_fee_signal(post_id: int):
    """A case of county A charging a fee on a free item: a red ILLEGAL_FEE signal, alerted
    (and published) by the real e-supervision alerting pass."""
    from plugins.esupervision.alerting import alert_pending
    from plugins.esupervision.payloads import parse_time
    from plugins.esupervision.services import ingest
    ev = Events(fee_due="0.00", handler_post_id=post_id)
    for p in (ev.make("submitted", "2026-03-02 09:00"),
              ev.make("fee_charged", "2026-03-02 10:00", fee_charged="20.00")):
        ingest(p, "ext", received_at=parse_time(p["occurred_at"]) + dt.timedelta(minutes=1))
    alert_pending()
    return ev


def test_a_red_signal_warns_the_post_and_repeats_raise_the_level(unit):
    post = unit["land"]
    _red_fee_signal(post.id)
    w = RiskWarning.get(RiskWarning.post == post.id)
    assert (w.source, w.target, w.level, w.signals, w.state) == ("signal", "post", "yellow",
                                                                 1, "open")
    assert Alert.get_by_id(w.alert_id).target_post_id == post.id
    assert Signal.select().where(Signal.source == "esupervision").count() == 1
    _red_fee_signal(post.id)
    w = RiskWarning.get_by_id(w.id)
    assert (w.signals, w.level) == (2, "yellow")
    _red_fee_signal(post.id)  # the third within 90 days: one level up
    w = RiskWarning.get_by_id(w.id)
    assert (w.signals, w.level, w.escalations) == (3, "red", 1)
    assert RiskWarning.select().count() == 1
    assert Alert.get_by_id(w.alert_id).level == "red"


def test_a_dismissed_signal_stops_counting(unit, make_user, org):
    from plugins.esupervision import supervision as sv
    from plugins.esupervision.models import Signal as EsSignal
    post = unit["land"]
    _red_fee_signal(post.id)
    sup = make_user("es_sup", role="supervisor", region=org["a"])
    sc = sv.open_case(EsSignal.get(EsSignal.code == "ILLEGAL_FEE"), sup)
    sv.verify(sc, sup, "dismissed", "系统录入错误")
    kept = Signal.get(Signal.source == "esupervision")
    assert (kept.outcome, kept.closed_at is not None) == ("dismissed", True)
    _red_fee_signal(post.id)
    _red_fee_signal(post.id)  # three raised, one dismissed: two count
    assert RiskWarning.get(RiskWarning.post == post.id).level == "yellow"


def test_the_window_and_threshold_are_configurable(unit, org, make_user):
    city = make_user("city_admin", role="supervisor", region=org["city"])
    config.save(city, "repeat", {"window_days": 30, "threshold": 2})
    _red_fee_signal(unit["land"].id)
    _red_fee_signal(unit["land"].id)
    assert RiskWarning.get(RiskWarning.post == unit["land"].id).level == "red"


def test_a_signal_on_a_post_of_nobody_known_is_ignored(unit):
    _red_fee_signal(None)  # no handler post and an unknown handler account
    assert RiskWarning.select().count() == 0


def test_a_procurement_red_flag_warns_the_officers_post(unit):
    from core.org.models import Post, PostHolding
    buyer = Post.create(department=unit["dept"], title="采购经办人")
    PostHolding.create(person=unit["clerk"].person_id, post=buyer, start=dt.date(2025, 1, 1))
    payload = {"flag_id": 12, "code": "R018", "level": "red", "region_code": "510104",
               "subject": "process", "subject_id": 345,
               "project_number": "CG-510104-2026-0012", "department_id": unit["dept"].id,
               "officer": "unit_clerk", "detail": {"tenderers": 1},
               "raised_at": "2026-03-02T01:02:03"}
    publish("procurement.flag.raised", payload)
    publish("procurement.flag.raised", payload)  # the same flag twice: one signal
    w = RiskWarning.get(RiskWarning.source == "signal")
    assert (w.target, w.post_id, w.signals) == ("post", buyer.id, 1)
    assert "CG-510104-2026-0012" in w.subject
    publish("procurement.flag.raised", dict(payload, flag_id=13, officer=None))
    dept_w = RiskWarning.get(RiskWarning.target == "department")
    assert dept_w.department_id == unit["dept"].id
    publish("procurement.flag.raised", dict(payload, flag_id=14, level="yellow"))
    assert Signal.select().count() == 2
