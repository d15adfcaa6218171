"""Rate limits (限流) for public endpoints and login, counted in the database.

A limit is a number of hits per key (a client address, a serial number, an account) in a
fixed window of ``per_seconds``. The counters are rows of ``rate_counter`` upserted with
``RETURNING`` in one statement, so every web process behind a load balancer agrees and a
restart forgets nothing; old windows are purged by the core's hourly job.

The client address is the one Werkzeug's ProxyFix reads from ``X-Forwarded-For`` when
QL_TRUSTED_PROXIES names how many proxies stand in front of the app (else the socket's
peer): without it, every citizen behind the load balancer would share one bucket.
"""
from __future__ import annotations

import datetime as dt

import peewee as pw

from core.db import BaseModel, db, utcnow
from core.i18n import _

KEY_MAX = 128


class RateCounter(BaseModel):
    """Hits of one key of one bucket in one window (its start, naive UTC)."""

    bucket = pw.CharField(max_length=64)
    key = pw.CharField(max_length=KEY_MAX)
    window = pw.DateTimeField()
    count = pw.IntegerField(default=0)

    class Meta:
        table_name = "rate_counter"
        indexes = ((("bucket", "key", "window"), True),)


class RateLimited(Exception):
    """Too many hits; ``retry_after`` seconds until the window ends. Answered 429."""

    status = 429

    def __init__(self, message, retry_after: int):
        self.message = str(message)
        self.retry_after = max(1, int(retry_after))
        super().__init__(self.message)


def window_start(per_seconds: int, now: dt.datetime | None = None) -> dt.datetime:
    """The start of the fixed window of ``per_seconds`` that ``now`` falls in."""
    now = now or utcnow()
    epoch = int(now.replace(tzinfo=dt.UTC).timestamp())
    return dt.datetime.fromtimestamp(epoch - epoch % per_seconds, dt.UTC).replace(tzinfo=None)


_SQL: dict[tuple[str, int], str] = {}


def _upsert_sql(n: int) -> str:
    """One INSERT … ON CONFLICT DO UPDATE … RETURNING for ``n`` keys, built once per
    backend (it runs on every public lookup)."""
    database = db.obj
    cache_key = (type(database).__name__, n)
    sql = _SQL.get(cache_key)
    if sql is None:
        q0, q1 = database.quote
        table = f"{q0}{RateCounter._meta.table_name}{q1}"
        cols = [f"{q0}{f.column_name}{q1}" for f in (RateCounter.bucket, RateCounter.key,
                                                     RateCounter.window, RateCounter.count)]
        p = database.param
        values = ", ".join([f"({p}, {p}, {p}, {p})"] * n)
        sql = _SQL[cache_key] = (
            f"INSERT INTO {table} ({', '.join(cols)}) VALUES {values} "
            f"ON CONFLICT ({cols[0]}, {cols[1]}, {cols[2]}) DO UPDATE SET "
            f"{cols[3]} = {table}.{cols[3]} + excluded.{cols[3]} "
            f"RETURNING {cols[1]}, {cols[3]}")
    return sql


def hit_many(bucket: str, keys: list[str], per_seconds: int, *, amount: int = 1) -> dict:
    """Count ``amount`` hits for each key in the current window; {key: count after}."""
    keys = list(dict.fromkeys(k[:KEY_MAX] for k in keys))
    if not keys:
        return {}
    stamp = RateCounter.window.db_value(window_start(per_seconds))
    params = [v for k in keys for v in (bucket, k, stamp, amount)]
    return dict(db.execute_sql(_upsert_sql(len(keys)), params).fetchall())


def hit(bucket: str, key: str, per_seconds: int, *, amount: int = 1) -> int:
    """Count ``amount`` hits for ``key``; the count in the current window after it."""
    return hit_many(bucket, [key], per_seconds, amount=amount)[key[:KEY_MAX]]


def hits(bucket: str, key: str, per_seconds: int) -> int:
    """The hits of ``key`` in the current window (nothing counted)."""
    return (RateCounter.select(RateCounter.count)
            .where((RateCounter.bucket == bucket) & (RateCounter.key == key[:KEY_MAX])
                   & (RateCounter.window == window_start(per_seconds))).scalar() or 0)


def recent_hits(bucket: str, key: str, per_seconds: int) -> tuple[int, int]:
    """(hits in the previous window, hits in the current one): their sum is a sliding
    count over at least one whole window, so a limit cannot be dodged — or a test made
    to flicker — at a window's boundary."""
    current = window_start(per_seconds)
    previous = current - dt.timedelta(seconds=per_seconds)
    rows = dict(RateCounter.select(RateCounter.window, RateCounter.count)
                .where((RateCounter.bucket == bucket) & (RateCounter.key == key[:KEY_MAX])
                       & RateCounter.window.in_([previous, current])).tuples())
    return rows.get(previous, 0), rows.get(current, 0)


def seconds_left(per_seconds: int) -> int:
    return int((window_start(per_seconds) + dt.timedelta(seconds=per_seconds)
                - utcnow()).total_seconds()) + 1


def rate_limit(bucket: str, key: str, limit: int, per_seconds: int, *,
               message: str | None = None) -> int:
    """Count a hit for ``key`` and raise RateLimited once it is over ``limit`` in the
    window of ``per_seconds``. Call it in its own short transaction (or the request's), so
    refused hits are counted too."""
    count = hit(bucket, key, per_seconds)
    if count > limit:
        raise RateLimited(message or _("Too many attempts. Please wait %(n)d seconds and try "
                                       "again.", n=seconds_left(per_seconds)),
                          seconds_left(per_seconds))
    return count


def purge(older_than: dt.timedelta = dt.timedelta(days=1)) -> int:
    """Delete windows that ended long ago (the hourly job)."""
    return RateCounter.delete().where(RateCounter.window < utcnow() - older_than).execute()


def client_address() -> str:
    """The client's address as this request sees it (after ProxyFix, when configured)."""
    from flask import has_request_context, request
    if not has_request_context():
        return ""
    return (request.remote_addr or "unknown")[:64]
