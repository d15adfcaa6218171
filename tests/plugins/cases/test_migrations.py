"""Migration 0002: the quarterly report-back table and the items' source reference arrive
on a database that already holds items (the demo, pilots). The schema is built through the
chain up to 0001, an item goes in by plain SQL, then `db upgrade` runs as on a
deployment."""
from __future__ import annotations

import pytest

from core.db import db
from plugins.cases.models import MODELS
from tests.migrations import app_before, insert, model_names, names

PLUGINS = {"cases": "plugins.cases"}
PREVIOUS = "0001_cases"
NOW = "2026-09-21 09:00:00"


@pytest.fixture
def old_app(tmp_path):
    with app_before(tmp_path, PLUGINS, "cases", PREVIOUS) as app:
        yield app


def test_upgrade_keeps_items_and_adds_the_report_back(old_app):
    from core import migrate
    from core.org.models import Region
    from core.plugins import host
    from plugins.cases.models import Item, ReportBack
    region = Region.create(code="510104", name="锦江区", level="district")
    item_id = insert("cases_item", region_id=region.id, year=2026, number="锦江纪信〔2026〕1号",
                     channel="letter", transferred_from="", anonymous=True,
                     subject_name="x", subject_hash="0" * 64, subject_region_id=region.id,
                     subject_rank="general", category="integrity", text="x",
                     received_on="2026-09-21", status="registered", office="petition",
                     copied_to_management=False, route_note="", registered_by="",
                     registered_at=NOW)
    assert "cases_report_back" not in db.get_tables()

    assert migrate.upgrade(host())["cases"] == ["0002_report_back", "0003_stage_settings"]

    item = Item.select(Item.number, Item.source_ref).where(Item.id == item_id).get()
    assert item.number == "锦江纪信〔2026〕1号" and item.source_ref is None
    assert ReportBack.select().count() == 0
    result = old_app.test_cli_runner().invoke(args=["db", "status"])
    assert "cases: 3 applied, 0 pending" in result.output


def test_upgraded_names_are_the_ones_the_models_create(old_app, tmp_path):
    from core import migrate
    from core.plugins import host
    migrate.upgrade(host())
    migrated = names(db.obj, "cases_")
    assert set(migrated) == {m._meta.table_name for m in MODELS}
    assert migrated == model_names(old_app, tmp_path, "cases_")


def test_0003_adds_the_stage_settings(tmp_path):
    """Migration 0003 on a database at 0002: the stage settings table, empty (every stage
    keeps its defaults)."""
    from core import migrate
    from core.plugins import host
    from plugins.cases.stage_settings import all_effective
    from plugins.cases.vocab import STAGES
    with app_before(tmp_path, PLUGINS, "cases", "0002_report_back"):
        assert "cases_stage_setting" not in db.get_tables()
        assert migrate.upgrade(host())["cases"] == ["0003_stage_settings"]
        assert all_effective() == STAGES
