"""Benchmark: risk prevention's register import, its monthly effect evaluation, and the
site check-in's SMS.

In the same run on the same rows:

* importing BENCH_POINTS (default 50,000) risk points, one prevention measure each, into a
  unit's working copy through the plugin's import (``transfer.check_rows`` +
  ``transfer.import_rows``: every row checked — post, type, likelihood, impact, deadline —,
  graded on the matrix, then written all-or-nothing in bulk, audited) ÷ ``executemany``
  of the same point and measure rows into another unit's working copy (target ≤ 2×);
* the monthly effect evaluation (``evaluation.evaluate`` of the city: every figure of
  every department and region, scored, ranked, stored as a version) over BENCH_WARNINGS
  (default 100,000) warnings of the month spread over 20 districts and 600 departments
  ÷ one raw ``GROUP BY`` over the same warnings (target ≤ 3×);
* check-in → SMS handed to the gateway: BENCH_CHECKIN_RATE (200) check-ins a second for
  BENCH_CHECKIN_SECONDS (10), each by another official inside the site's radius, through
  ``reminders.check_in`` (what the API and the phone page call); a real worker process
  (``flask worker -w 8``, periodic jobs on, Redis at BENCH_REDIS_URL) hands each SMS to a
  real local HTTP gateway that timestamps its arrival: p50 and p99 from the check-in call
  to the arrival, the achieved rate; baseline in the same run: the same alerts to other
  officials emitted directly (``emit_many``), at the same rate, same worker and gateway.

SQLite in a temporary folder, and PostgreSQL (``BENCH_PG_URL``, default
postgresql://postgres@127.0.0.1:5432/postgres; a temporary database is created and
dropped). ``BENCH_ONLY=sqlite|postgres|checkin`` runs one (the check-in part: SQLite).

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


# -- check-in -> SMS handed to the gateway ----------------------------------------------------
CHECKIN_RATE = int(os.environ.get("BENCH_CHECKIN_RATE", "200"))
CHECKIN_SECONDS = float(os.environ.get("BENCH_CHECKIN_SECONDS", "10"))
CHECKIN_REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/8")
WAIT = float(os.environ.get("BENCH_CHECKIN_WAIT", "150"))  # for the last SMS: a lease out
SENDERS = 4  # threads issuing the check-ins on their schedule (the load is open-loop)


class Gateway:
    """A real local HTTP SMS gateway: answers 200 and keeps the arrival time of each
    message by its recipient's phone number."""

    def __init__(self):
        import json
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        self.arrived: dict[str, float] = {}
        self.lock = threading.Lock()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                at = time.perf_counter()
                try:
                    to = json.loads(body)["to"]
                except ValueError:
                    to = None
                with gateway.lock:
                    gateway.arrived.setdefault(to, at)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def _people_on_site(n: int):
    """A unit with an approved register (one point on the site's post), the site, and
    ``n`` officials holding that post, each with an account and a phone of their own."""
    from core.api import Department, Person, Post, PostHolding, Region
    from core.auth.models import User
    from core.auth.service import create_user
    from plugins.risk import register as reg
    from plugins.risk import reminders
    city = Region.create(code="510100", name="成都市", level="city")
    county = Region.create(code="510104", name="锦江区", level="district", parent=city)
    dept = Department.create(region=county, code="ZF", name="锦江区政务服务局")
    post = Post.create(department=dept, title="土地整治项目负责人", risk_level=3)
    office = create_user("bench_office", "Bench-passw0rd-long", role="supervisor",
                         region_code=county.code, must_change=False)
    copy = reg.open_working_copy(office, dept)
    point = reg.add_point(office, copy, {
        "post": post.id, "duty": "项目实施管理", "power_code": "", "criteria": "",
        "description": "在土地综合整治建设过程中随意改变规划设计、违规办理相关手续",
        "risk_type": "process", "likelihood": 4, "impact": 4,
        "reminder_text": "严禁在土地综合整治建设过程中随意改变规划设计和违规办理相关手续"})
    reg.add_measure(office, point, {"text": "规划设计变更须集体研究并报批", "deadline_days": 5})
    reg.submit(office, copy)
    reg.approve(create_user("bench_reviewer", "Bench-passw0rd-long", role="supervisor",
                            region_code=county.code, must_change=False), copy)
    reminders.save_site(office, {"department": dept.id, "code": "TZ-01",
                                 "name": "三圣乡土地整治项目", "latitude": "30.657",
                                 "longitude": "104.066", "radius_m": "300",
                                 "posts": [post.id]})
    phones = [f"139{i:08d}" for i in range(n)]
    Person.insert_many([{"name": f"官员{i}", "phone": p, "region": county.id}
                        for i, p in enumerate(phones)]).execute()
    people = {p.phone: p for p in Person.select().where(Person.phone.in_(phones))}
    PostHolding.insert_many([{"person": p.id, "post": post.id, "start": dt.date(2025, 1, 1)}
                             for p in people.values()]).execute()
    User.insert_many([{"username": f"official{i}", "person": people[p].id, "phone": p,
                       "password_hash": office.password_hash, "must_change_password": False}
                      for i, p in enumerate(phones)]).execute()
    users = dict(User.select(User.phone, User.id).where(User.phone.in_(phones)).tuples())
    return county, [(people[p], users[p]) for p in phones]


def _paced(app, items, work, rate: float) -> tuple[dict, float]:
    """Call ``work(item)`` for each item at its scheduled moment (``rate`` per second,
    spread over SENDERS threads); returns the start time of each call by phone and the
    achieved rate (calls ÷ time from the first scheduled moment to the last return)."""
    import threading

    from core.api import db
    started: dict[str, float] = {}
    t0 = time.perf_counter() + 0.2
    done = [t0]

    def sender(k: int):
        with app.app_context():
            db.connect(reuse_if_open=True)
            for i in range(k, len(items), SENDERS):
                delay = t0 + i / rate - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                started[items[i][0].phone] = time.perf_counter()
                work(items[i])
            done.append(time.perf_counter())
            db.close()
    threads = [threading.Thread(target=sender, args=(k,)) for k in range(SENDERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return started, len(items) / (max(done) - t0)


def _latencies(gateway: Gateway, started: dict, timeout: float = WAIT) -> list[float]:
    deadline = time.time() + timeout
    while time.time() < deadline and len(gateway.arrived) < len(started):
        time.sleep(0.2)
    with gateway.lock:
        lat = sorted(gateway.arrived[p] - s for p, s in started.items() if p in gateway.arrived)
        gateway.arrived.clear()
    return lat


def _pct(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, round(q * (len(values) - 1)))] if values else 0.0


def checkin_run(tmp: Path) -> dict:
    """CHECKIN_RATE check-ins per second for CHECKIN_SECONDS through the service the API and
    the phone page call (``reminders.check_in``: position checked, site found, reminder
    recorded, alert emitted, audited), each inside the radius, one per official; a real
    Huey worker (Redis) hands each SMS to a real local HTTP gateway. Baseline in the same
    run: the same alerts to the same officials emitted directly (``emit_many`` of one
    spec, no check-in), at the same rate, through the same worker and gateway."""
    import redis

    from core import calendar, migrate
    from core.api import AlertSpec, db, emit_many
    from core.app import create_app
    from core.auth.roles import sync_builtin_roles
    from core.plugins import host
    from core.queue import huey
    from plugins.risk import reminders
    from plugins.risk.kinds import REMINDER_KINDS
    from tests import workers
    from tests.conftest import TEST_DATA_KEY, TEST_SECRET
    client = redis.Redis.from_url(CHECKIN_REDIS)
    client.ping()
    client.flushdb()
    gateway = Gateway()
    n = int(CHECKIN_RATE * CHECKIN_SECONDS)
    settings = Settings(instance_path=tmp, database_url=os.environ.get(
                            "BENCH_CHECKIN_DB", f"sqlite:///{tmp / 'checkin.db'}"),
                        queue_url=CHECKIN_REDIS, secret_key=TEST_SECRET,
                        data_key=TEST_DATA_KEY, sms_gateway_url=gateway.url,
                        locale="en").resolved()
    app = create_app(settings, available_plugins={"risk": "plugins.risk"})
    out: dict = {"n": n}
    with app.app_context():
        db.connect(reuse_if_open=True)
        migrate.upgrade(host())
        calendar.ensure()
        sync_builtin_roles(host())
        with app.test_request_context("/"):
            county, officials = _people_on_site(n * 2)
        db.close()
    huey.immediate = False
    huey.configure(CHECKIN_REDIS)
    worker = workers.start_worker(settings, CHECKIN_REDIS, "-w", "8",  # the minute sweep on
                                  QL_SMS_GATEWAY_URL=gateway.url)
    try:
        time.sleep(3)  # the worker up
        kind = REMINDER_KINDS["site_arrival"]

        def direct(item):
            person, user = item
            with db.atomic():
                emit_many([AlertSpec(kind, county.id, "【三圣乡土地整治项目】严禁随意改变规划设计",
                                     target_user=user, ref=f"bench:{person.id}",
                                     dedupe_key=f"bench:{person.id}")])

        def check_in(item):
            row = reminders.check_in(item[0], "30.6571", "104.066", source="bench")
            assert row.inside

        # warm-up: the worker's connections and the code paths
        _paced(app, officials[:20], direct, CHECKIN_RATE)
        _latencies(gateway, {p.phone: 0 for p, _u in officials[:20]})
        started, out["base_rate"] = _paced(app, officials[20:n], direct, CHECKIN_RATE)
        out["base"] = _latencies(gateway, started)
        started, out["rate"] = _paced(app, officials[n:], check_in, CHECKIN_RATE)
        out["checkin"] = _latencies(gateway, started)
        out["sent"] = len(started)
        with app.app_context():
            from core.alerts.models import Notification
            out["states"] = dict(Notification.select(
                Notification.channel.concat("/").concat(Notification.state),
                pw.fn.COUNT(Notification.id)).group_by(Notification.channel,
                                                       Notification.state).tuples())
            db.close()
    finally:
        log = workers.stop(worker)
        gateway.close()
        huey.flush()
        huey.immediate = True
        client.flushdb()
    if os.environ.get("BENCH_WORKER_LOG"):
        Path(os.environ["BENCH_WORKER_LOG"]).write_text(log)
    return out


def checkin_report(r: dict) -> None:
    c, b = r["checkin"], r["base"]
    print("  notifications left (channel/state):", r.get("states"))
    kind = "PostgreSQL" if os.environ.get("BENCH_CHECKIN_DB", "").startswith("postgres") \
        else "SQLite"
    print(f"\ncheck-in -> SMS at the gateway ({kind}, Redis, one worker of 8 threads), "
          f"{CHECKIN_RATE}/s for {CHECKIN_SECONDS:g} s")
    print(f"  check-ins: {r['sent']:,} at {r['rate']:.0f}/s achieved, {len(c):,} SMS arrived; "
          f"p50 {_pct(c, .5) * 1000:.0f} ms, p99 {_pct(c, .99) * 1000:.0f} ms, "
          f"max {max(c, default=0) * 1000:.0f} ms; within 5 s: {sum(x <= 5 for x in c):,}")
    print(f"  baseline, the same alerts emitted directly: {len(b):,} at {r['base_rate']:.0f}/s "
          f"achieved; p50 {_pct(b, .5) * 1000:.0f} ms, p99 {_pct(b, .99) * 1000:.0f} ms")
    if b:
        print(f"  ratio check-in / direct: p50 {_pct(c, .5) / _pct(b, .5):.2f}x, "
              f"p99 {_pct(c, .99) / _pct(b, .99):.2f}x")


def main() -> None:
    only = os.environ.get("BENCH_ONLY", "")
    if only in ("", "checkin"):
        with tempfile.TemporaryDirectory() as tmp:
            checkin_report(checkin_run(Path(tmp)))
    if only == "checkin":
        return
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
