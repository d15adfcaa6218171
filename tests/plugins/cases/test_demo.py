"""Demo data for every region through the real services: every channel, repeats, items
sent up, the four ways, cases at every stage, a flagged gate; the demo receipt code opens
the city's first web report. A second run adds nothing."""
from __future__ import annotations


def test_demo_covers_every_region_way_and_stage(app):
    from core import demo as core_demo
    from core.api import Alert, Region
    from core.plugins import host
    from plugins.cases import demo, portal
    from plugins.cases.models import Case, Item, Lead
    core_demo.seed(host(), "small")
    regions = Region.select().count()
    assert regions == 21
    assert Item.select(Item.region).distinct().count() == regions
    assert {i.channel for i in Item.select(Item.channel)} == {
        "web", "letter", "visit", "phone", "transferred"}
    assert Item.select().where(Item.repeat_of.is_null(False)).count() >= regions
    assert Item.select().where(Item.status == "sent_up").count() == regions - 1
    assert {lead.way for lead in Lead.select()} == {"talk", "shelve", "close", "verify"}
    assert {c.stage for c in Case.select()} == set(demo.STAGE_ORDER)
    assert Case.select().where(Case.suspended_since.is_null(False)).exists()
    assert Alert.select().where(Alert.kind == "cases.gate.irregular").count() == regions
    with app.test_request_context():
        item = portal.find_by_code(demo.DEMO_CODE, "127.0.0.1")
    assert item is not None and item.region.code == "510100"
    before = Item.select().count()
    demo.seed("small")
    assert Item.select().count() == before
