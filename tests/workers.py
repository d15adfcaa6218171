"""Helpers of the tests that run a real worker process (``flask --app wsgi worker``)."""
from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time

from core.settings import ROOT
from tests.conftest import TEST_DATA_KEY, TEST_SECRET


def worker_env(settings, queue_url: str, **extra: str) -> dict:
    """The environment of a worker on this test's database and the given queue."""
    env = dict(os.environ)
    env.update(QL_DATABASE_URL=settings.database_url, QL_QUEUE_URL=queue_url,
               QL_INSTANCE_PATH=str(settings.instance_path), QL_SECRET_KEY=TEST_SECRET,
               QL_DATA_KEY=TEST_DATA_KEY, QL_LOCALE="en", **extra)
    return env


def start_worker(settings, queue_url: str, *args: str, **extra: str) -> subprocess.Popen:
    """Start ``flask --app wsgi worker ARGS``, its output (stderr merged) in a temporary
    file: a pipe nobody reads fills after 64 KB of log lines and then blocks every thread
    of the worker on its next log line (a benchmark's worker stalled so)."""
    log = tempfile.TemporaryFile(mode="w+", encoding="utf-8")  # noqa: SIM115 (closed by stop)
    proc = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker", *args],
                            cwd=ROOT, env=worker_env(settings, queue_url, **extra),
                            stdout=log, stderr=subprocess.STDOUT, text=True)
    proc.ql_log = log
    return proc


def stop(proc: subprocess.Popen) -> str:
    """Stop a worker (SIGTERM, then SIGKILL) and return what it printed."""
    if proc.poll() is None:
        proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log = getattr(proc, "ql_log", None)
    if log is None:
        return ""
    log.seek(0)
    out = log.read()
    log.close()
    return out


def wait_for(predicate, timeout: float, every: float = 0.1, tick=None) -> bool:
    """Poll ``predicate`` until it holds or ``timeout`` seconds pass (``tick`` between)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        if tick:
            tick()
        time.sleep(every)
    return bool(predicate())


@contextlib.contextmanager
def real_queue(url: str):
    """The queue switched from immediate mode to the storage at ``url``, then back."""
    from core.queue import huey
    huey.immediate = False
    huey.configure(url)
    try:
        yield huey
    finally:
        huey.flush()
        huey.immediate = True
