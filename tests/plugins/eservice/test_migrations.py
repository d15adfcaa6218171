"""Migration 0002: the rating (好差评) is called a rating, on a database that already holds
ratings and their rectifications. The old schema is built through the chain up to 0001,
rows go in under the old names, then `db upgrade` runs as on a deployment."""
from __future__ import annotations

import peewee as pw
import pytest

from core.db import db, is_postgres
from plugins.eservice.models import Case, Rating, Rectification
from tests.conftest import ON_POSTGRES
from tests.migrations import app_before, insert, legacy_id_token, model_names, names
from tests.plugins.eservice.conftest import VALID_ID

PLUGINS = {"eservice": "plugins.eservice"}
NOW = "2026-03-02 09:00:00"


@pytest.fixture
def old_app(tmp_path):
    with app_before(tmp_path, PLUGINS, "eservice", "0001_eservice") as app:
        yield app


def _seed_old_schema() -> dict:
    """An item, two closed cases, each rated (one badly, with its open rectification)."""
    from core.org.models import Department, Region
    region = Region.create(code="510104", name="锦江区", level="district")
    dept = Department.create(region=region, code="ZF", name="锦江区政务服务局")
    item = insert("eservice_item", code="51010400ZF-XK-0001", version=1, name="食品经营许可",
                  type="XK", department_id=dept.id, region_id=region.id, level="county",
                  statutory_days=20, committed_days=10, fee_amount="0", fee_basis="",
                  conditions="", visits=1, consult_phone="", complaint_phone="",
                  status="active", effective_from="2026-01-01", created_at=NOW)

    def case(n: int) -> int:
        return insert("eservice_case", serial=f"510104-20260302-000{n}-K", item_id=item,
                      region_id=region.id, department_id=dept.id, channel="window",
                      applicant_name="张三", applicant_phone="",
                      id_enc=legacy_id_token(VALID_ID), id_hash=f"h{n}",
                      id_mask="5101**********1234", state="closed", submitted_at=NOW,
                      stopped_days=0, decision="approved", fee_due="0", fee_charged="0")
    cases = [case(1), case(2)]
    good = insert("eservice_evaluation", case_id=cases[0], rating=5, comment="很快", at=NOW)
    bad = insert("eservice_evaluation", case_id=cases[1], rating=1, comment="态度差", at=NOW)
    rect = insert("eservice_rectification", evaluation_id=bad, department_id=dept.id,
                  region_id=region.id, due="2026-03-20", status="open", response="",
                  created_at=NOW)
    return {"cases": cases, "good": good, "bad": bad, "rect": rect}


def test_upgrade_renames_the_rating_and_keeps_rows_ids_and_rules(old_app):
    from core import migrate
    from core.plugins import host
    old = _seed_old_schema()

    assert migrate.upgrade(host())["eservice"][:3] == ["0002_rating", "0003_core_rate_counters",
                                                       "0004_core_pii"]

    tables = set(db.get_tables())
    assert "eservice_evaluation" not in tables and "eservice_rating" in tables
    good, bad = Rating.get_by_id(old["good"]), Rating.get_by_id(old["bad"])
    assert (good.case_id, good.score, good.comment) == (old["cases"][0], 5, "很快")
    assert (bad.case_id, bad.score) == (old["cases"][1], 1)
    rect = Rectification.get_by_id(old["rect"])
    assert rect.rating_id == bad.id and rect.rating.case.serial.endswith("0002-K")
    assert Rating.create(case=Case.create(
        serial="510104-20260302-0003-K", item=Case.get_by_id(old["cases"][0]).item_id,
        region=rect.region_id, department=rect.department_id, applicant_name="李四",
        id_number=VALID_ID, id_hash="h3", id_mask="m"), score=4).id == old["bad"] + 1
    with pytest.raises(pw.IntegrityError), db.atomic():  # one rating per case
        Rating.create(case=old["cases"][0], score=3)
    with pytest.raises(pw.IntegrityError), db.atomic():  # the check moved with the column
        Rating.create(case=old["cases"][0] + 100, score=9)
    with pytest.raises(pw.IntegrityError), db.atomic():  # one rectification per rating
        Rectification.create(rating=bad, department=rect.department_id,
                             region=rect.region_id, due=rect.due)
    fks = {(f.column, f.dest_table) for f in db.get_foreign_keys("eservice_rectification")}
    assert ("rating_id", "eservice_rating") in fks
    if not is_postgres():
        assert db.execute_sql("PRAGMA foreign_key_check").fetchall() == []


def test_upgraded_names_are_the_ones_the_models_create(old_app, tmp_path):
    """Index, constraint and sequence names after the upgrade equal those the models
    create today (tests/core/test_schema.py compares columns, not names)."""
    from core import migrate
    from core.plugins import host
    migrate.upgrade(host())
    migrated = names(db.obj, "eservice_")
    assert migrated == model_names(old_app, tmp_path, "eservice_")
    if ON_POSTGRES:
        assert migrated["eservice_rating"]["sequence"] == "public.eservice_rating_id_seq"


def test_cases_waiting_for_acceptance_get_their_acceptance_limit(tmp_path):
    """0005: a case received on Monday 2 March 2026 (09:00 Beijing) and not yet accepted
    must be accepted by Monday 9 March (5 working days); a closed case gets no limit."""
    import datetime as dt

    from core import calendar, migrate
    from core.org.models import Department, Region
    from core.plugins import host
    with app_before(tmp_path, PLUGINS, "eservice", "0004_core_pii"):
        calendar.ensure()
        region = Region.create(code="510104", name="锦江区", level="district")
        dept = Department.create(region=region, code="ZF", name="锦江区政务服务局")
        item = insert("eservice_item", code="51010400ZF-XK-0001", version=1, name="食品经营许可",
                      type="XK", department_id=dept.id, region_id=region.id, level="county",
                      statutory_days=20, committed_days=10, fee_amount="0", fee_basis="",
                      conditions="", visits=1, consult_phone="", complaint_phone="",
                      status="active", effective_from="2026-01-01", created_at=NOW)

        def case(n: int, state: str) -> int:
            return insert("eservice_case", serial=f"510104-20260302-000{n}-K", item_id=item,
                          region_id=region.id, department_id=dept.id, channel="window",
                          applicant_name="张三", id_enc=Case.id_number.db_value(VALID_ID),
                          id_hash=f"h{n}", id_mask="5101**********1234", state=state,
                          submitted_at="2026-03-02 01:00:00", stopped_days=0, decision="",
                          fee_due="0", fee_charged="0")
        waiting, closed = case(1, "submitted"), case(2, "closed")
        assert migrate.upgrade(host())["eservice"] == ["0005_accept_by", "0006_material_files",
                                                    "0007_step_delegation"]
        assert Case.get_by_id(waiting).accept_by == dt.date(2026, 3, 9)
        assert Case.get_by_id(closed).accept_by is None
