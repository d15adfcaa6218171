"""Migration 0002: the red-flag index arrives on a database that already holds bids. The
schema is built through the chain up to 0001, then `db upgrade` runs as on a deployment;
the names it leaves are the ones the models create."""
from __future__ import annotations

import pytest

from core.db import db
from plugins.procurement.models import MODELS
from tests.migrations import app_before, model_names, names

PLUGINS = {"procurement": "plugins.procurement"}
PREVIOUS = "0001_procurement"


@pytest.fixture
def old_app(tmp_path):
    with app_before(tmp_path, PLUGINS, "procurement", PREVIOUS) as app:
        yield app


def test_upgrade_adds_the_rule_index(old_app):
    from core import migrate
    from core.plugins import host
    def bid_indexes():
        return {i[0] for i in names(db.obj, "procurement_")["procurement_bid"]["indexes"]}
    assert "procurement_bid_supplier_id_status" not in bid_indexes()

    assert migrate.upgrade(host())["procurement"] == ["0002_rule_indexes"]

    assert "procurement_bid_supplier_id_status" in bid_indexes()
    result = old_app.test_cli_runner().invoke(args=["db", "status"])
    assert "procurement: 2 applied, 0 pending" in result.output


def test_upgraded_names_are_the_ones_the_models_create(old_app, tmp_path):
    from core import migrate
    from core.plugins import host
    migrate.upgrade(host())
    migrated = names(db.obj, "procurement_")
    assert set(migrated) >= {m._meta.table_name for m in MODELS}
    assert migrated == model_names(old_app, tmp_path, "procurement_")
