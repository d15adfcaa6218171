"""Fixtures for e-supervision: the app with the plugin enabled and its schema migrated,
and helpers that build case events by hand."""
from __future__ import annotations

import datetime as dt
import itertools
import uuid

import pytest

from tests.conftest import running_app

PLUGINS = {"esupervision": "plugins.esupervision"}


@pytest.fixture
def app(settings):
    """The app with only the esupervision plugin; its migration chain applied."""
    from core import migrate
    from core.auth.roles import sync_builtin_roles
    from core.plugins import host
    with running_app(settings, available_plugins=PLUGINS) as application:
        migrate.upgrade(host())
        sync_builtin_roles(host())
        yield application


def utc(local: str) -> str:
    """'2026-03-02 09:00' Beijing time -> ISO UTC string."""
    moment = dt.datetime.fromisoformat(local) - dt.timedelta(hours=8)
    return moment.isoformat() + "Z"


class Events:
    """Builds payloads in the docs/events.md shape for one case."""

    counter = itertools.count(1)

    def __init__(self, serial=None, region_code="510104", department_code="ZF",
                 committed=10, statutory=20, fee_due="0.00", submitted="2026-03-02 09:00",
                 handler_post_id=None, item_type="XK", item_code="51010400ZF-XK-0001",
                 source=None):
        self.case = {
            "serial": serial or f"510104-{next(self.counter):05d}",
            "region_code": region_code, "department_code": department_code,
            "department_name": "锦江区政务服务局", "item_code": item_code,
            "item_name": "食品经营许可", "item_type": item_type, "item_version": 1,
            "statutory_limit_days": statutory, "committed_limit_days": committed,
            "fee_due": fee_due, "submitted_at": utc(submitted), "channel": "window",
            "handler": {"username": "clerk1", "post_id": handler_post_id,
                        "post_title": "窗口受理员"},
        }
        self.source = source

    def make(self, name: str, when: str, **extra) -> dict:
        payload = {"event_id": uuid.uuid4().hex, "event": f"eservice.case.{name}",
                   "occurred_at": utc(when), "case": dict(self.case), "step": None,
                   "deadline": None, "reason": None, "legal_basis": None,
                   "rights_notice": None, "procedure": None, "decision": None,
                   "fee_charged": None, "rating": None, "missing_materials": None}
        if self.source:
            payload["source"] = self.source
        payload.update(extra)
        return payload

    def step(self, name: str, when: str, seq: int, limit: int = 3, post_id=None) -> dict:
        return self.make(name, when, step={"seq": seq, "code": f"s{seq}", "name": f"审查{seq}",
                                           "limit_days": limit, "post_id": post_id})


@pytest.fixture
def events():
    return Events


@pytest.fixture
def feed(app, org):
    """feed(payload, ...) ingests payloads as source 'ext' at their own time + 1 minute."""
    from plugins.esupervision.payloads import parse_time
    from plugins.esupervision.services import ingest

    def do(*payloads, source="ext"):
        rows = []
        for p in payloads:
            received = parse_time(p["occurred_at"]) + dt.timedelta(minutes=1)
            rows.append(ingest(p, source, received_at=received))
        return rows
    return do


@pytest.fixture
def red_signal(feed, events):
    """An ILLEGAL_FEE red signal on a case of county A (a fee charged where none is due)."""
    from plugins.esupervision.models import Signal
    ev = events(fee_due="0.00")
    feed(ev.make("submitted", "2026-03-02 09:00"),
         ev.make("fee_charged", "2026-03-02 10:00", fee_charged="20.00"))
    return Signal.get(Signal.code == "ILLEGAL_FEE")
