"""A real worker killed with SIGKILL inside the e-supervision sweep, on the SQLite queue
and on Redis: the killed worker's lease runs out, the restarted worker's next sweep runs
and raises the alerts (with huey's lock, which has no expiry, every later sweep was
skipped until the lock was deleted by hand)."""
from __future__ import annotations

import contextlib
import os
import signal

import pytest

from core.alerts.models import Alert
from core.db import db, is_postgres
from core.lease import leases_for
from core.models import PeriodicJob
from core.queue import huey
from plugins.esupervision.models import Signal
from plugins.esupervision.tasks import SWEEP_LOCK
from tests import workers
from tests.conftest import local_redis_url

LEASE = 3
CASES = 5


@pytest.fixture(params=["sqlite", "redis"])
def queue_url(request, settings):
    if request.param == "redis":
        request.getfixturevalue("redis_client")
        return local_redis_url()
    return f"sqlite:///{settings.instance_path / 'sweep-queue.db'}"


@pytest.fixture
def real_queue(app, queue_url):
    with workers.real_queue(queue_url) as queue:
        yield queue


def start_worker(settings, queue_url):
    return workers.start_worker(settings, queue_url, "-w", "8", QL_PLUGINS="esupervision",
                                QL_JOB_LEASE_SECONDS=str(LEASE))


@contextlib.contextmanager
def writes_held():
    """Hold the write lock of the e-supervision signals, so a sweep that has started
    waits inside its first statement until it is killed."""
    with db.atomic():  # on SQLite, BEGIN IMMEDIATE: the whole file's write lock
        if is_postgres():
            db.execute_sql('LOCK TABLE "esupervision_signal" IN EXCLUSIVE MODE')
        yield


def red_alerts() -> int:
    return Alert.select().where(Alert.kind.startswith("esupervision.signal.")).count()


def test_a_worker_killed_inside_the_sweep_stops_it_only_until_its_lease_runs_out(
        app, settings, feed, events, queue_url, real_queue):
    for _ in range(CASES):
        ev = events(submitted="2020-01-02 09:00")
        feed(ev.make("submitted", "2020-01-02 09:00"))
    store = leases_for(huey.storage)

    with writes_held():
        first = start_worker(settings, queue_url)
        try:
            held = workers.wait_for(lambda: store.current(SWEEP_LOCK) is not None, 60, 0.05)
            assert held, workers.stop(first)
            os.kill(first.pid, signal.SIGKILL)
            first.wait(10)
        finally:
            if first.poll() is None:
                first.kill()
    killed = store.current(SWEEP_LOCK)
    assert killed is not None and killed.holder.split(":")[1] == str(first.pid)
    assert Signal.select().count() == 0 and red_alerts() == 0, "killed inside the sweep"

    assert workers.wait_for(lambda: not store.current(SWEEP_LOCK).live, LEASE + 5)
    second = start_worker(settings, queue_url)
    try:
        assert workers.wait_for(lambda: red_alerts() >= CASES, 60, 0.5), workers.stop(second)
        assert workers.wait_for(lambda: PeriodicJob.select().where(
            (PeriodicJob.name == SWEEP_LOCK) & (PeriodicJob.runs >= 1)).exists(), 30), \
            workers.stop(second)
    finally:
        out = workers.stop(second)
    assert Signal.select().where(Signal.level == "red").count() == CASES
    assert "ran out without being released" in out and str(first.pid) in out, out
    assert "Traceback" not in out, out
    assert store.current(SWEEP_LOCK) is None  # released by the restarted worker
