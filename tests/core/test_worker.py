"""Jobs: a real consumer process runs a task; periodic jobs hold a lock."""
import os
import subprocess
import sys
import threading
import time

import pytest
from huey import crontab

from core.queue import periodic
from core.settings import ROOT
from tests import workers
from tests.conftest import ON_REDIS, redis_url


@pytest.fixture
def queue_url(settings):
    if ON_REDIS:
        url = redis_url()
        import redis
        redis.Redis.from_url(url).flushdb()
        return url
    return f"sqlite:///{settings.instance_path / 'worker-queue.db'}"


@pytest.fixture
def real_queue(app, queue_url):
    """Switch the queue from immediate mode to the real storage for this test."""
    with workers.real_queue(queue_url) as queue:
        yield queue


def test_real_consumer_process_runs_a_job(app, settings, queue_url, real_queue):
    from core.models import WorkerHeartbeat
    from core.tasks import heartbeat
    proc = workers.start_worker(settings, queue_url, "-w", "1", "--no-periodic")
    try:
        heartbeat("pytest-worker")
        assert workers.wait_for(lambda: WorkerHeartbeat.get_or_none(
            WorkerHeartbeat.worker == "pytest-worker") is not None, 30, every=0.2), \
            "the worker did not run the job"
        assert WorkerHeartbeat.get_by_id("pytest-worker").jobs_done == 1
    finally:
        out = workers.stop(proc)
    assert "Traceback" not in out, out


def test_periodic_job_runs_once_when_two_workers_start_it(app, real_queue):
    runs, lock = [], threading.Lock()
    name = f"test.locked.{time.time_ns()}"

    @periodic(crontab(minute="*"), name=name)
    def slow_job():
        with lock:
            runs.append(threading.get_ident())
        time.sleep(1.0)
        return "done"

    results = []
    threads = [threading.Thread(target=lambda: results.append(slow_job.call_local()))
               for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(runs) == 1
    assert sorted(results, key=str) == [None, "done"]
    # once released, the next run goes ahead
    assert slow_job.call_local() == "done"


def test_bad_urls_give_a_clear_message_and_non_zero_exit(tmp_path):
    env = dict(os.environ, QL_INSTANCE_PATH=str(tmp_path), QL_DATABASE_URL="mysql://x/y")
    out = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "status"],
                         cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert out.returncode != 0
    assert "QL_DATABASE_URL" in out.stderr and "unsupported URL" in out.stderr
    env.update(QL_DATABASE_URL=f"sqlite:///{tmp_path}/x.db", QL_QUEUE_URL="amqp://nope")
    out = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "worker"],
                         cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert out.returncode != 0 and "QL_QUEUE_URL" in out.stderr
    env.update(QL_QUEUE_URL="memory://")
    out = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "worker"],
                         cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert out.returncode != 0 and "a worker needs a shared queue" in out.stderr
    env.update(QL_QUEUE_URL=f"sqlite:///{tmp_path}/q.db", QL_PLUGINS="nosuchplugin")
    out = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "plugins", "list"],
                         cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert out.returncode != 0 and "unknown plugin" in out.stderr and "nosuchplugin" in out.stderr
