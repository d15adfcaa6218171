"""Leases (租约) on periodic jobs: held while a job runs, renewed, and running out.

``huey.lock_task`` has no expiry: a worker killed in the middle of a job leaves the lock in
the queue storage and every later run is skipped until someone deletes it by hand. A lease
names its holder and the moment it runs out; the holder renews it every third of its term
while the job runs, and a killed holder's lease simply runs out, so the next run after
that takes it over.

The lease lives beside the queue, in the same storage, and each store compares times on
one clock: Redis (one key per lease; acquiring, renewing and releasing are Lua scripts
reading the Redis server's ``TIME``), the SQLite queue file (a ``ql_lease`` table, read
and written under ``BEGIN EXCLUSIVE``, one machine's clock), or memory (immediate mode).
"""
from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import threading
import time
import weakref
from dataclasses import dataclass

from huey.storage import MemoryStorage, RedisStorage, SqliteStorage

log = logging.getLogger("qinglian.queue")


@dataclass(frozen=True)
class Holding:
    """Who holds a lease, since when and until when (seconds since the epoch, on the
    store's clock), as observed at ``observed_at``."""

    holder: str
    acquired_at: float
    expires_at: float
    observed_at: float

    @property
    def held_for(self) -> float:
        return self.observed_at - self.acquired_at

    @property
    def live(self) -> bool:
        return self.expires_at > self.observed_at


def new_holder() -> str:
    """A holder name a person can trace (host, process, thread) made unique per run."""
    return (f"{socket.gethostname()}:{os.getpid()}:{threading.current_thread().name}:"
            f"{secrets.token_hex(4)}")


class Leases:
    """The operations every store offers.

    ``acquire`` returns ``(True, previous)`` when the lease is now ours (``previous``: a
    holding that ran out without being released, i.e. a holder that stopped mid-run, or
    None), and ``(False, current)`` when another holder's lease is live."""

    def acquire(self, name: str, holder: str, ttl: float) -> tuple[bool, Holding | None]:
        raise NotImplementedError

    def renew(self, name: str, holder: str, ttl: float) -> bool:
        """Extend our lease by ``ttl`` from now; False if it is no longer ours."""
        raise NotImplementedError

    def release(self, name: str, holder: str) -> bool:
        """Give the lease up if it is still ours."""
        raise NotImplementedError

    def current(self, name: str) -> Holding | None:
        """The recorded holding (live or run out), or None."""
        raise NotImplementedError


class MemoryLeases(Leases):
    """Leases of one process (the in-memory queue of immediate mode)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._rows: dict[str, tuple[str, float, float]] = {}

    def _holding(self, name: str, now: float) -> Holding | None:
        row = self._rows.get(name)
        return Holding(row[0], row[1], row[2], now) if row else None

    def acquire(self, name, holder, ttl):
        with self._lock:
            now = time.time()
            old = self._holding(name, now)
            if old is not None and old.live:
                return False, old
            self._rows[name] = (holder, now, now + ttl)
            return True, old

    def renew(self, name, holder, ttl):
        with self._lock:
            row = self._rows.get(name)
            if row is None or row[0] != holder:
                return False
            self._rows[name] = (holder, row[1], time.time() + ttl)
            return True

    def release(self, name, holder):
        with self._lock:
            row = self._rows.get(name)
            if row is None or row[0] != holder:
                return False
            del self._rows[name]
            return True

    def current(self, name):
        with self._lock:
            return self._holding(name, time.time())


class SqliteLeases(Leases):
    """Leases in the SQLite queue file, table ``ql_lease`` (created on first use)."""

    DDL = ("create table if not exists ql_lease (queue text not null, name text not null, "
           "holder text not null, acquired_at real not null, expires_at real not null, "
           "primary key (queue, name))")

    def __init__(self, storage: SqliteStorage):
        self.storage = storage
        self.queue = storage.name
        storage.sql(self.DDL, commit=True)

    def _read(self, curs, name: str, now: float) -> Holding | None:
        curs.execute("select holder, acquired_at, expires_at from ql_lease "
                     "where queue = ? and name = ?", (self.queue, name))
        row = curs.fetchone()
        return Holding(row[0], row[1], row[2], now) if row else None

    def acquire(self, name, holder, ttl):
        with self.storage.db(commit=True) as curs:
            now = time.time()
            old = self._read(curs, name, now)
            if old is not None and old.live:
                return False, old
            curs.execute("insert or replace into ql_lease "
                         "(queue, name, holder, acquired_at, expires_at) values (?, ?, ?, ?, ?)",
                         (self.queue, name, holder, now, now + ttl))
            return True, old

    def renew(self, name, holder, ttl):
        with self.storage.db(commit=True) as curs:
            curs.execute("update ql_lease set expires_at = ? "
                         "where queue = ? and name = ? and holder = ?",
                         (time.time() + ttl, self.queue, name, holder))
            return curs.rowcount == 1

    def release(self, name, holder):
        with self.storage.db(commit=True) as curs:
            curs.execute("delete from ql_lease where queue = ? and name = ? and holder = ?",
                         (self.queue, name, holder))
            return curs.rowcount == 1

    def current(self, name):
        with self.storage.db() as curs:
            return self._read(curs, name, time.time())


_NOW_MS = ("local t = redis.call('TIME') "
           "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) ")

# KEYS[1] lease key; ARGV holder, ttl (ms), how long a run-out record is kept (ms)
_ACQUIRE = _NOW_MS + """
local old = redis.call('GET', KEYS[1])
if old and cjson.decode(old).expires > now then return {0, old, now} end
local new = cjson.encode({holder = ARGV[1], acquired = now, expires = now + tonumber(ARGV[2])})
redis.call('SET', KEYS[1], new, 'PX', tonumber(ARGV[2]) + tonumber(ARGV[3]))
return {1, old or '', now}
"""
_RENEW = _NOW_MS + """
local old = redis.call('GET', KEYS[1])
if not old then return 0 end
local h = cjson.decode(old)
if h.holder ~= ARGV[1] then return 0 end
h.expires = now + tonumber(ARGV[2])
redis.call('SET', KEYS[1], cjson.encode(h), 'PX', tonumber(ARGV[2]) + tonumber(ARGV[3]))
return 1
"""
_RELEASE = """
local old = redis.call('GET', KEYS[1])
if old and cjson.decode(old).holder == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_CURRENT = _NOW_MS + "return {redis.call('GET', KEYS[1]) or '', now}"


class RedisLeases(Leases):
    """Leases as Redis keys ``<queue>.lease.<name>`` holding JSON; times on the server's
    clock. A lease that ran out is kept for a day so its successor can say who stopped."""

    KEEP_MS = 86_400_000

    def __init__(self, storage: RedisStorage):
        self.conn = storage.conn
        self.prefix = f"{storage.name}.lease."
        self._acquire = self.conn.register_script(_ACQUIRE)
        self._renew = self.conn.register_script(_RENEW)
        self._release = self.conn.register_script(_RELEASE)
        self._current = self.conn.register_script(_CURRENT)

    @staticmethod
    def _holding(raw, now_ms) -> Holding | None:
        if not raw:
            return None
        data = json.loads(raw)
        return Holding(data["holder"], data["acquired"] / 1000, data["expires"] / 1000,
                       now_ms / 1000)

    def acquire(self, name, holder, ttl):
        ok, raw, now = self._acquire(keys=[self.prefix + name],
                                     args=[holder, int(ttl * 1000), self.KEEP_MS])
        return bool(ok), self._holding(raw, now)

    def renew(self, name, holder, ttl):
        return bool(self._renew(keys=[self.prefix + name],
                                args=[holder, int(ttl * 1000), self.KEEP_MS]))

    def release(self, name, holder):
        return bool(self._release(keys=[self.prefix + name], args=[holder]))

    def current(self, name):
        raw, now = self._current(keys=[self.prefix + name])
        return self._holding(raw, now)


_STORES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_STORES_LOCK = threading.Lock()


def leases_for(storage) -> Leases:
    """The lease store kept in the queue's own storage (one per storage object)."""
    with _STORES_LOCK:
        store = _STORES.get(storage)
        if store is None:
            if isinstance(storage, RedisStorage):
                store = RedisLeases(storage)
            elif isinstance(storage, SqliteStorage):
                store = SqliteLeases(storage)
            elif isinstance(storage, MemoryStorage):
                store = MemoryLeases()
            else:
                raise TypeError(f"no lease store for {type(storage).__name__}")
            _STORES[storage] = store
        return store


class Renewal:
    """Renews a lease every third of its term until stopped (a daemon thread)."""

    def __init__(self, leases: Leases, name: str, holder: str, ttl: float, on_lost=None):
        self.leases, self.name, self.holder, self.ttl = leases, name, holder, ttl
        self.on_lost = on_lost
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease:{name}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.ttl / 3):
            try:
                ok = self.leases.renew(self.name, self.holder, self.ttl)
            except Exception as exc:  # noqa: BLE001 - storage unreachable: try again
                log.warning("lease %s: renewal failed (%s); retrying", self.name, exc)
                continue
            if not ok:
                if self.on_lost:
                    self.on_lost()
                return

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
