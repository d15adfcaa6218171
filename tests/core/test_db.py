"""SQLite writers queue on a file lock across processes (core.db.WriterQueue)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import peewee as pw
import pytest

from core.db import QueuedSqliteDatabase, make_database

ROOT = Path(__file__).resolve().parents[2]

# Another process: takes the write lock through the same class, says so, holds it.
HOLDER = textwrap.dedent("""
    import sys, time
    from core.db import make_database
    db = make_database("sqlite:///" + sys.argv[1], pooled=False)
    db.connect()
    with db.atomic():
        db.execute_sql("INSERT INTO t (who) VALUES ('holder')")
        print("holding", flush=True)
        time.sleep(float(sys.argv[2]))
    print("done", flush=True)
""")


@pytest.fixture
def path(tmp_path):
    file = tmp_path / "q.db"
    db = make_database(f"sqlite:///{file}", pooled=False)
    db.connect()
    db.execute_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, who TEXT, at REAL)")
    db.close()
    return file


def holder(path: Path, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(path), str(seconds)],
                            stdout=subprocess.PIPE, text=True, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.stdout.readline().strip() == "holding"
    return proc


def writer(path: Path) -> QueuedSqliteDatabase:
    db = make_database(f"sqlite:///{path}", pooled=False)
    assert isinstance(db, QueuedSqliteDatabase)
    db.connect()
    return db


def test_a_writer_waits_for_another_process_and_then_writes(path):
    proc = holder(path, 0.6)
    db = writer(path)
    started = time.monotonic()
    with db.atomic():
        db.execute_sql("INSERT INTO t (who) VALUES ('second')")
    waited = time.monotonic() - started
    assert proc.wait(timeout=10) == 0
    rows = [r[0] for r in db.execute_sql("SELECT who FROM t ORDER BY id").fetchall()]
    assert rows == ["holder", "second"]  # the second came after the holder's commit
    assert waited >= 0.3


def test_a_writer_gives_up_after_the_busy_timeout_and_writes_nothing(path):
    proc = holder(path, 3)
    db = writer(path)
    db._writer_timeout = 0.3
    with pytest.raises(pw.OperationalError, match="database is locked"), db.atomic():
        db.execute_sql("INSERT INTO t (who) VALUES ('late')")
    assert db.transaction_depth() == 0
    proc.kill()
    proc.wait()
    with db.atomic():  # the lock is free again
        db.execute_sql("INSERT INTO t (who) VALUES ('after')")
    assert [r[0] for r in db.execute_sql("SELECT who FROM t").fetchall()] == ["after"]


def test_a_killed_holder_releases_the_lock(path):
    proc = holder(path, 30)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    db = writer(path)
    db._writer_timeout = 2
    started = time.monotonic()
    with db.atomic():
        db.execute_sql("INSERT INTO t (who) VALUES ('next')")
    assert time.monotonic() - started < 1.5
    assert [r[0] for r in db.execute_sql("SELECT who FROM t").fetchall()] == ["next"]


def test_rollback_releases_the_lock_for_other_threads(path):
    import threading
    first = writer(path)
    with pytest.raises(RuntimeError), first.atomic():
        first.execute_sql("INSERT INTO t (who) VALUES ('rolled back')")
        raise RuntimeError("boom")
    done = threading.Event()

    def other():
        db = writer(path)
        db._writer_timeout = 2
        with db.atomic():
            db.execute_sql("INSERT INTO t (who) VALUES ('thread')")
        done.set()
    t = threading.Thread(target=other)
    t.start()
    t.join(5)
    assert done.is_set()
    assert [r[0] for r in first.execute_sql("SELECT who FROM t").fetchall()] == ["thread"]
