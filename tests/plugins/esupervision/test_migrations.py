"""Migration 0008: the plugin's tables take its name as a prefix on a database that already
holds data (the demo, pilots). The old schema is built through the migration chain up to
0007, rows go in under the old names, then `db upgrade` runs as on a deployment."""
from __future__ import annotations

import datetime as dt
import re

import peewee as pw
import pytest

from core.db import db, is_postgres
from plugins.esupervision.models import (
    MODELS,
    CaseEvent,
    Clock,
    DetectorSetting,
    MonitoredCase,
    Signal,
    SupervisionCase,
)
from tests.conftest import ON_POSTGRES
from tests.migrations import app_before, insert, model_names, names

PLUGINS = {"esupervision": "plugins.esupervision"}
PREVIOUS = "0007_fewer_indexes"
OLD_TABLES = ("source_token", "monitored_case", "case_event", "clock", "signal",
              "detector_setting", "threshold", "supervision_case", "accountability",
              "inspection_finding", "evaluation_config", "evaluation_run", "evaluation_score")
NOW = "2026-03-02 09:00:00"


@pytest.fixture
def old_app(tmp_path):
    """The app on a database whose esupervision chain stops before the prefix (0007);
    the core's chain is complete."""
    with app_before(tmp_path, PLUGINS, "esupervision", PREVIOUS) as app:
        yield app


def _seed_old_schema() -> dict:
    """A monitored case with its event, two clocks (one with its red signal and
    supervision case, one overdue and not yet swept) and a city detector setting."""
    from core.org.models import Department, Region
    region = Region.create(code="510104", name="锦江区", level="district")
    dept = Department.create(region=region, code="ZF", name="锦江区政务服务局")
    case = insert("monitored_case", source="eservice", serial="510104-00001",
                   region_id=region.id, department_id=dept.id, department_code="ZF",
                   department_name=dept.name, item_code="XK-0001", item_name="食品经营许可",
                   item_type="XK", item_version=1, statutory_limit_days=20,
                   committed_limit_days=10, fee_due="0.00", channel="window",
                   handler_username="clerk1", submitted_at=NOW, status="accepted",
                   decision="", created_at=NOW)
    event = insert("case_event", source="eservice", event_id="ev-1",
                    name="eservice.case.accepted", case_id=case, occurred_at=NOW,
                    received_at=NOW, payload="{}")

    def clock(seq: int, **raised) -> int:
        return insert("clock", case_id=case, kind="step", step_seq=seq, label=f"审查{seq}",
                       start_day="2026-03-02", limit_days=3, stopped_days=0,
                       due="2026-03-05", yellow_on="2026-03-04", **raised)
    clocks = [clock(1, red_at=NOW), clock(2)]
    signal = insert("signal", case_id=case, region_id=region.id, level="red",
                     code="STEP_OVERDUE", dedupe_key=f"R:{case}:step:1", detail="overdue",
                     clock_id=clocks[0], raised_at=NOW)
    supervision = insert("supervision_case", signal_id=signal, case_id=case,
                          region_id=region.id, department_id=dept.id, state="opened",
                          opened_by="sup1", opened_at=NOW, finding="", finding_reason="",
                          verified_by="", rectification_demand="", report_text="",
                          closing_note="")
    insert("detector_setting", code="ILLEGAL_FEE", enabled=False, params="{}",
            updated_at=NOW)
    return {"region": region, "case": case, "event": event, "clocks": clocks,
            "signal": signal, "supervision": supervision}


def test_upgrade_renames_tables_and_keeps_rows_ids_and_keys(old_app):
    from core import migrate
    from core.plugins import host
    from plugins.esupervision.sweep import sweep
    old = _seed_old_schema()

    assert migrate.upgrade(host())["esupervision"][0] == "0008_table_prefix"

    tables = set(db.get_tables())
    assert not tables & set(OLD_TABLES)
    assert {m._meta.table_name for m in MODELS} <= tables
    # the rows, under the new names
    case = MonitoredCase.get_by_id(old["case"])
    assert (case.serial, case.region_id) == ("510104-00001", old["region"].id)
    assert CaseEvent.get_by_id(old["event"]).case_id == case.id
    assert [c.id for c in Clock.select().where(Clock.case == case).order_by(Clock.id)] \
        == old["clocks"]
    signal = Signal.get_by_id(old["signal"])
    assert (signal.case_id, signal.clock_id) == (case.id, old["clocks"][0])
    assert SupervisionCase.get(SupervisionCase.signal == signal).id == old["supervision"]
    (setting,) = DetectorSetting.select()
    assert setting.region_id is None and not setting.enabled
    # new rows get the next ids: the sweep's INSERT … SELECT raises the second clock's red
    raised = sweep(dt.date(2026, 3, 10), emit_alerts=False)
    assert raised.red == 1
    new_signal = Signal.get(Signal.clock == old["clocks"][1])
    assert new_signal.id == old["signal"] + 1
    clock = Clock.create(case=case, kind="step", step_seq=3, start_day=dt.date(2026, 3, 2),
                         limit_days=3, due=dt.date(2026, 3, 5))
    assert clock.id == old["clocks"][1] + 1
    # the foreign keys point at the new tables and still hold
    fks = {(f.column, f.dest_table) for f in db.get_foreign_keys(Signal._meta.table_name)}
    assert fks == {("case_id", MonitoredCase._meta.table_name), ("region_id", "region"),
                   ("clock_id", Clock._meta.table_name)}
    with pytest.raises(pw.IntegrityError), db.atomic():
        Clock.create(case=case.id + 1000, kind="step", step_seq=9,
                     start_day=dt.date(2026, 3, 2), limit_days=3, due=dt.date(2026, 3, 5))
    with pytest.raises(pw.IntegrityError), db.atomic():  # its supervision case holds it
        MonitoredCase.delete_by_id(case.id)
    with pytest.raises(pw.IntegrityError), db.atomic():  # one city row per detector
        DetectorSetting.create(code="ILLEGAL_FEE", enabled=True)
    if not is_postgres():
        assert db.execute_sql("PRAGMA foreign_key_check").fetchall() == []

    result = old_app.test_cli_runner().invoke(args=["db", "status"])
    assert result.exit_code == 0, result.output
    assert re.search(r"^esupervision: \d+ applied, 0 pending$", result.output,
                     re.MULTILINE)


def test_upgraded_names_are_the_ones_the_models_create(old_app, tmp_path):
    """Index, constraint and sequence names after the upgrade equal those of tables the
    models create today (tests/core/test_schema.py compares columns, not names)."""
    from core import migrate
    from core.plugins import host
    migrate.upgrade(host())
    migrated = names(db.obj, "esupervision_")
    declared = model_names(old_app, tmp_path, "esupervision_")
    assert set(migrated) == {m._meta.table_name for m in MODELS}
    assert migrated == declared
    if ON_POSTGRES:
        assert migrated["esupervision_clock"]["sequence"] == "public.esupervision_clock_id_seq"
        assert "esupervision_clock_pkey" in migrated["esupervision_clock"]["constraints"]


@pytest.fixture
def tokens_app(tmp_path):
    """The app on a database whose esupervision chain stops before the API tokens."""
    with app_before(tmp_path, PLUGINS, "esupervision", "0008_table_prefix") as app:
        yield app


def test_ingestion_tokens_move_to_the_core_and_keep_working(tokens_app):
    """Migration 0009: each source system's token goes on working as a core API token;
    a revoked one stays revoked; the plugin's own token table is gone."""
    import hashlib

    from core import migrate
    from core.api import authenticate_api_token
    from core.plugins import host
    digest = lambda token: hashlib.sha256(token.encode()).hexdigest()
    insert("esupervision_source_token", source="cityhall", token_hash=digest("kept-token"),
           created_at=NOW)
    insert("esupervision_source_token", source="oldsys", token_hash=digest("ended-token"),
           created_at=NOW, revoked_at=NOW)

    assert migrate.upgrade(host())["esupervision"][0] == "0009_api_tokens"

    assert "esupervision_source_token" not in db.get_tables()
    assert authenticate_api_token("esupervision.ingest", "kept-token").subject == "cityhall"
    assert authenticate_api_token("esupervision.ingest", "ended-token") is None
    assert authenticate_api_token("other.scope", "kept-token") is None
    client = tokens_app.test_client()
    kept = client.post("/api/esupervision/events", json={},
                       headers={"Authorization": "Bearer kept-token"})
    assert kept.status_code == 400  # past the token: the empty payload is refused
    ended = client.post("/api/esupervision/events", json={},
                        headers={"Authorization": "Bearer ended-token"})
    assert ended.status_code == 401
