"""Benchmark: procurement's red-flag pass, auction bidding and the OCDS bulk export.

Generates BENCH_PROCESSES (default 100,000) finished contracting processes over 20
districts and 600 buying units — each with 3–5 opened bids (a few disqualified), an award
and two OCDS releases — then in the same run on the same rows:

* the red-flag pass (``rules.full_pass``: the facts of every process in one temporary
  table, all 13 rules, the new flags with their alerts and events) ÷ one raw SQL pass over
  the same rows (a single SELECT joining processes, bids and awards, aggregated); the
  first pass raises the flags, the second (the nightly steady state) raises none; the
  phases printed are facts, rules and raise, and within raise the core's ``emit_many``
  and the flags' events (``publish``);
* online-auction bids per second with 8 concurrent bidders (each a thread with its own
  connection; every bid locked, decided, logged and audited) ÷ bare single-row inserts of
  the same rows from 8 threads;
* the OCDS bulk export (record package, streamed) of 10,000 and of every process: seconds
  and peak Python memory (tracemalloc) — the peak must not grow with the processes.

SQLite in a temporary folder, and PostgreSQL (``BENCH_PG_URL``, default
postgresql://postgres@127.0.0.1:5432/postgres; a temporary database is created and
dropped). ``BENCH_ONLY=sqlite|postgres`` runs one.

    python bench/procurement.py
"""
from __future__ import annotations

import datetime as dt
import json
import os
import random
import sys
import tempfile
import threading
import time
import tracemalloc
import uuid
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse, urlunparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import peewee as pw

from core.settings import Settings

PROCESSES = int(os.environ.get("BENCH_PROCESSES", "100000"))
BIDS_PER_THREAD = int(os.environ.get("BENCH_AUCTION_BIDS", "250"))
PARTS = set(os.environ.get("BENCH_PARTS", "flags,auction,export").split(","))
REGIONS, DEPTS = 20, 30
METHODS = ("open_tender", "invited_tender", "negotiation", "consultation", "inquiry",
           "framework")


def _timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def _bulk(model, rows, size=2000):
    from core.api import db
    with db.atomic():
        for i in range(0, len(rows), size):
            model.insert_many(rows[i:i + size]).execute()


def generate(n: int) -> None:
    from core.api import Department, Region, db
    from plugins.procurement import ocds
    from plugins.procurement.models import Award, Bid, Project, Release, Supplier
    rng = random.Random(7)
    city = Region.create(code="510100", name="成都市", level="city")
    depts = []
    for r in range(REGIONS):
        region = Region.create(code=f"5101{r + 10:02d}", name=f"区县{r + 1}", level="district",
                               parent=city, sort=r)
        Department.create(region=region, code="JW", name=f"区县{r + 1}纪委监委",
                          is_supervision_office=True)
        for d in range(DEPTS):
            depts.append((region.id, Department.create(region=region, code=f"D{d:02d}",
                                                       name=f"单位{r}-{d}").id))
    _bulk(Supplier, [{"user_id": 10_000 + i, "name": f"供应商{i}", "uscc": f"9151010000B{i:07d}"}
                     for i in range(400)])
    suppliers = [s for (s,) in Supplier.select(Supplier.id).tuples()]
    now = dt.datetime(2026, 3, 1)
    prefix = ocds.prefix()
    projects, start = [], Project.select(pw.fn.MAX(Project.id)).scalar() or 0
    for i in range(n):
        region_id, dept_id = depts[i % len(depts)]
        when = now - dt.timedelta(days=rng.randint(1, 360))
        budget = Decimal(rng.choice((180000, 320000, 560000, 860000, 1250000, 1900000)))
        number = f"CG-B-{i:07d}"
        projects.append({
            "region": region_id, "department": dept_id, "number": number,
            "ocid": f"{prefix}-{number}", "title": f"项目{i}", "category": "goods",
            "classification": f"A0{rng.randint(1, 9)}0{rng.randint(10, 99)}",
            "method": METHODS[i % len(METHODS)], "budget": budget, "ceiling": budget,
            "status": "awarded", "opening_state": "opened",
            "docs_issued_at": when - dt.timedelta(days=rng.choice((10, 20, 21, 25, 30))),
            "deadline": when, "release_seq": 2, "created_at": when})
    _bulk(Project, projects)
    ids = [pid for (pid,) in Project.select(Project.id).where(Project.id > start)
           .order_by(Project.id).tuples()]
    bids, awards, releases = [], [], []
    template = None
    for pid, p in zip(ids, projects, strict=True):
        chosen = rng.sample(suppliers, rng.randint(3, 5))
        prices = [(p["ceiling"] * Decimal(rng.uniform(0.8, 0.99))).quantize(Decimal(1))
                  for _ in chosen]
        for s, price in zip(chosen, prices, strict=True):
            bids.append({"project": pid, "supplier": s, "status": "disqualified"
                         if rng.random() < 0.05 else "valid", "sealed": b"", "receipt": "",
                         "price": price, "submitted_at": p["deadline"]})
        best = min(range(len(prices)), key=prices.__getitem__)
        awards.append({"project": pid, "supplier": chosen[best], "amount": prices[best],
                       "status": "active", "fixed_at": p["deadline"]})
        if template is None:
            template = _template(p)
        for seq, tag in ((1, "tender"), (2, "award")):
            data = template.replace("@@OCID@@", p["ocid"]).replace("@@SEQ@@", f"{seq:04d}") \
                .replace("@@TAG@@", tag).replace("@@NUMBER@@", p["number"])
            releases.append({"project": pid, "seq": seq, "release_id": f"{p['ocid']}-{seq:04d}",
                             "tag": tag, "date": p["deadline"], "data": data})
        if len(releases) >= 20000:
            _bulk(Bid, bids)
            _bulk(Award, awards)
            _bulk(Release, releases, 500)
            bids, awards, releases = [], [], []
    _bulk(Bid, bids)
    _bulk(Award, awards)
    _bulk(Release, releases, 500)
    db.execute_sql("ANALYZE")


def _template(p) -> str:
    """A release of the bench's shape (about 1.8 KB) with placeholders."""
    from plugins.procurement.ocds import BIDS_EXTENSION  # noqa: F401 - the same extension
    release = {
        "ocid": "@@OCID@@", "id": "@@OCID@@-@@SEQ@@", "date": "2026-03-01T00:00:00Z",
        "tag": ["@@TAG@@"], "initiationType": "tender", "language": "zh",
        "buyer": {"id": "CN-QL-DEPT-1", "name": "单位"},
        "planning": {"budget": {"amount": {"amount": float(p["budget"]), "currency": "CNY"}}},
        "tender": {"id": "@@NUMBER@@", "title": p["title"], "status": "complete",
                   "procuringEntity": {"id": "CN-QL-DEPT-1", "name": "单位"},
                   "items": [{"id": "1", "description": "办公家具",
                              "classification": {"scheme": "CN-ZFCGPM", "id": "A06010101"}}],
                   "value": {"amount": float(p["ceiling"]), "currency": "CNY"},
                   "procurementMethod": "open", "procurementMethodDetails": "公开招标",
                   "mainProcurementCategory": "goods", "awardCriteria": "ratedCriteria",
                   "submissionMethod": ["electronicSubmission"],
                   "tenderPeriod": {"startDate": "2026-02-01T00:00:00Z",
                                    "endDate": "2026-03-01T00:00:00Z"}},
        "bids": {"statistics": [{"id": "bids", "measure": "bids", "value": 3}],
                 "details": [{"id": str(n), "status": "valid",
                              "value": {"amount": 100000.0 + n, "currency": "CNY"},
                              "tenderers": [{"id": f"CN-USCC-S{n}", "name": f"供应商{n}"}]}
                             for n in range(3)]},
        "awards": [{"id": "1", "status": "active", "date": "2026-03-02T00:00:00Z",
                    "value": {"amount": 100000.0, "currency": "CNY"},
                    "suppliers": [{"id": "CN-USCC-S0", "name": "供应商0"}]}],
        "parties": [{"id": "CN-QL-DEPT-1", "name": "单位", "roles": ["buyer", "procuringEntity"]}]
        + [{"id": f"CN-USCC-S{n}", "name": f"供应商{n}", "roles": ["tenderer"]} for n in range(3)],
    }
    return json.dumps(release, ensure_ascii=False, separators=(",", ":"))


RAW = """SELECT COUNT(*), SUM(b.price), COUNT(DISTINCT b.supplier_id), MIN(a.amount)
FROM procurement_project p
LEFT JOIN procurement_bid b ON b.project_id = p.id
LEFT JOIN procurement_award a ON a.project_id = p.id"""


def raw_pass() -> tuple:
    from core.api import db
    return db.execute_sql(RAW).fetchone()


def flag_pass():
    """``rules.full_pass``, with the time spent in the core's ``emit_many`` and in
    ``publish`` (the flags' events) added to its phases: both are inside "raise"."""
    from plugins.procurement import rules
    spent = {"emit_many": 0.0, "events": 0.0}

    def timed(name, fn):
        def call(*args, **kwargs):
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - start
        return call
    plain = rules.emit_many, rules.publish
    rules.emit_many, rules.publish = timed("emit_many", plain[0]), timed("events", plain[1])
    try:
        result = rules.full_pass()
    finally:
        rules.emit_many, rules.publish = plain
    result.seconds.update({f"(raise: {k})": v for k, v in spent.items()})
    return result


def auction_run(app, threads: int = 8) -> dict:
    """8 bidders, each ``BIDS_PER_THREAD`` bids on one auction, and the same number of bare
    inserts of log rows; both from 8 threads with their own connections."""
    from core.api import db, utcnow
    from plugins.procurement import auction as engine
    from plugins.procurement.models import (
        Auction,
        AuctionBid,
        AuctionParticipant,
        Project,
        Supplier,
    )
    project = Project.select().first()
    now = utcnow()
    auc = Auction.create(project=project, ceiling=Decimal(900000000), step=Decimal(1),
                         starts_at=now - dt.timedelta(minutes=1),
                         planned_end=now + dt.timedelta(hours=2),
                         ends_at=now + dt.timedelta(hours=2))
    sups = list(Supplier.select().limit(threads))
    parts = [AuctionParticipant.create(auction=auc, supplier=s, alias="ABCDEFGH"[i])
             for i, s in enumerate(sups)]

    def bidder(n, out):
        with app.app_context(), db.connection_context():
            for _ in range(BIDS_PER_THREAD):
                best = Auction.get_by_id(auc.id).best_price or auc.ceiling
                out.append(engine.place_bid(sups[n], auc.id, best - 1).accepted)

    accepted: list = []
    start = time.perf_counter()
    pool = [threading.Thread(target=bidder, args=(n, accepted)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    bid_seconds = time.perf_counter() - start
    rows = list(AuctionBid.select().where(AuctionBid.auction == auc.id).dicts())
    counter = iter(range(10_000_000, 20_000_000))
    lock = threading.Lock()

    def inserter(chunk):
        with app.app_context(), db.connection_context():
            for row in chunk:
                with lock:
                    seq = next(counter)
                with db.atomic():
                    AuctionBid.insert(auction=row["auction"], participant=row["participant"],
                                      seq=seq, price=row["price"], decided_at=row["decided_at"],
                                      accepted=row["accepted"], reason=row["reason"],
                                      ends_at=row["ends_at"]).execute()

    chunks = [rows[i::threads] for i in range(threads)]
    start = time.perf_counter()
    pool = [threading.Thread(target=inserter, args=(c,)) for c in chunks]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    insert_seconds = time.perf_counter() - start
    del parts
    return {"bids": len(rows), "accepted": sum(accepted), "bid_s": bid_seconds,
            "insert_s": insert_seconds}


def export(limit: int | None) -> tuple[float, int, int]:
    """Seconds, bytes written and peak traced memory of the streamed record package."""
    from plugins.procurement import ocds
    from plugins.procurement.models import Project
    ids = Project.select(Project.id)
    if limit is not None:
        top = (Project.select(Project.id).order_by(Project.id).limit(1).offset(limit - 1)
               .scalar())
        ids = ids.where(Project.id <= top)
    def write() -> int:
        size = 0
        with tempfile.TemporaryFile("w+", encoding="utf-8") as fh:
            for piece in ocds.stream_bulk("https://example.invalid/ocds/records.json",
                                          "record", ids):
                fh.write(piece)
                size += len(piece)
        return size
    seconds, size = _timed(write)
    tracemalloc.start()  # a second run, traced: tracing slows Python down several times
    write()
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return seconds, size, peak


def run(database_url: str, instance: Path) -> dict:
    from core import calendar, migrate
    from core.api import db
    from core.app import create_app
    from core.auth.roles import sync_builtin_roles
    from core.plugins import host
    settings = Settings(instance_path=instance, database_url=database_url,
                        queue_url="memory://", secret_key="bench-" + "x" * 32,
                        locale="en").resolved()
    app = create_app(settings, available_plugins={"procurement": "plugins.procurement"})
    out: dict = {"kind": "PostgreSQL" if database_url.startswith("postgres") else "SQLite"}
    with app.app_context(), app.test_request_context("/"):
        db.connect(reuse_if_open=True)
        migrate.upgrade(host())
        calendar.ensure()
        sync_builtin_roles(host())
        out["generate"], _ = _timed(generate, PROCESSES)
        raw_pass()
        out["raw1"], _ = _timed(raw_pass)
        out["pass1"], first = _timed(flag_pass)
        out["new1"], out["hits1"], out["phases1"] = len(first.new), first.rows, first.seconds
        out["raw2"], _ = _timed(raw_pass)
        out["pass2"], second = _timed(flag_pass)
        out["new2"], out["hits2"], out["phases2"] = len(second.new), second.rows, \
            second.seconds
        out["raw3"], _ = _timed(raw_pass)
        if "auction" in PARTS:
            out["auction"] = auction_run(app)
        if "export" in PARTS:
            out["export_small"] = export(min(10_000, PROCESSES))
            out["export_all"] = export(None)
    if not db.is_closed():
        db.close()
    return out


def _phases(seconds: dict, base: float) -> str:
    return ", ".join(f"{name} {value:.2f} s = {value / base:.1f}x"
                     for name, value in seconds.items())


def report(r: dict) -> None:
    base = (r["raw1"] + r["raw2"] + r["raw3"]) / 3
    print(f"\n{r['kind']}: {PROCESSES:,} processes (generated in {r['generate']:.0f} s)")
    print(f"  raw SQL pass over the same rows: {base * 1000:.0f} ms")
    print(f"  red-flag pass, whole job, first night ({r['hits1']:,} hits, {r['new1']:,} new "
          f"flags with their alerts and events): {r['pass1']:.2f} s -> {r['pass1'] / base:.2f}x"
          f" (target <= 3x)  [{_phases(r['phases1'], base)}]")
    print(f"  red-flag pass, whole job, nightly steady state ({r['hits2']:,} hits not "
          f"flagged yet, "
          f"{r['new2']} new): {r['pass2']:.2f} s -> {r['pass2'] / base:.2f}x (target <= 3x)  "
          f"[{_phases(r['phases2'], base)}]")
    if "auction" not in r:
        return
    a = r["auction"]
    bids_ps, ins_ps = a["bids"] / a["bid_s"], a["bids"] / a["insert_s"]
    print(f"  auction, 8 concurrent bidders: {a['bids']:,} bids ({a['accepted']:,} accepted) "
          f"in {a['bid_s']:.2f} s = {bids_ps:,.0f} bids/s; bare inserts of the same rows "
          f"from 8 threads {ins_ps:,.0f}/s -> bids/s ÷ inserts/s = {bids_ps / ins_ps:.2f}")
    if "export_all" not in r:
        return
    for label, (seconds, size, peak) in (("10,000 processes", r["export_small"]),
                                         (f"{PROCESSES:,} processes", r["export_all"])):
        print(f"  OCDS bulk export (record package) of {label}: {seconds:.1f} s, "
              f"{size / 1e6:.0f} MB written, peak Python memory {peak / 1e6:.1f} MB")


def main() -> None:
    if any(a in ("-h", "--help") for a in sys.argv[1:]):
        print(__doc__.strip() + "\n\nSizes: BENCH_PROCESSES (default 100000), BENCH_AUCTION_BIDS"
              " (bids per bidder thread, default 250); BENCH_ONLY=sqlite|postgres; "
              "BENCH_PARTS (default flags,auction,export: auction and export may be left "
              "out; the red-flag pass always runs); BENCH_PG_URL.")
        return
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
        name = f"ql_bench_pc_{uuid.uuid4().hex[:8]}"
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
