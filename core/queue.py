"""The one Huey instance: SQLite file by default, Redis for ``redis://`` URLs.

Tasks are registered at import (plugins' ``tasks.py``); the storage is bound from
QL_QUEUE_URL by :func:`configure` when the app is built, so importing this module
touches no file or server. Task bodies run inside an app context with their own
database connection. Periodic jobs take a lock so two workers never run one at once.
"""
from __future__ import annotations

import functools
import logging
from urllib.parse import unquote, urlparse

from huey import Huey
from huey.exceptions import TaskLockedException
from huey.storage import MemoryStorage, SqliteStorage

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


def periodic(crontab, name: str | None = None, **options):
    """Declare a periodic job that holds a lock while it runs (one worker at a time)."""
    def decorator(fn):
        lock_name = name or f"{fn.__module__}.{fn.__name__}"

        @functools.wraps(fn)
        def locked(*args, **kwargs):
            try:
                with huey.lock_task(lock_name):
                    return fn(*args, **kwargs)
            except TaskLockedException:
                log.info("periodic job %s is running elsewhere; skipped", lock_name)
                return None
        return huey.periodic_task(crontab, name=lock_name, **options)(_in_context(locked))
    return decorator
