"""Benchmark: the e-supervision sweep and the monthly evaluation at scale.

Generates 1,000,000 open monitored steps (step clocks of 1,000,000 cases spread over 20
districts and 600 departments; start days over the last 30 days, limits 1-15 working
days, so a small share is overdue or in yellow), then in the same run on the same rows:

* baseline: ``SELECT count(*)`` with the sweep's date predicates (overdue: open and
  ``due < today``; yellow: open, running, ``yellow_on <= today <= due``);
* the sweep's set-based evaluation (INSERT … SELECT into signals, first pass: inserts the
  new signals; second pass over unchanged data: inserts nothing) — each against the
  baseline, as a ratio (target: at most 3x);
* the alerting of new signals through ``core.alerts.emit``, per signal (reported apart:
  it is per-recipient work done once per signal, not per sweep), and the plugin's own
  share of it (the same alerting with ``emit`` a no-op, rolled back): reading the
  signals with their cases and clocks, finding the recipients, marking them alerted;
* the monthly efficiency evaluation of a month in which all 1,000,000 cases were decided.

Runs on SQLite (temporary folder) and on PostgreSQL (``BENCH_PG_URL``, default
postgresql://postgres@127.0.0.1:5432/postgres; a temporary database is created and
dropped). ``BENCH_STEPS`` changes the size; ``BENCH_ONLY=sqlite|postgres`` runs one.

    python bench/esupervision.py
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

STEPS = int(os.environ.get("BENCH_STEPS", "1000000"))
TODAY = dt.date(2026, 3, 31)
MONTH = "2026-03"
REGIONS = 20
DEPTS_PER_REGION = 30
ALERT_SAMPLE = int(os.environ.get("BENCH_ALERT_SAMPLE", "500"))


def _timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def _chunks(rows, size):
    for i in range(0, len(rows), size):
        yield rows[i:i + size]


def generate(n: int) -> None:
    """``n`` cases, each with an open step clock and a completion clock ended in MONTH."""
    from core import calendar
    from core.db import db
    from core.org.models import Department, Post, Region
    from plugins.esupervision.models import Clock, MonitoredCase

    city = Region.create(code="510100", name="成都市", level="city")
    depts = []
    for r in range(REGIONS):
        region = Region.create(code=f"5101{r + 10:02d}", name=f"区县{r + 1}",
                               level="district", parent=city, sort=r)
        Department.create(region=region, code="JW", name=f"区县{r + 1}纪委监委",
                          is_supervision_office=True)
        for d in range(DEPTS_PER_REGION):
            dept = Department.create(region=region, code=f"D{d:02d}", name=f"部门{r}-{d}")
            post = Post.create(department=dept, title="窗口")
            depts.append((region.id, dept.id, dept.code, post.id))
    workdays = calendar.workdays_in(TODAY - dt.timedelta(days=60), TODAY + dt.timedelta(days=60))
    seq = {d: calendar.workdays_between(workdays[0], d) for d in workdays}
    by_seq = {v: k for k, v in seq.items()}
    rng = random.Random(7)
    first = dt.date(2026, 3, 2)
    march = [d for d in workdays if d >= first]
    submitted = dt.datetime(2026, 3, 2, 1, 0)
    case_cols = [MonitoredCase.source, MonitoredCase.serial, MonitoredCase.region,
                 MonitoredCase.department, MonitoredCase.department_code,
                 MonitoredCase.department_name, MonitoredCase.item_code,
                 MonitoredCase.item_name, MonitoredCase.item_type, MonitoredCase.item_version,
                 MonitoredCase.statutory_limit_days, MonitoredCase.committed_limit_days,
                 MonitoredCase.fee_due, MonitoredCase.channel, MonitoredCase.handler_username,
                 MonitoredCase.handler_post_id, MonitoredCase.submitted_at,
                 MonitoredCase.status, MonitoredCase.decision, MonitoredCase.decided_at,
                 MonitoredCase.rating, MonitoredCase.created_at]
    clock_cols = [Clock.case, Clock.kind, Clock.step_seq, Clock.label, Clock.post_id,
                  Clock.start_day, Clock.limit_days, Clock.stopped_days, Clock.due,
                  Clock.yellow_on, Clock.ended_on]
    batch = 20000
    for start in range(0, n, batch):
        size = min(batch, n - start)
        cases, clocks = [], []
        for i in range(start, start + size):
            region_id, dept_id, code, post_id = depts[i % len(depts)]
            decided = march[i % len(march)]
            cases.append(("bench", f"S{i:08d}", region_id, dept_id, code, "", "ITEM", "", "XK",
                          1, 20, 10, "0.00", "window", "", post_id, submitted, "decided",
                          "approved", dt.datetime.combine(decided, dt.time(2)),
                          (i % 5) + 1, submitted))
        with db.atomic():
            _bulk(MonitoredCase, case_cols, cases)
        ids = [r[0] for r in MonitoredCase.select(MonitoredCase.id)
               .where((MonitoredCase.source == "bench")
                      & MonitoredCase.serial.between(f"S{start:08d}", f"S{start + size - 1:08d}"))
               .order_by(MonitoredCase.id).tuples()]
        for j, case_id in enumerate(ids):
            i = start + j
            limit = 1 + (i * 7919) % 15
            start_seq = seq[TODAY] - rng.randint(0, 3 * limit // 2 + 1) \
                if rng.random() < 0.04 else seq[TODAY] - rng.randint(0, max(0, limit // 2))
            start_day = by_seq.get(start_seq, workdays[0])
            used = max(0, min(-(-limit * 80 // 100), limit - 1))
            due = by_seq.get(seq.get(start_day, 0) + limit) or calendar.add_workdays(start_day,
                                                                                    limit)
            yellow = by_seq.get(seq.get(start_day, 0) + used) or calendar.add_workdays(
                start_day, used)
            clocks.append((case_id, "step", 1, "审查", depts[i % len(depts)][3], start_day, limit,
                           0, due, yellow, None))
            decided = march[i % len(march)]
            c_start = first
            c_due = by_seq.get(seq[c_start] + 10)
            c_yellow = by_seq.get(seq[c_start] + 8)
            clocks.append((case_id, "completion", 0, "completion", None, c_start, 10, 0,
                           c_due, c_yellow, decided))
        with db.atomic():
            _bulk(Clock, clock_cols, clocks)


def _bulk(model, fields, rows) -> None:
    """Plain multi-row inserts (peewee's query builder is too slow for millions of rows)."""
    from core.db import db, is_postgres
    names = ", ".join(f.column_name for f in fields)
    sql = f"INSERT INTO {model._meta.table_name} ({names}) VALUES "
    cursor = db.cursor()
    if is_postgres():
        from psycopg2.extras import execute_values
        execute_values(cursor, sql + "%s", rows, page_size=2000)
    else:
        cursor.executemany(sql + "(" + ", ".join("?" * len(fields)) + ")", rows)


def baseline_count() -> int:
    from core.db import db
    from plugins.esupervision.models import Clock
    today = TODAY.isoformat()
    p = _param()
    clock = Clock._meta.table_name
    a = db.execute_sql(f"SELECT count(*) FROM {clock} WHERE ended_on IS NULL AND due < {p}",
                       (today,)).fetchone()[0]
    b = db.execute_sql(f"SELECT count(*) FROM {clock} WHERE ended_on IS NULL AND yellow_on <= {p}"
                       f" AND due >= {p} AND paused_since IS NULL", (today, today)).fetchone()[0]
    return a + b


def _param() -> str:
    from core.db import is_postgres
    return "%s" if is_postgres() else "?"


def run(database_url: str, instance: Path) -> dict:
    from core import calendar, migrate
    from core.app import create_app
    from core.db import db
    from core.plugins import host
    from plugins.esupervision import evaluation
    from plugins.esupervision.alerting import alert_pending
    from plugins.esupervision.models import Signal
    from plugins.esupervision.sweep import sweep

    settings = Settings(instance_path=instance, database_url=database_url,
                        queue_url="memory://", secret_key="bench-" + "x" * 32,
                        locale="en").resolved()
    app = create_app(settings, available_plugins={"esupervision": "plugins.esupervision"})
    out: dict = {"kind": "PostgreSQL" if database_url.startswith("postgres") else "SQLite"}
    with app.app_context(), app.test_request_context("/"):
        db.connect(reuse_if_open=True)
        migrate.upgrade(host())
        calendar.ensure()
        out["generate"], _ = _timed(generate, STEPS)
        db.execute_sql("ANALYZE")
        baseline_count()  # warm the cache for both sides
        out["count"], out["matched"] = _timed(baseline_count)
        out["sweep1"], first = _timed(sweep, TODAY, emit_alerts=False)
        out["new"] = (first.yellow, first.red)
        out["count2"], _ = _timed(baseline_count)
        out["sweep2"], second = _timed(sweep, TODAY, emit_alerts=False)
        out["new2"] = (second.yellow, second.red)
        out["count3"], _ = _timed(baseline_count)
        # alerting: the first ALERT_SAMPLE signals, then the steady state (nothing pending)
        Signal.update(alerted_at=db_now()).where(
            Signal.id.not_in(Signal.select(Signal.id).order_by(Signal.id)
                             .limit(ALERT_SAMPLE))).execute()
        with db.atomic() as txn:
            out["alert_own"], _ = _timed(_alert_around_emit)
            txn.rollback()
        out["alert"], lines = _timed(alert_pending)
        out["alerts"] = len(lines)
        out["sweep3"], third = _timed(sweep, TODAY)
        out["new3"] = (third.yellow, third.red, len(third.alerted))
        out["count4"], _ = _timed(baseline_count)
        out["evaluation"], run_ = _timed(evaluation.evaluate, MONTH)
        out["scores"] = run_.scores.count()
    if not db.is_closed():
        db.close()
    return out


def _alert_around_emit() -> list[str]:
    """The alerting of the pending signals with ``emit_many`` a no-op: the plugin's own
    work."""
    from plugins.esupervision import alerting
    emit_many, alerting.emit_many = alerting.emit_many, lambda *args, **kwargs: []
    try:
        return alerting.alert_pending()
    finally:
        alerting.emit_many = emit_many


def db_now():
    from core.db import utcnow
    return utcnow()


def report(r: dict) -> None:
    base = (r["count"] + r["count2"]) / 2
    print(f"\n{r['kind']}: {STEPS:,} open monitored steps (generated in {r['generate']:.1f} s), "
          f"{r['matched']:,} match the date predicates")
    print(f"  baseline SELECT count(*) (both predicates): {r['count'] * 1000:.1f} ms, "
          f"{r['count2'] * 1000:.1f} ms, {r['count3'] * 1000:.1f} ms, "
          f"{r['count4'] * 1000:.1f} ms")
    print(f"  sweep, first pass (inserts {r['new'][0]:,} yellow + {r['new'][1]:,} red): "
          f"{r['sweep1'] * 1000:.1f} ms  -> ratio {r['sweep1'] / base:.2f}x")
    print(f"  sweep, second pass (unchanged data, inserts {sum(r['new2'])}): "
          f"{r['sweep2'] * 1000:.1f} ms  -> ratio "
          f"{r['sweep2'] / ((r['count2'] + r['count3']) / 2):.2f}x")
    print(f"  full sweep with alerting, nothing new ({r['new3']}): {r['sweep3'] * 1000:.1f} ms"
          f"  -> ratio {r['sweep3'] / r['count4']:.2f}x")
    if r["alerts"]:
        print(f"  alerting {r['alerts']:,} alert rows for {ALERT_SAMPLE} new signals: "
              f"{r['alert']:.2f} s ({r['alert'] / ALERT_SAMPLE * 1000:.1f} ms per signal), "
              f"of which around emit {r['alert_own'] / ALERT_SAMPLE * 1000:.2f} ms per signal")
    print(f"  monthly evaluation of {MONTH} ({STEPS:,} cases decided, {r['scores']} scores): "
          f"{r['evaluation']:.1f} s")


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
        name = f"ql_bench_es_{uuid.uuid4().hex[:8]}"
        admin.execute_sql(f'CREATE DATABASE "{name}"')
        try:
            with tempfile.TemporaryDirectory() as tmp:
                results.append(run(urlunparse(parsed._replace(path="/" + name)), Path(tmp)))
                report(results[-1])
        finally:
            admin.execute_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.close()
    print("\nratios (sweep second pass / SELECT count(*), target <= 3x): " + ", ".join(
        f"{r['kind']} {r['sweep2'] / ((r['count2'] + r['count3']) / 2):.2f}x" for r in results))


if __name__ == "__main__":
    main()
