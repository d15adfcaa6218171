"""The core's own background jobs."""
from __future__ import annotations

import os
import socket

from huey import crontab
from peewee import fn

from core.db import db, utcnow
from core.i18n import _l
from core.models import WorkerHeartbeat
from core.queue import periodic, task


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@task()
def heartbeat(worker: str | None = None) -> str:
    """Record that a worker ran a job now (used by the admin page and the tests)."""
    name = worker or worker_name()
    with db.atomic():
        (WorkerHeartbeat.insert(worker=name, seen_at=utcnow(), jobs_done=1)
         .on_conflict(conflict_target=[WorkerHeartbeat.worker],
                      update={WorkerHeartbeat.seen_at: utcnow(),
                              WorkerHeartbeat.jobs_done: WorkerHeartbeat.jobs_done + 1})
         .execute())
    return name


def register_periodic(huey) -> None:
    @periodic(crontab(minute="*"), name="core.heartbeat", label=_l("Worker heartbeat"))
    def heartbeat_job():
        heartbeat.call_local()

    @periodic(crontab(minute="17"), name="core.rate_counters.purge")
    def purge_rate_counters():
        from core import ratelimit
        with db.atomic():
            return ratelimit.purge()


def last_heartbeat():
    return WorkerHeartbeat.select(fn.MAX(WorkerHeartbeat.seen_at)).scalar()
