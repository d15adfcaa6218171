"""Benchmark: risk prevention's register import and its monthly effect evaluation.

In the same run on the same rows:

* importing BENCH_POINTS (default 50,000) risk points, one prevention measure each, into a
  unit's working copy through the plugin's import (``transfer.check_rows`` +
  ``transfer.import_rows``: every row checked — post, type, likelihood, impact, deadline —,
  graded on the matrix, then written all-or-nothing in bulk, audited) ÷ ``executemany``
  of the same point and measure rows into another unit's working copy (target ≤ 2×);
* the monthly effect evaluation (``evaluation.evaluate`` of the city: every figure of
  every department and region, scored, ranked, stored as a version) over BENCH_WARNINGS
  (default 100,000) warnings of the month spread over 20 districts and 600 departments
  ÷ one raw ``GROUP BY`` over the same warnings (target ≤ 3×).

SQLite in a temporary folder, and PostgreSQL (``BENCH_PG_URL``, default
postgresql://postgres@127.0.0.1:5432/postgres; a temporary database is created and
dropped). ``BENCH_ONLY=sqlite|postgres`` runs one.

    python bench/risk.py
"""
from __future__ import annotations

import datetime as dt
import os
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse, urlunparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import peewee as pw

from core.settings import Settings

POINTS = int(os.environ.get("BENCH_POINTS", "50000"))
WARNINGS = int(os.environ.get("BENCH_WARNINGS", "100000"))
REGIONS, DEPTS, POSTS = 20, 30, 3
MONTH, FIRST = "2026-10", dt.datetime(2026, 10, 1)


def _timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def organisation():
    from core.api import Department, Post, Region
    city = Region.create(code="510100", name="成都市", level="city")
    depts = []
    for r in range(REGIONS):
        region = Region.create(code=f"5101{r + 10:02d}", name=f"区县{r + 1}", level="district",
                               parent=city, sort=r)
        for d in range(DEPTS):
            depts.append(Department.create(region=region, code=f"D{d:02d}",
                                           name=f"单位{r}-{d}"))
    Post.insert_many([{"department": d.id, "title": f"岗位{p}"} for d in depts
                      for p in range(POSTS)]).execute()
    return city, depts


def import_rows(n: int) -> list[list[str]]:
    header = ["post", "duty", "description", "risk_type", "likelihood", "impact",
              "reminder_text", "measure", "measure_days"]
    rng = random.Random(3)
    rows = [header]
    for i in range(n):
        rows.append([f"岗位{i % POSTS}", f"职权事项{i % 97}", f"风险描述第{i}条：违规审批、随意变更",
                     ("ideology", "system", "duty", "process", "external")[i % 5],
                     str(rng.randint(1, 5)), str(rng.randint(1, 5)), "严守纪律",
                     f"措施{i}：集体研究、全程留痕", str(rng.randint(3, 20))])
    return rows


def executemany_same(source_register, target_register) -> None:
    """The imported rows, as the import wrote them, inserted again with executemany."""
    from core.api import db
    from plugins.risk.models import Measure, Point
    skip = {"id", "register", "region", "department"}
    pcols = [f for f in Point._meta.sorted_fields if f.name not in skip]
    mcols = [f for f in Measure._meta.sorted_fields if f.name not in ("id", "point")]
    points = list(Point.select(*pcols).where(Point.register == source_register.id)
                  .order_by(Point.id).tuples())
    measures = list(Measure.select(Point.code, *mcols).join(Point)
                    .where(Point.register == source_register.id).order_by(Measure.id).tuples())
    p = db.param

    def run():
        with db.atomic():
            fixed = (target_register.id, target_register.region_id,
                     target_register.department_id)
            cols = ["register_id", "region_id", "department_id"] + [f.column_name for f in pcols]
            db.cursor().executemany(
                f"INSERT INTO risk_point ({', '.join(cols)}) VALUES "
                f"({', '.join([p] * len(cols))})", [fixed + row for row in points])
            ids = dict(Point.select(Point.code, Point.id)
                       .where(Point.register == target_register.id).tuples())
            cols = ["point_id"] + [f.column_name for f in mcols]
            db.cursor().executemany(
                f"INSERT INTO risk_measure ({', '.join(cols)}) VALUES "
                f"({', '.join([p] * len(cols))})",
                [(ids[row[0]],) + tuple(row[1:]) for row in measures])
    return _timed(run)[0]


def warnings(depts) -> None:
    from core.api import Post, db
    from plugins.risk.models import RiskWarning
    rng = random.Random(5)
    posts = {}
    for pid, did in Post.select(Post.id, Post.department).tuples():
        posts.setdefault(did, []).append(pid)
    rows = []
    for i in range(WARNINGS):
        d = depts[i % len(depts)]
        state = rng.choice(("open", "acknowledged", "handled", "handled"))
        rows.append({"region": d.region_id, "department": d.id,
                     "post": rng.choice(posts[d.id]), "target": "post",
                     "level": rng.choice(("blue", "yellow", "red")), "source": "manual",
                     "subject": f"预警{i}", "state": state,
                     "escalations": 1 if rng.random() < 0.1 else 0,
                     "raised_at": FIRST + dt.timedelta(minutes=rng.randint(0, 30 * 24 * 60))})
    with db.atomic():
        for i in range(0, len(rows), 2000):
            RiskWarning.insert_many(rows[i:i + 2000]).execute()
    db.execute_sql("ANALYZE")


def raw_group_by() -> int:
    from core.api import db
    cur = db.execute_sql(
        "SELECT department_id, region_id, COUNT(*) FROM risk_warning "
        f"WHERE raised_at >= {db.param} AND raised_at < {db.param} "
        "GROUP BY department_id, region_id", (FIRST, dt.datetime(2026, 11, 1)))
    return len(cur.fetchall())


def run(database_url: str, instance: Path) -> dict:
    from core import calendar, migrate
    from core.api import db
    from core.app import create_app
    from core.auth.roles import sync_builtin_roles
    from core.plugins import host
    settings = Settings(instance_path=instance, database_url=database_url,
                        queue_url="memory://", secret_key="bench-" + "x" * 32,
                        locale="en").resolved()
    app = create_app(settings, available_plugins={"risk": "plugins.risk"})
    out: dict = {"kind": "PostgreSQL" if database_url.startswith("postgres") else "SQLite"}
    with app.app_context(), app.test_request_context("/"):
        db.connect(reuse_if_open=True)
        migrate.upgrade(host())
        calendar.ensure()
        sync_builtin_roles(host())
        from plugins.risk import evaluation, transfer
        from plugins.risk import register as reg
        city, depts = organisation()
        rows = import_rows(POINTS)
        first, second = (reg.open_working_copy(None, d) for d in depts[:2])

        def do_import():
            return transfer.import_rows(None, first, rows)
        out["import"], _result = _timed(do_import)
        out["imported"] = POINTS
        out["executemany"] = executemany_same(first, second)
        warnings(depts)
        raw_group_by()
        out["raw"] = min(_timed(raw_group_by)[0] for _ in range(3))
        evaluation.evaluate(None, city, MONTH)
        times = [_timed(evaluation.evaluate, None, city, MONTH)[0] for _ in range(3)]
        out["evaluate"] = min(times)
        out["groups"] = raw_group_by()
    if not db.is_closed():
        db.close()
    return out


def report(r: dict) -> None:
    print(f"\n{r['kind']}")
    print(f"  import of {r['imported']:,} risk points with a measure each: {r['import']:.2f} s; "
          f"executemany of the same rows {r['executemany']:.2f} s -> "
          f"{r['import'] / r['executemany']:.2f}x (target <= 2x)")
    print(f"  monthly evaluation over {WARNINGS:,} warnings ({r['groups']} departments): "
          f"{r['evaluate'] * 1000:.0f} ms; raw GROUP BY {r['raw'] * 1000:.0f} ms -> "
          f"{r['evaluate'] / r['raw']:.2f}x (target <= 3x)")


def main() -> None:
    only = os.environ.get("BENCH_ONLY", "")
    if only in ("", "sqlite"):
        with tempfile.TemporaryDirectory() as tmp:
            report(run(f"sqlite:///{Path(tmp) / 'bench.db'}", Path(tmp)))
    if only in ("", "postgres"):
        base = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
        parsed = urlparse(base)
        admin = pw.PostgresqlDatabase(parsed.path.lstrip("/") or "postgres",
                                      user=parsed.username, password=parsed.password,
                                      host=parsed.hostname, port=parsed.port, autocommit=True)
        name = f"ql_bench_rk_{uuid.uuid4().hex[:8]}"
        admin.execute_sql(f'CREATE DATABASE "{name}"')
        try:
            with tempfile.TemporaryDirectory() as tmp:
                report(run(urlunparse(parsed._replace(path="/" + name)), Path(tmp)))
        finally:
            admin.execute_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.close()


if __name__ == "__main__":
    main()
