"""Benchmark: case supervision's receipt-code look-up, clock sweep and intake, each as a
ratio against a baseline run in the same process on the same rows.

* **Receipt code (timing parity).** ``portal.find_by_code`` with a near miss (a real
  code with its last digit changed) vs a random code, interleaved, ``BENCH_LOOKUPS`` each
  (default 2,000): the ratio of the medians should be ≈ 1 (a miss must not tell how close
  it was). A hit is reported beside them.
* **Clock sweep.** ``BENCH_CLOCKS`` (default 200,000) open stage clocks over 20 regions,
  due days spread so that ≈ 2 % are past their limit and ≈ 2 % within the yellow horizon;
  the steady-state sweep (every ten minutes: nothing new to raise) ÷ a raw ``SELECT
  count(*)`` of the due rows with the sweep's predicates (target ≤ 3×); the first sweep,
  raising every alert through ``core.alerts.emit_many``, reported per alert.
* **Intake.** ``BENCH_REPORTS`` (default 10,000) reports registered through
  ``intake.register`` (number, repeat detection, clocks, audit, event) with the
  ``EncryptedField`` columns encrypted ÷ the same with encryption a pass-through (target
  ≤ 1.5×); and ÷ plain multi-row inserts of the same rows (what a table without any of
  the service's work costs).

Runs on SQLite (temporary folder) and on PostgreSQL (``BENCH_PG_URL``, default
postgresql://postgres@127.0.0.1:5432/postgres; a temporary database is created and
dropped). ``BENCH_ONLY=sqlite|postgres`` runs one.

    python bench/cases.py
"""
from __future__ import annotations

import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse, urlunparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import peewee as pw

from core.settings import Settings

CLOCKS = int(os.environ.get("BENCH_CLOCKS", "200000"))
REPORTS = int(os.environ.get("BENCH_REPORTS", "10000"))
LOOKUPS = int(os.environ.get("BENCH_LOOKUPS", "2000"))
TODAY = dt.date(2026, 11, 16)
REGIONS = 20


def _timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def _param() -> str:
    from core.db import is_postgres
    return "%s" if is_postgres() else "?"


def _bulk(table: str, columns: list[str], rows: list[tuple]) -> None:
    from core.db import db, is_postgres
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
    cursor = db.cursor()
    if is_postgres():
        from psycopg2.extras import execute_values
        execute_values(cursor, sql + "%s", rows, page_size=2000)
    else:
        cursor.executemany(sql + "(" + ", ".join("?" * len(columns)) + ")", rows)


def world():
    from core.org.models import Department, Region
    city = Region.create(code="510100", name="成都市", level="city")
    regions = []
    for r in range(REGIONS):
        region = Region.create(code=f"5101{r + 10:02d}", name=f"区县{r + 1}",
                               level="district", parent=city, sort=r)
        Department.create(region=region, code="JW", name=f"区县{r + 1}纪委监委",
                          is_supervision_office=True)
        regions.append(region)
    return city, regions


def generate_clocks(regions, n: int) -> None:
    from core import calendar
    from core.db import db
    rng = random.Random(13)
    days = calendar.workdays_in(TODAY - dt.timedelta(days=200), TODAY + dt.timedelta(days=400))
    at = days.index(TODAY)
    rows = []
    for i in range(n):
        roll = rng.random()
        if roll < 0.02:
            due = days[at - rng.randint(1, 60)]           # passed
        elif roll < 0.04:
            due = days[at + rng.randint(0, 3)]            # within the yellow horizon
        else:
            due = days[at + rng.randint(4, 200)]          # running
        rows.append((regions[i % len(regions)].id, "stage", f"BENCH-C{i:07d}",
                     days[max(0, at - 120)], due))
    with db.atomic():
        for i in range(0, n, 20000):
            _bulk("cases_clock", ["region_id", "kind", "ref", "started_on", "due_on"],
                  rows[i:i + 20000])


def baseline_count(day: dt.date) -> int:
    """The due rows, counted raw with the sweep's two predicates (yellow, red)."""
    from core import calendar
    from core.db import db
    from plugins.cases.vocab import YELLOW_DAYS
    p = _param()
    horizon = calendar.add_workdays(day, YELLOW_DAYS)
    running = "done_on IS NULL AND stopped_since IS NULL"
    yellow = db.execute_sql(
        f"SELECT count(*) FROM cases_clock WHERE {running} AND yellow_at IS NULL"
        f" AND red_at IS NULL AND due_on >= {p} AND due_on <= {p}", (day, horizon)).fetchone()[0]
    red = db.execute_sql(f"SELECT count(*) FROM cases_clock WHERE {running} AND red_at IS NULL"
                         f" AND due_on < {p}", (day,)).fetchone()[0]
    return yellow + red


def bench_sweep(regions, out: dict) -> None:
    from core.db import db
    from plugins.cases import clocks
    out["clocks_generate"], _ = _timed(generate_clocks, regions, CLOCKS)
    db.execute_sql("ANALYZE")
    baseline_count(TODAY)
    out["count"], out["due"] = _timed(baseline_count, TODAY)
    out["due"] = out["due"]
    out["sweep_first"], first = _timed(clocks.sweep, TODAY)
    out["raised"] = first["yellow"] + first["red"]
    samples_sweep, samples_count = [], []
    for _ in range(5):
        t, again = _timed(clocks.sweep, TODAY)
        assert again == {"yellow": 0, "red": 0}, again
        samples_sweep.append(t)
        samples_count.append(_timed(baseline_count, TODAY)[0])
    out["sweep_steady"] = statistics.median(samples_sweep)
    out["count_steady"] = statistics.median(samples_count)


def _fields(i: int) -> dict:
    return {"channel": "letter", "transferred_from": "", "anonymous": i % 3 == 0,
            "reporter_name": "" if i % 3 == 0 else f"举报人{i}",
            "reporter_id": "", "reporter_contact": "" if i % 3 == 0 else "13800138000",
            "subject_name": f"被反映人{i % 4000}", "subject_post": "某局 科长",
            "subject_rank": "general", "category": ("integrity", "work", "life")[i % 3],
            "text": "反映该同志收受管理服务对象礼金，并在工程项目中为亲属谋利。" * 4}


def _register_many(regions, n: int, tag: str) -> None:
    from core.db import db
    from plugins.cases import intake
    day = TODAY
    for i in range(n):
        region = regions[i % len(regions)]
        with db.atomic():
            intake.register(region, _fields(i), received_on=day, subject_region=region)


def _plain_insert(regions, n: int) -> None:
    from core.api import utcnow
    from core.db import db
    cols = ["region_id", "year", "number", "channel", "transferred_from", "anonymous",
            "reporter_name", "reporter_contact", "subject_name", "subject_post",
            "subject_hash", "subject_region_id", "subject_rank", "category", "text",
            "received_on", "status", "office", "copied_to_management", "registered_by",
            "registered_at", "route_note"]
    rows = []
    for i in range(n):
        f = _fields(i)
        rid = regions[i % len(regions)].id
        rows.append((rid, TODAY.year, f"PLAIN-{i:07d}", f["channel"], "", f["anonymous"],
                     f["reporter_name"], f["reporter_contact"], f["subject_name"],
                     f["subject_post"], f"{i:064d}", rid, "general", f["category"],
                     f["text"], TODAY, "registered", "petition", False, "", utcnow(), ""))
    with db.atomic():
        for i in range(0, n, 2000):
            _bulk("cases_item", cols, rows[i:i + 2000])


def bench_intake(regions, out: dict) -> None:
    from core.db import db
    from core.pii.fields import EncryptedField
    from plugins.cases.models import Clock, Item
    out["intake_enc"], _ = _timed(_register_many, regions, REPORTS, "enc")
    stored = db.execute_sql("SELECT text FROM cases_item LIMIT 1").fetchone()[0]
    assert "礼金" not in stored, "the text must be encrypted at rest"
    Clock.delete().where(Clock.kind != "stage").execute()
    Item.delete().execute()
    original = EncryptedField.db_value, EncryptedField.python_value
    EncryptedField.db_value = lambda self, value: value
    EncryptedField.python_value = lambda self, value: value
    try:
        out["intake_plain"], _ = _timed(_register_many, regions, REPORTS, "plain")
    finally:
        EncryptedField.db_value, EncryptedField.python_value = original
    Clock.delete().where(Clock.kind != "stage").execute()
    Item.delete().execute()
    out["insert_plain"], _ = _timed(_plain_insert, regions, REPORTS)
    Item.delete().execute()


def bench_lookup(regions, out: dict) -> None:
    from core.db import db
    from plugins.cases import portal
    from plugins.cases.models import Item
    codes = []
    with db.atomic():
        for i, item in enumerate(Item.select().limit(500)):
            code = portal.new_code()
            Item.update(receipt_hash=portal.code_index(code)).where(Item.id == item.id) \
                .execute()
            codes.append(code)
    rng = random.Random(5)
    near, rand, hit = [], [], []
    for i in range(LOOKUPS):
        real = codes[i % len(codes)]
        miss = real[:-1] + str((int(real[-1]) + 1) % 10)
        other = f"{rng.randrange(10 ** 16):016d}"
        client = f"10.{i // 250 % 250}.{i % 250}.1"  # stays under the per-client limit
        for value, bucket in ((miss, near), (other, rand)) if i % 2 else \
                ((other, rand), (miss, near)):
            t, found = _timed(portal.find_by_code, value, client)
            assert found is None
            bucket.append(t)
        if i % 10 == 0:
            t, found = _timed(portal.find_by_code, real, client + "0")
            assert found is not None
            hit.append(t)
    out["near_ms"] = statistics.median(near) * 1000
    out["random_ms"] = statistics.median(rand) * 1000
    out["hit_ms"] = statistics.median(hit) * 1000


def run(database_url: str, instance: Path) -> dict:
    from core import calendar, migrate
    from core.app import create_app
    from core.db import db
    from core.plugins import host

    settings = Settings(instance_path=instance, database_url=database_url,
                        queue_url="memory://", secret_key="bench-" + "x" * 32,
                        locale="en").resolved()
    app = create_app(settings, available_plugins={"cases": "plugins.cases"})
    app.config["QL_SETTINGS"] = settings
    out: dict = {"kind": "PostgreSQL" if database_url.startswith("postgres") else "SQLite"}
    with app.app_context(), app.test_request_context("/"):
        db.connect(reuse_if_open=True)
        migrate.upgrade(host())
        calendar.ensure()
        _city, regions = world()
        import plugins.cases.clocks
        import plugins.cases.intake
        plugins.cases.clocks.today = lambda: TODAY
        plugins.cases.intake.today = lambda: TODAY
        bench_sweep(regions, out)
        bench_intake(regions, out)
        _register_many(regions, 1000, "lookup")
        bench_lookup(regions, out)
    return out


def report(r: dict) -> None:
    print(f"\n== {r['kind']}")
    print(f"clock sweep over {CLOCKS:,} open stage clocks ({r['due']:,} due):")
    print(f"  raw count(*) of the due rows       {r['count_steady'] * 1000:8.1f} ms")
    print(f"  steady-state sweep (nothing new)   {r['sweep_steady'] * 1000:8.1f} ms  "
          f"= {r['sweep_steady'] / r['count_steady']:.2f}x (target <= 3x)")
    print(f"  first sweep, {r['raised']:,} alerts raised  {r['sweep_first']:8.2f} s  "
          f"= {r['sweep_first'] / max(1, r['raised']) * 1000:.2f} ms per alert")
    print(f"intake of {REPORTS:,} reports:")
    print(f"  encrypted {r['intake_enc']:.2f} s, encryption off {r['intake_plain']:.2f} s "
          f"= {r['intake_enc'] / r['intake_plain']:.2f}x (target <= 1.5x); plain inserts "
          f"{r['insert_plain']:.2f} s = {r['intake_enc'] / r['insert_plain']:.1f}x")
    print(f"receipt-code look-up (median of {LOOKUPS:,} each): near miss "
          f"{r['near_ms']:.3f} ms, random {r['random_ms']:.3f} ms = "
          f"{r['near_ms'] / r['random_ms']:.3f}x; hit {r['hit_ms']:.3f} ms")


def main() -> None:
    only = os.environ.get("BENCH_ONLY", "")
    results = []
    if only in ("", "sqlite"):
        with tempfile.TemporaryDirectory() as tmp:
            results.append(run(f"sqlite:///{Path(tmp) / 'bench.db'}", Path(tmp)))
            report(results[-1])
    if only in ("", "postgres"):
        base = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
        parsed = urlparse(base)
        admin = pw.PostgresqlDatabase(parsed.path.lstrip("/") or "postgres",
                                      user=parsed.username, password=parsed.password,
                                      host=parsed.hostname, port=parsed.port, autocommit=True)
        name = f"ql_bench_cases_{uuid.uuid4().hex[:8]}"
        admin.execute_sql(f'CREATE DATABASE "{name}"')
        try:
            with tempfile.TemporaryDirectory() as tmp:
                results.append(run(urlunparse(parsed._replace(path="/" + name)), Path(tmp)))
                report(results[-1])
        finally:
            admin.execute_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.close()


if __name__ == "__main__":
    main()
