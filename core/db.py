"""The data layer: one peewee DatabaseProxy, bound to SQLite or PostgreSQL from a URL.

Connections are opened per request (and per job) and closed on teardown.
"""
from __future__ import annotations

import datetime as dt
from urllib.parse import unquote, urlparse

import peewee as pw
from peewee import DatabaseProxy

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


def make_database(url: str) -> pw.Database:
    """Build (not connect) the database for a ``sqlite:///path`` or ``postgresql://`` URL."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = unquote(parsed.path)
        if url.startswith("sqlite:////"):
            path = "/" + path.lstrip("/")
        elif path.startswith("/") and not url.startswith("sqlite:////"):
            path = path  # sqlite:///relative? urlparse keeps the leading slash
        if path in ("/:memory:", ":memory:"):
            path = ":memory:"
        return pw.SqliteDatabase(path, pragmas=SQLITE_PRAGMAS, timeout=10,
                                 check_same_thread=False)
    if parsed.scheme in ("postgres", "postgresql"):
        return pw.PostgresqlDatabase(
            unquote(parsed.path.lstrip("/")) or "postgres",
            user=unquote(parsed.username) if parsed.username else None,
            password=unquote(parsed.password) if parsed.password else None,
            host=parsed.hostname or None,
            port=parsed.port or None,
        )
    raise ValueError(f"unsupported database URL {url!r}")


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
