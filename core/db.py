"""The data layer: one peewee DatabaseProxy, bound to SQLite or PostgreSQL from a URL.

Connections are opened per request (and per job) and closed on teardown.
"""
from __future__ import annotations

import datetime as dt
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
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class BaseModel(pw.Model):
    """Base of every model of the core and the plugins."""

    class Meta:
        database = db
        legacy_table_names = False


POOL = {"max_connections": 64, "stale_timeout": 300, "timeout": 10}


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
        cls = PooledSqliteDatabase if pooled else pw.SqliteDatabase
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
        import os
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
