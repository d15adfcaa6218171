"""The one Huey instance: SQLite file by default, Redis for ``redis://`` URLs.

Tasks are registered at import (plugins' ``tasks.py``); the storage is bound from
QL_QUEUE_URL by :func:`configure` when the app is built, so importing this module
touches no file or server. Task bodies run inside an app context with their own
database connection. Periodic jobs run under a lease (``core.lease``) so two workers
never run one at once and a killed worker holds a job up only until its lease runs out.
"""
from __future__ import annotations

import functools
import logging
from urllib.parse import unquote, urlparse

from flask import current_app
from huey import Huey
from huey.storage import MemoryStorage, SqliteStorage

from core.db import utcnow

log = logging.getLogger("qinglian.queue")


class QueueHuey(Huey):
    """Huey whose storage comes from a URL set at configure time."""

    url = "memory://"

    def get_storage(self, **kwargs):
        return storage_for(self.name, self.url)

    def configure(self, url: str) -> None:
        self.url = url
        self.storage = self.create_storage()


def storage_for(name: str, url: str):
    parsed = urlparse(url)
    if parsed.scheme == "memory":
        return MemoryStorage(name)
    if parsed.scheme == "sqlite":
        import os
        path = unquote(parsed.path)
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        return SqliteStorage(name, filename=path, timeout=10)
    if parsed.scheme == "redis":
        from huey.storage import RedisStorage
        from redis import ConnectionPool
        return RedisStorage(name, connection_pool=ConnectionPool.from_url(url))
    raise ValueError(f"unsupported queue URL {url!r}")


huey = QueueHuey("qinglian", utc=True)

_app = None


def configure(app, url: str) -> None:
    """Bind the queue to ``url`` and remember ``app`` for task contexts."""
    global _app
    _app = app
    huey.configure(url)


def _in_context(fn):
    @functools.wraps(fn)
    def inner(*args, **kwargs):
        from flask import has_app_context

        from core.db import db
        if has_app_context():
            with db.connection_context() if db.is_closed() else _null():
                return fn(*args, **kwargs)
        if _app is None:
            raise RuntimeError("the queue is not configured: build the app first")
        with _app.app_context(), db.connection_context():
            return fn(*args, **kwargs)
    return inner


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def task(**options):
    """Declare a background task (``@task(retries=3, retry_delay=10)``)."""
    def decorator(fn):
        return huey.task(name=f"{fn.__module__}.{fn.__name__}", **options)(_in_context(fn))
    return decorator


DECLARED: dict = {}  # name -> core.jobs.Declared, every periodic job of this process
_WRAPPERS: dict = {}  # name -> its huey task, so declaring a job again replaces it


def periodic(crontab, name: str | None = None, *, label=None, lease: float | None = None,
             **options):
    """Declare a periodic job (``@periodic(crontab(minute="*"), name="x.sweep",
    label=_l("…"))``; the label is what the admin page shows) that runs under a lease: one worker at a time, and a worker killed mid-run blocks the job
    only until its lease runs out (``lease`` seconds, default QL_JOB_LEASE_SECONDS; the
    holder renews it every third of that while it runs). Each completion is recorded for
    the health check (``core.jobs``). Declaring a job of the same name again (a worker's
    hooks called twice) replaces the earlier declaration."""
    def decorator(fn):
        job_name = name or f"{fn.__module__}.{fn.__name__}"
        from core.i18n import source_text
        from core.jobs import Declared
        DECLARED[job_name] = Declared(crontab, source_text(label))

        @functools.wraps(fn)
        def leased(*args, **kwargs):
            from core import jobs
            from core.lease import Renewal, leases_for, new_holder
            settings = current_app.config["QL_SETTINGS"]
            ttl = lease or settings.job_lease_seconds
            store, holder = leases_for(huey.storage), new_holder()
            ok, other = store.acquire(job_name, holder, ttl)
            if not ok:
                _skipped(job_name, other, ttl)
                return None
            if other is not None:
                log.warning("periodic job %s: the lease of %s (taken %s) ran out without "
                            "being released, so that run never finished (a worker stopped "
                            "mid-run?); running now", job_name, other.holder,
                            _ago(other.held_for))
            started = utcnow()
            renewal = Renewal(store, job_name, holder, ttl, on_lost=lambda: log.error(
                "periodic job %s: lease lost while running (renewal came too late); another "
                "worker may run it at the same time", job_name))
            try:
                try:
                    result = fn(*args, **kwargs)
                except Exception as exc:
                    jobs.failed(job_name, exc)
                    raise
                jobs.completed(job_name, crontab, started, periods=settings.job_late_periods,
                               lease_seconds=ttl)
                return result
            finally:
                renewal.stop()
                store.release(job_name, holder)
        if job_name in _WRAPPERS:
            _WRAPPERS[job_name].unregister()
        wrapper = huey.periodic_task(crontab, name=job_name, **options)(_in_context(leased))
        _WRAPPERS[job_name] = wrapper
        return wrapper
    return decorator


def _skipped(name: str, holding, ttl: float) -> None:
    """A run skipped because another holder's lease is live: normal when two workers
    start the same minute's run; a warning when that holder has run longer than a lease."""
    level = logging.WARNING if holding.held_for > ttl else logging.INFO
    log.log(level, "periodic job %s skipped: %s holds its lease (for %s, lease %ds)", name,
            holding.holder, _ago(holding.held_for), ttl)


def _ago(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def register_schedules() -> None:
    """At worker start: record the periodic jobs this worker runs (``core.jobs``)."""
    from core import jobs
    settings = current_app.config["QL_SETTINGS"]
    jobs.register(dict(DECLARED), periods=settings.job_late_periods,
                  lease_seconds=settings.job_lease_seconds)
