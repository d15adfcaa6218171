"""Benchmark: the cost of auditing on the write path.

Creates 10,000 people through the organisation service (core.org.services.create_person:
one transaction each, inside a request context with a logged-in user, as a view calls it),
once recording its audit event in the same transaction and once with the audit call
swapped for a no-op, interleaved in batches of 100 so both runs see the
same machine. Prints both times and the ratio (target: at most 1.3x) as wall time, CPU
time and the median of the paired batches (robust when other work shares the machine),
then the time the sealing job and ``audit verify`` take for the events written.

    python bench/audit.py                       # SQLite in a temporary folder
    QL_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/x python bench/audit.py
"""
from __future__ import annotations

import os
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

RECORDS = int(os.environ.get("BENCH_RECORDS", "10000"))
BATCH = 100


def create_person(actor, region, name: str, phone: str, audit: bool):
    """The real service-layer write (core.org.services.create_person: scope check,
    validation, insert, audit event in the same transaction). For the "off" run the
    service's ``record`` is swapped for a no-op, so the only difference is the audit."""
    from core.org import services
    services.record = _RECORD if audit else _no_record
    return services.create_person(actor, {"region_id": region.id, "name": name,
                                          "phone": phone})


def _no_record(*_args, **_kwargs):
    return None


from core.audit.service import record as _RECORD


def run(database_url: str, instance: Path) -> None:
    from flask import g

    from core import migrate
    from core.app import create_app
    from core.audit import seal as sealing
    from core.auth.models import Grant, Role, RolePermission, User
    from core.db import db
    from core.org.models import Region
    from core.plugins import host

    settings = Settings(instance_path=instance, database_url=database_url,
                        queue_url="memory://", secret_key="bench-" + "x" * 32,
                        locale="en").resolved()
    app = create_app(settings, available_plugins={})
    with app.app_context():
        db.connect(reuse_if_open=True)
        migrate.upgrade(host())
        region = Region.create(code="510100", name="成都市", level="city")
        user = User.create(username="bench", password_hash="-")
        role = Role.create(code="bench_role", label="bench")
        RolePermission.create(role=role, permission="core.org.manage")
        Grant.create(user=user, role=role, region=region)
        with app.test_request_context("/people/new", method="POST",
                                      headers={"User-Agent": "bench/1.0"},
                                      environ_base={"REMOTE_ADDR": "10.0.0.8"}):
            g.ql_user, g.ql_region, g.ql_roles = user, region, {"bench_role"}
            for i in range(200):  # warm-up: caches, statements, file growth
                create_person(user, region, f"warm {i}", "13800000000", i % 2 == 0)
            wall = {True: 0.0, False: 0.0}
            cpu = {True: 0.0, False: 0.0}
            pairs = []
            for batch in range(RECORDS // BATCH):
                pair = {}
                for audit in ((True, False) if batch % 2 == 0 else (False, True)):
                    start, start_cpu = time.perf_counter(), time.process_time()
                    for i in range(BATCH):
                        create_person(user, region, f"人员{batch}-{i}", "13800000000", audit)
                    pair[audit] = time.perf_counter() - start
                    wall[audit] += pair[audit]
                    cpu[audit] += time.process_time() - start_cpu
                pairs.append(pair[True] / pair[False])
        kind = "PostgreSQL" if database_url.startswith("postgres") else "SQLite"
        print(f"backend: {kind}; load average {os.getloadavg()[0]:.1f} on "
              f"{os.cpu_count()} CPU(s)")
        print(f"{RECORDS} people, auditing off: {wall[False]:.2f} s "
              f"({RECORDS / wall[False]:.0f}/s), CPU {cpu[False]:.2f} s")
        print(f"{RECORDS} people, auditing on:  {wall[True]:.2f} s "
              f"({RECORDS / wall[True]:.0f}/s), CPU {cpu[True]:.2f} s")
        print(f"ratio on/off: {wall[True] / wall[False]:.2f}x wall, "
              f"{cpu[True] / cpu[False]:.2f}x CPU, "
              f"{statistics.median(pairs):.2f}x median of {len(pairs)} paired batches "
              f"(target <= 1.3x)")
        start = time.perf_counter()
        result = sealing.seal(lag_seconds=0)
        print(f"seal: {result.events} events into {len(result.blocks)} blocks in "
              f"{time.perf_counter() - start:.2f} s")
        start = time.perf_counter()
        check = sealing.verify()
        print(f"verify: {'intact' if check.ok else 'BROKEN'}, {check.events} events in "
              f"{time.perf_counter() - start:.2f} s")
        db.close()


def main() -> None:
    base = os.environ.get("QL_DATABASE_URL", "")
    with tempfile.TemporaryDirectory(prefix="ql-bench-") as tmp:
        instance = Path(tmp)
        if not base.startswith(("postgres://", "postgresql://")):
            run(f"sqlite:///{instance / 'bench.db'}", instance)
            return
        parsed = urlparse(base)
        admin = pw.PostgresqlDatabase("postgres", user=parsed.username,
                                      password=parsed.password, host=parsed.hostname,
                                      port=parsed.port)
        name = f"ql_bench_{uuid.uuid4().hex[:8]}"
        admin.execute_sql(f'CREATE DATABASE "{name}"')
        try:
            run(urlunparse(parsed._replace(path="/" + name)), instance)
        finally:
            from core.db import db
            if not db.is_closed():
                db.close()
            admin.execute_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.close()


if __name__ == "__main__":
    main()
