"""The demo data of risk prevention through the real services, for every region:
registers approved, submitted and returned; warnings of every source and state; site
and holiday reminders; talks (one overdue), notices, accountability; a repealed rule.
A second run adds nothing; the public page shows the demo without personal data."""
from __future__ import annotations

import time


def test_demo_covers_every_region_and_is_idempotent(app):
    from core import demo as core_demo
    from core.api import Person, Region
    from core.plugins import host
    from plugins.risk import demo
    from plugins.risk.models import (
        Accountability,
        Notice,
        Point,
        Register,
        Reminder,
        RiskWarning,
        Rule,
        Site,
        Talk,
    )
    started = time.perf_counter()
    core_demo.seed(host(), "small")
    seconds = time.perf_counter() - started
    regions = Region.select().count()
    assert regions == 21
    for state in ("approved", "submitted", "returned"):
        assert Register.select(Register.region).where(Register.state == state) \
            .distinct().count() == regions, state
    assert Point.select(Point.region).distinct().count() == regions
    assert {w.source for w in RiskWarning.select(RiskWarning.source)} >= {
        "measure_overdue", "review_overdue", "rectification_overdue", "manual", "signal"}
    assert {w.state for w in RiskWarning.select(RiskWarning.state)} == {
        "open", "acknowledged", "handled"}
    assert RiskWarning.select(RiskWarning.region).distinct().count() == regions
    assert {r.kind for r in Reminder.select(Reminder.kind)} >= {"site_arrival", "holiday"}
    assert Site.select().count() == regions
    assert Talk.select().where(Talk.overdue_at.is_null(False)).count() == regions
    assert Talk.select().where(Talk.submitted_at.is_null(False)).count() == regions
    assert {n.state for n in Notice.select(Notice.state)} == {"issued", "accepted"}
    assert Accountability.select().count() == regions
    assert Rule.select().where(Rule.status == "repealed").count() == 1
    counts = [Register.select().count(), Point.select().count(),
              RiskWarning.select().count(), Reminder.select().count(), Talk.select().count()]
    demo.seed("small")
    assert counts == [Register.select().count(), Point.select().count(),
                      RiskWarning.select().count(), Reminder.select().count(),
                      Talk.select().count()]
    # the public page of a demo unit: no names of the people on its posts
    register = Register.get(Register.state == "approved")
    client = app.test_client()
    html = client.get(f"/public/risk/departments/{register.department_id}").get_data(
        as_text=True)
    names = {p.name for p in Person.select().join(Point, on=(Point.owner == Person.id))
             .where(Point.register == register.id)}
    assert names and not any(n in html for n in names)
    assert seconds < 60
