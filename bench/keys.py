"""Benchmark: key rotation (``keys rotate``) over 100,000 encrypted ID numbers.

Writes 100,000 resident ID numbers sealed under an AES-256-GCM key, adds an SM4-GCM key
and times the whole rotation the command runs (batches of 500: read, open, seal, write
only if unchanged, durable progress, lease renewal), then a second rotation back to a
new AES-256-GCM key. The baseline, in the same process on the same rows, is the plain
re-write a rotation cannot do without: the same batches of 500 read in primary-key order
and written back unchanged with the same conditional UPDATE, one transaction each.
Prints both times, the rows per second and the ratio, then reads every value back.

    python bench/keys.py                       # SQLite in a temporary folder
    QL_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/x python bench/keys.py
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

ROWS = int(os.environ.get("BENCH_ROWS", "100000"))
BATCH = 500


def resident_model():
    from core.api import BaseModel, EncryptedField

    class Resident(BaseModel):
        id_number = EncryptedField("bench.id_number")
        id_hash = pw.CharField(max_length=64, index=True)

        class Meta:
            table_name = "bench_resident"
    return Resident


def id_numbers(n: int) -> list[str]:
    from core.api import id_check_char
    rng = random.Random(7)
    out = []
    for _ in range(n):
        born = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randint(0, 25000))
        body = f"5101{rng.randint(0, 99):02d}{born:%Y%m%d}{rng.randint(0, 999):03d}"
        out.append(body + id_check_char(body))
    return out


def plain_rewrite(column) -> float:
    """The baseline: every row read and written back unchanged, batch by batch."""
    from core.db import db
    from core.pii.rotation import _update
    table, col, pk, p = column._sql()
    sql = f"SELECT {pk}, {col} FROM {table} WHERE {pk} > {p} ORDER BY {pk} LIMIT {BATCH}"
    start = time.perf_counter()
    last = 0
    while True:
        with db.atomic():
            rows = db.execute_sql(sql, [last]).fetchall()
            if not rows:
                break
            _update(column, [(i, token, token) for i, token in rows])
            last = rows[-1][0]
    return time.perf_counter() - start


def run(database_url: str, instance: Path) -> None:
    from core import migrate
    from core.app import create_app
    from core.db import db
    from core.pii import crypto
    from core.pii.rotation import encrypted_columns, rotate
    from core.plugins import host

    settings = Settings(instance_path=instance, database_url=database_url,
                        queue_url="memory://", secret_key="bench-" + "x" * 32,
                        locale="en").resolved()
    app = create_app(settings, available_plugins={})
    with app.app_context():
        db.connect(reuse_if_open=True)
        migrate.upgrade(host())
        resident = resident_model()
        db.create_tables([resident])
        numbers = id_numbers(ROWS)
        start = time.perf_counter()
        with db.atomic():
            for i in range(0, ROWS, 1000):
                resident.insert_many([{"id_number": n, "id_hash": crypto.blind_index(
                    n, "bench.id_number")} for n in numbers[i:i + 1000]]).execute()
        written = time.perf_counter() - start
        kind = "PostgreSQL" if database_url.startswith("postgres") else "SQLite"
        print(f"backend: {kind}; load average {os.getloadavg()[0]:.1f} on "
              f"{os.cpu_count()} CPU(s)")
        print(f"{ROWS} ID numbers sealed (AES-256-GCM) and inserted in {written:.2f} s")
        column = encrypted_columns([resident])[0]
        plain_rewrite(column)  # warm-up: pages in cache, statements prepared
        baseline = plain_rewrite(column)
        print(f"baseline, plain re-write in batches of {BATCH}: {baseline:.2f} s "
              f"({ROWS / baseline:,.0f} rows/s)")
        for key_id, cipher, secret in (("2", "sm4-gcm", os.urandom(16)),
                                       ("3", "aes-256-gcm", os.urandom(32))):
            before = crypto.key_ring(reload=True).primary
            with open(settings.key_ring_file, "a") as fh:
                fh.write(f"{key_id}:{cipher}:{secret.hex()}\n")
            start, cpu = time.perf_counter(), time.process_time()
            outcome = rotate([resident], batch_size=BATCH)
            took, cpu = time.perf_counter() - start, time.process_time() - cpu
            assert outcome.rewritten == ROWS and not outcome.remaining, outcome
            print(f"keys rotate to key {key_id} ({cipher}): {took:.2f} s "
                  f"({ROWS / took:,.0f} rows/s, CPU {cpu:.2f} s); "
                  f"ratio to the plain re-write: {took / baseline:.2f}x "
                  f"(from {before.cipher})")
        start = time.perf_counter()
        readable = sum(1 for r, n in zip(resident.select().order_by(resident.id), numbers)
                       if r.id_number == n)
        print(f"read back: {readable}/{ROWS} values readable in "
              f"{time.perf_counter() - start:.2f} s")
        assert readable == ROWS
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
