"""``core.api.bulk_insert`` writes every value as the database reads it back, whichever
path it takes (``COPY`` or ``execute_values`` on PostgreSQL, ``executemany`` on SQLite)."""
from __future__ import annotations

import pytest

from core.api import bulk_insert, bulk_insert_dicts
from core.db import db
from core.org.models import Region
from tests.conftest import ON_POSTGRES

AWKWARD = ["tab\there", "line\nend", "cr\rlf\r\n", "back\\slash", "\\N", "\\.", "成都市 ",
           "", "'quoted'; --", "\u3000全角"]


def test_awkward_text_numbers_and_null_round_trip(app):
    city = Region.create(code="510100", name="成都市", level="city")
    rows = [(f"51{i:04d}", name, "district", city.id, sort)
            for i, (name, sort) in enumerate(zip(AWKWARD, [0, -1, 2 ** 31 - 1] * 4))]
    rows.append(("519999", "无上级", "district", None, 7))
    with db.atomic():
        bulk_insert("region", ["code", "name", "level", "parent_id", "sort"], rows)
    got = set(Region.select(Region.code, Region.name, Region.level, Region.parent, Region.sort)
              .where(Region.id != city.id).tuples())
    assert got == set(rows)


def test_a_value_of_another_type_takes_the_quoting_path(app):
    with db.atomic():
        bulk_insert_dicts(Region, [{"code": "510101", "name": "甲", "level": "city",
                                    "sort": True}])
    assert Region.get(Region.code == "510101").sort == 1


@pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL text cannot hold NUL; SQLite stores it")
def test_nul_is_refused_on_postgresql_and_nothing_is_written(app):
    with pytest.raises(ValueError), db.atomic():
        bulk_insert("region", ["code", "name"], [("510102", "a\x00b")])
    assert not Region.select().where(Region.code == "510102").exists()
