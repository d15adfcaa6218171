"""The record of periodic jobs (定时任务): is each still running on schedule?

A worker killed mid-job, a queue flushed, a worker started with ``--no-periodic``: each
silences a job without an error anywhere. So every completion writes ``due_by``, the end
of the minute of the job's N-th scheduled run after it (``QL_JOB_LATE_PERIODS``, default
3) plus its lease: a job not completed by then has missed N runs in a row and is *late*.
``/healthz``, ``/healthz/jobs``, ``flask jobs status`` and the admin page report it.

A worker registers its jobs when it starts, which gives a job that never completed its
first ``due_by`` and drops the record of jobs no longer scheduled (a plugin disabled).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from core.db import db, utcnow
from core.models import PeriodicJob

MINUTE = dt.timedelta(minutes=1)
SCAN_LIMIT = 366 * 24 * 60  # a schedule with no run within a year is never late

Schedule = Callable[[dt.datetime], bool]


def nth_run_after(schedule: Schedule, after: dt.datetime, n: int) -> dt.datetime | None:
    """The minute of the ``n``-th scheduled run after ``after`` (naive UTC, as the
    queue's scheduler sees it), or None when the schedule has none within a year."""
    moment = after.replace(second=0, microsecond=0)
    for _ in range(SCAN_LIMIT):
        moment += MINUTE
        if schedule(moment):
            n -= 1
            if n == 0:
                return moment
    return None


def due_by(schedule: Schedule, after: dt.datetime, periods: int,
           lease_seconds: float) -> dt.datetime | None:
    """When a job last completed at ``after`` must have completed again: its
    ``periods``-th run's minute is over and a lease's worth of running time has passed."""
    run = nth_run_after(schedule, after, periods)
    return None if run is None else run + MINUTE + dt.timedelta(seconds=lease_seconds)


def completed(name: str, schedule: Schedule, started: dt.datetime, *, periods: int,
              lease_seconds: float) -> None:
    """Record a run of ``name`` that completed now."""
    now = utcnow()
    values = {"last_completed_at": now,
              "last_duration_ms": int((now - started).total_seconds() * 1000),
              "due_by": due_by(schedule, now, periods, lease_seconds)}
    with db.atomic():
        (PeriodicJob.insert(name=name, runs=1, **values)
         .on_conflict(conflict_target=[PeriodicJob.name],
                      update={**{getattr(PeriodicJob, k): v for k, v in values.items()},
                              PeriodicJob.runs: PeriodicJob.runs + 1})
         .execute())


def failed(name: str, error: BaseException) -> None:
    """Record a run of ``name`` that raised (``due_by`` stays: a failing job turns late)."""
    text = f"{type(error).__name__}: {error}"[:500]
    values = {"last_failed_at": utcnow(), "last_error": text}
    with db.atomic():
        (PeriodicJob.insert(name=name, **values)
         .on_conflict(conflict_target=[PeriodicJob.name],
                      update={getattr(PeriodicJob, k): v for k, v in values.items()})
         .execute())


@dataclass(frozen=True)
class Declared:
    """A periodic job as declared with ``core.queue.periodic``: its schedule and label
    (the English source of a translated label: pages translate it when they show it)."""

    schedule: Schedule
    label: str


def register(declared: dict[str, Declared], *, periods: int, lease_seconds: float) -> None:
    """A worker that runs periodic jobs starts: each job gets ``periods`` periods from now
    (or keeps a later ``due_by``); records of jobs no longer scheduled go."""
    now = utcnow()
    with db.atomic():
        known = {j.name: j for j in PeriodicJob.select()}
        for name, spec in declared.items():
            fresh = due_by(spec.schedule, now, periods, lease_seconds)
            job = known.get(name)
            if job is None:
                PeriodicJob.create(name=name, label=spec.label, registered_at=now,
                                   due_by=fresh)
                continue
            keep = job.due_by if (job.due_by and fresh and job.due_by > fresh) else fresh
            (PeriodicJob.update(label=spec.label, registered_at=now, due_by=keep)
             .where(PeriodicJob.name == name).execute())
        gone = set(known) - set(declared)
        if gone:
            PeriodicJob.delete().where(PeriodicJob.name.in_(sorted(gone))).execute()


@dataclass(frozen=True)
class JobState:
    """One job as the health check and the admin page show it."""

    job: PeriodicJob
    late: bool
    late_by: dt.timedelta | None


def states(now: dt.datetime | None = None) -> list[JobState]:
    """Every recorded periodic job, late ones first."""
    now = now or utcnow()
    out = []
    for job in PeriodicJob.select().order_by(PeriodicJob.name):
        late = job.due_by is not None and job.due_by < now
        out.append(JobState(job, late, now - job.due_by if late else None))
    return sorted(out, key=lambda s: not s.late)


def late_names(items: Iterable[JobState]) -> list[str]:
    return [s.job.name for s in items if s.late]
