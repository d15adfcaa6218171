"""The data layer: one peewee DatabaseProxy, bound to SQLite or PostgreSQL from a URL.

Connections are opened per request (and per job) and closed on teardown.
"""
from __future__ import annotations

import datetime as dt
import fcntl
import os
import threading
import time
from urllib.parse import unquote, urlparse

import peewee as pw
from peewee import DatabaseProxy
from playhouse.pool import PooledPostgresqlDatabase, PooledSqliteDatabase

db = DatabaseProxy()

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "busy_timeout": 10000,
    "foreign_keys": 1,
    "synchronous": "normal",
    "cache_size": -32000,
}


def utcnow() -> dt.datetime:
    """Naive UTC timestamp: every stored time is UTC; pages convert to QL_TIMEZONE."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class BaseModel(pw.Model):
    """Base of every model of the core and the plugins."""

    class Meta:
        database = db
        legacy_table_names = False


POOL = {"max_connections": 64, "stale_timeout": 300, "timeout": 10}


class WriterQueue:
    """Writers to one SQLite file wait their turn on a file lock (``<file>-writer``).

    Every transaction here begins IMMEDIATE, taking SQLite's write lock. A writer that
    finds it taken is put to sleep by SQLite's busy handler for 1, 2, 5, 10 … ms at a time,
    although a web request holds the lock for a tenth of a millisecond: with several web
    processes and a worker, that sleeping costs more than the writing. So a transaction
    first takes an exclusive ``flock`` on a side file, waiting in steps of tens of
    microseconds, and releases it when it commits or rolls back. The lock belongs to the
    thread's open file (each thread has its own), so it also orders threads of one process,
    and the kernel drops it when a process dies. After ``busy_timeout`` it gives up with
    "database is locked", as SQLite would."""

    _writer_path: str
    _writer_timeout: float
    _writer_local: threading.local

    def _init_writer_queue(self, path: str, timeout_ms: int) -> None:
        self._writer_path = path + "-writer"
        self._writer_timeout = timeout_ms / 1000
        self._writer_local = threading.local()

    def _writer_file(self):
        fh = getattr(self._writer_local, "fh", None)
        if fh is None:
            fh = self._writer_local.fh = open(self._writer_path, "a+b")  # noqa: SIM115
        return fh

    def _take_writer_lock(self) -> None:
        fd = self._writer_file().fileno()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        deadline = time.monotonic() + self._writer_timeout
        pause = 0.00002
        while True:
            time.sleep(pause)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise pw.OperationalError("database is locked") from None
                pause = min(pause * 2, 0.0005)

    def _drop_writer_lock(self) -> None:
        fh = getattr(self._writer_local, "fh", None)
        if fh is not None:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    def begin(self, lock_type=None):
        self._take_writer_lock()
        try:
            super().begin(lock_type)
        except BaseException:
            self._drop_writer_lock()
            raise

    def commit(self):
        try:
            super().commit()
        finally:
            self._drop_writer_lock()

    def rollback(self):
        try:
            super().rollback()
        finally:
            self._drop_writer_lock()


class QueuedSqliteDatabase(WriterQueue, pw.SqliteDatabase):
    """SQLite with writers queued on a file lock (see WriterQueue)."""

    def __init__(self, database, *args, **kwargs):
        super().__init__(database, *args, **kwargs)
        self._init_writer_queue(database, SQLITE_PRAGMAS["busy_timeout"])


class QueuedPooledSqliteDatabase(WriterQueue, PooledSqliteDatabase):
    """Pooled SQLite with writers queued on a file lock (see WriterQueue)."""

    def __init__(self, database, *args, **kwargs):
        super().__init__(database, *args, **kwargs)
        self._init_writer_queue(database, SQLITE_PRAGMAS["busy_timeout"])


def make_database(url: str, pooled: bool = True) -> pw.Database:
    """Build (not connect) the database for a ``sqlite:////abs/path`` or
    ``postgresql://user@host:port/db`` URL.

    Connections come from a pool: a request's "close" returns its connection, so a web
    process does not pay for connecting (and, on SQLite, for the WAL checkpoint that the
    last connection's close runs) on every request."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = unquote(parsed.path)
        if path in ("/:memory:", ":memory:"):
            path, pooled = ":memory:", False
        if path == ":memory:":
            cls = pw.SqliteDatabase
        else:
            cls = QueuedPooledSqliteDatabase if pooled else QueuedSqliteDatabase
        extra = POOL if pooled else {}
        # BEGIN IMMEDIATE: a transaction takes the write lock when it starts, so two
        # processes never deadlock upgrading read locks ("database is locked" at once,
        # despite busy_timeout); they queue on the lock instead.
        return cls(path, pragmas=SQLITE_PRAGMAS, check_same_thread=False,
                   lock_type="IMMEDIATE", **extra)
    if parsed.scheme in ("postgres", "postgresql"):
        cls = PooledPostgresqlDatabase if pooled else pw.PostgresqlDatabase
        extra = POOL if pooled else {}
        return cls(
            unquote(parsed.path.lstrip("/")) or "postgres",
            user=unquote(parsed.username) if parsed.username else None,
            password=unquote(parsed.password) if parsed.password else None,
            host=parsed.hostname or None,
            port=parsed.port or None,
            **extra,
        )
    raise ValueError(f"unsupported database URL {url!r}")


def release_all() -> None:
    """Close every pooled connection (before copying a SQLite file, or at exit)."""
    obj = db.obj
    if obj is None:
        return
    if not obj.is_closed():
        obj.close()
    if hasattr(obj, "close_all"):
        obj.close_all()


def init_db(url: str) -> pw.Database:
    """Bind the proxy to the database at ``url`` and return it."""
    database = make_database(url)
    if isinstance(database, pw.SqliteDatabase) and database.database != ":memory:":
        os.makedirs(os.path.dirname(os.path.abspath(database.database)), exist_ok=True)
    db.initialize(database)
    return database


def is_postgres() -> bool:
    return isinstance(db.obj, pw.PostgresqlDatabase)


def init_app(app) -> None:
    """One connection per request, closed on teardown."""

    @app.before_request
    def _open():
        db.connect(reuse_if_open=True)

    @app.teardown_request
    def _close(exc):
        if not db.is_closed():
            db.close()
