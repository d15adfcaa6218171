"""Nothing lost, nothing doubled: a real worker against Redis is killed (SIGKILL) while
deliveries are in flight, the Redis queue is flushed, a new worker starts, and every
notification is delivered once as the receiver sees it (deduplicated by id)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from urllib.parse import urlparse, urlunparse

import pytest

from core.alerts import service
from core.alerts.models import InboxItem, Notification
from core.auth.models import User
from core.db import db
from core.org.models import Person
from core.queue import huey
from core.settings import ROOT
from tests.conftest import (
    BASE_QUEUE_URL,
    ON_REDIS,
    TEST_DATA_KEY,
    TEST_SECRET,
    make_settings,
    worker_id,
)
from tests.core.alert_receivers import HttpReceiver

pytestmark = pytest.mark.redis

ALERTS = 24
LEASE = 3


def redis_queue_url() -> str:
    """QL_QUEUE_URL when it is Redis, else the local Redis; one database per xdist worker."""
    base = BASE_QUEUE_URL if ON_REDIS else "redis://127.0.0.1:6379/0"
    n = 1 + int(worker_id().removeprefix("gw") or 0) % 15
    return urlunparse(urlparse(base)._replace(path=f"/{n}"))


@pytest.fixture
def redis_client():
    import redis
    client = redis.Redis.from_url(redis_queue_url())
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip("Redis is not reachable at " + redis_queue_url())
    client.flushdb()
    yield client
    client.flushdb()


@pytest.fixture
def sms():
    server = HttpReceiver(delay=0.4)  # slow, so deliveries are in flight when we kill
    yield server
    server.close()


@pytest.fixture
def settings(tmp_path, fresh_db_url, sms):
    return make_settings(tmp_path, database_url=fresh_db_url, queue_url=redis_queue_url(),
                         sms_gateway_url=sms.url + "/sms", alert_lease_seconds=LEASE,
                         alert_send_timeout=2)


@pytest.fixture
def redis_queue(app, redis_client):
    huey.immediate = False
    huey.configure(redis_queue_url())
    yield huey
    huey.immediate = True


def start_worker(settings):
    env = dict(os.environ)
    env.update(QL_DATABASE_URL=settings.database_url, QL_QUEUE_URL=redis_queue_url(),
               QL_INSTANCE_PATH=str(settings.instance_path), QL_SECRET_KEY=TEST_SECRET,
               QL_DATA_KEY=TEST_DATA_KEY, QL_LOCALE="en",
               QL_SMS_GATEWAY_URL=settings.sms_gateway_url,
               QL_ALERT_LEASE_SECONDS=str(LEASE), QL_ALERT_SEND_TIMEOUT="2")
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker",
                             "-w", "2", "--no-periodic"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def stop(proc) -> str:
    proc.terminate()
    try:
        out, _ = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return out


def wait_for(predicate, timeout: float, every: float = 0.1, tick=None) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        if tick:
            tick()
        time.sleep(every)
    return predicate()


def test_killed_worker_and_flushed_queue_lose_and_double_nothing(app, settings, org, sms,
                                                                  redis_queue, redis_client):
    from core.alerts.tasks import dispatch_task, sweep_task
    people = []
    for i in range(4):
        person = Person.create(name=f"p{i}", region=org["a"], phone=f"1390000000{i}")
        people.append(User.create(username=f"u{i}", password_hash="-", person=person))
    with db.atomic():
        for i in range(ALERTS):
            service.emit("core.test", org["a"], f"red {i}", target_user=people[i % 4],
                         level="red")
    sms_uids = {n.uid for n in Notification.select().where(Notification.channel == "sms")}
    assert len(sms_uids) == ALERTS
    dispatch_task()

    first = start_worker(settings)
    try:
        assert wait_for(lambda: len(sms.accepted) >= 4, 60), stop(first)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    redis_client.flushdb()  # the queued deliveries are gone with the queue
    pending = Notification.select().where((Notification.channel == "sms")
                                          & (Notification.state == "pending")).count()
    assert 0 < pending < ALERTS, "the kill should leave deliveries unfinished"
    assert len(sms.accepted) < ALERTS

    second = start_worker(settings)
    try:
        def all_sent():
            return (Notification.select().where(Notification.state != "sent").count() == 0)
        assert wait_for(all_sent, 90, every=1.0, tick=sweep_task), stop(second)
    finally:
        out = stop(second)
    assert "Traceback" not in out, out

    rows = list(Notification.select())
    assert len(rows) == 2 * ALERTS
    assert all(n.state == "sent" and n.sent_at is not None for n in rows)
    assert set(sms.accepted) == sms_uids  # the receiver saw every id
    seen = [r["json"]["id"] for r in sms.requests]
    doubled = len(seen) - len(set(seen))
    assert doubled <= 2, f"only the sends in flight at the kill may repeat, got {doubled}"
    assert InboxItem.select().count() == ALERTS  # the inbox never shows a duplicate
