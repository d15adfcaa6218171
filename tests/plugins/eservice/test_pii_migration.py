"""Migration 0004_core_pii: cases written by the plugin's own crypto (before core.pii)
stay readable and findable, on SQLite and PostgreSQL."""
from __future__ import annotations

import base64
import datetime as dt
import os

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tests.migrations import app_before, insert, legacy_id_hash, legacy_id_token
from tests.plugins.eservice.conftest import VALID_ID, item_spec


@pytest.fixture
def old_app(tmp_path):
    """The app on a database whose eservice chain stops before 0004_core_pii."""
    with app_before(tmp_path, {"eservice": "plugins.eservice"}, "eservice",
                    "0003_core_rate_counters") as app:
        yield app


def old_cases(numbers_and_phones):
    """Write cases as the old code did: plain rows on the schema before 0003."""
    from core.org.models import Department, Region
    from plugins.eservice import cases, catalogue
    region = Region.create(code="510104", name="锦江区", level="district")
    dept = Department.create(region=region, code="ZF", name="锦江区政务服务局")
    item = catalogue.create_item(item_spec(dept))
    serials = []
    for seq, (number, phone) in enumerate(numbers_and_phones, 1):
        serial = cases.make_serial(region.code, dt.date(2026, 3, 2), seq)
        insert("eservice_case", serial=serial, item_id=item.id, region_id=region.id,
               department_id=dept.id, channel="window", applicant_name="张三",
               applicant_phone=phone, id_enc=legacy_id_token(number),
               id_hash=legacy_id_hash(number), id_mask=number[:4] + "*" * 10 + number[-4:],
               state="submitted", submitted_at="2026-03-02 01:00:00", stopped_days=0,
               decision="", fee_due="0", fee_charged="0")
        serials.append(serial)
    return serials


def ids(n: int) -> list[str]:
    from core.pii.validate import id_check_char
    out = [VALID_ID]
    for i in range(1, n):
        body = f"510104{dt.date(1970, 1, 1) + dt.timedelta(days=i * 7):%Y%m%d}{i % 1000:03d}"
        out.append(body + id_check_char(body))
    return out


def test_every_old_ciphertext_stays_readable_and_findable(old_app):
    from core import migrate
    from core.db import db
    from plugins.eservice import lookup
    from plugins.eservice.models import Case
    numbers = ids(1203)  # more than one batch of the migration
    phones = [("13800138000" if i % 3 else "") for i in range(len(numbers))]
    serials = old_cases(list(zip(numbers, phones)))
    done = migrate.upgrade(old_app.extensions["qinglian.plugins"])
    assert done["eservice"][0] == "0004_core_pii"
    cases = list(Case.select().order_by(Case.id))
    assert [c.id_number for c in cases] == numbers
    assert [c.applicant_phone or "" for c in cases] == phones
    raw = db.execute_sql("SELECT id_enc, phone_enc FROM eservice_case").fetchall()
    assert all(t.startswith("ql1:0:aes-256-gcm:") for t, _p in raw)
    assert all((p is None) == (not phone) for (_t, p), phone in zip(raw, phones))
    for serial, number in [(serials[0], numbers[0]), (serials[-1], numbers[-1])]:
        found = lookup.find_case(serial, number, client="127.0.0.1")
        assert found is not None and found.serial == serial
    assert lookup.find_case(serials[0], numbers[1], client="127.0.0.1") is None


def test_a_row_that_does_not_open_stops_the_migration_and_changes_nothing(old_app):
    from core import migrate
    from core.db import db
    old_cases([(VALID_ID, "13800138000"), (ids(2)[1], "")])
    nonce = os.urandom(12)
    foreign = base64.b64encode(nonce + AESGCM(os.urandom(32)).encrypt(
        nonce, b"x", b"eservice.id")).decode()
    db.execute_sql(f"UPDATE eservice_case SET id_enc = {db.obj.param} WHERE id = "
                   "(SELECT MAX(id) FROM eservice_case)", [foreign])
    before = db.execute_sql("SELECT id, id_enc, id_hash, applicant_phone FROM eservice_case "
                            "ORDER BY id").fetchall()
    with pytest.raises(RuntimeError, match=r"eservice_case id \d+: .*key \"0\""):
        migrate.upgrade(old_app.extensions["qinglian.plugins"])
    after = db.execute_sql("SELECT id, id_enc, id_hash, applicant_phone FROM eservice_case "
                           "ORDER BY id").fetchall()
    assert after == before
    status = {s.component: s for s in migrate.status(old_app.extensions["qinglian.plugins"])}
    assert status["eservice"].pending[0] == "0004_core_pii"
