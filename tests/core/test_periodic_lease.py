"""Periodic jobs run under a lease that runs out (not a lock a killed worker keeps for
good), and the health check reports a job that stopped completing."""
from __future__ import annotations

import datetime as dt
import logging
import threading
import time

import pytest
from huey import crontab
from huey.storage import MemoryStorage, RedisStorage, SqliteStorage

from core import jobs
from core.db import utcnow
from core.lease import leases_for
from core.models import PeriodicJob
from core.queue import huey, periodic
from tests.conftest import local_redis_url


@pytest.fixture(params=["memory", "sqlite", "redis"])
def store(request, tmp_path):
    if request.param == "memory":
        return leases_for(MemoryStorage("t"))
    if request.param == "sqlite":
        return leases_for(SqliteStorage("t", filename=str(tmp_path / "q.db")))
    request.getfixturevalue("redis_client")
    from redis import ConnectionPool
    return leases_for(RedisStorage("t", connection_pool=ConnectionPool.from_url(
        local_redis_url())))


def test_a_lease_is_held_renewed_released_and_runs_out(store):
    ok, previous = store.acquire("job", "w1", ttl=2)
    assert ok and previous is None
    ok, current = store.acquire("job", "w2", ttl=2)
    assert not ok and current.holder == "w1" and current.live
    assert not store.renew("job", "w2", 2) and not store.release("job", "w2")
    time.sleep(1.2)
    assert store.renew("job", "w1", 2)  # renewed: live past its first term
    time.sleep(1.2)
    assert not store.acquire("job", "w2", ttl=2)[0]
    assert store.release("job", "w1")
    assert store.current("job") is None
    assert store.acquire("job", "w2", ttl=0.3)[0]
    time.sleep(0.4)  # w2 "killed": never releases
    assert not store.current("job").live
    ok, previous = store.acquire("job", "w3", ttl=0.6)
    assert ok and previous.holder == "w2" and not previous.live
    assert not store.renew("job", "w2", 0.6), "a holder whose lease was taken over lost it"


@pytest.fixture
def real_queue(app, tmp_path):
    huey.immediate = False
    huey.configure(f"sqlite:///{tmp_path / 'lease-queue.db'}")
    yield huey
    huey.immediate = True


def unique(prefix: str) -> str:
    return f"test.{prefix}.{time.time_ns()}"


def test_a_killed_holder_holds_the_job_up_only_until_its_lease_runs_out(real_queue, caplog):
    name = unique("killed")

    @periodic(crontab(minute="*"), name=name, lease=3)
    def job():
        return "ran"

    store = leases_for(huey.storage)
    store.acquire(name, "worker-killed-with-sigkill", ttl=0.5)  # never released
    with caplog.at_level(logging.INFO, logger="qinglian.queue"):
        assert job.call_local() is None
        skipped = [r for r in caplog.records if "skipped" in r.getMessage()]
        assert skipped and skipped[-1].levelno == logging.INFO  # held briefly: normal
        time.sleep(0.6)
        assert job.call_local() == "ran"
    taken = [r for r in caplog.records if "ran out without being released" in r.getMessage()]
    assert taken and taken[0].levelno == logging.WARNING
    assert "worker-killed-with-sigkill" in taken[0].getMessage()
    assert store.current(name) is None  # released after the run


def test_a_skip_is_a_warning_when_the_holder_ran_longer_than_its_lease(real_queue, caplog):
    name = unique("long")
    started, done = threading.Event(), []

    @periodic(crontab(minute="*"), name=name, lease=0.6)
    def slow():
        started.set()
        time.sleep(1.5)
        return "done"

    runner = threading.Thread(target=lambda: done.append(slow.call_local()))
    with caplog.at_level(logging.INFO, logger="qinglian.queue"):
        runner.start()
        assert started.wait(5)
        assert slow.call_local() is None
        time.sleep(0.7)  # past one lease term: renewals keep it live
        assert slow.call_local() is None
        runner.join(5)
    skips = [r for r in caplog.records if "skipped" in r.getMessage()]
    assert [r.levelno for r in skips] == [logging.INFO, logging.WARNING]
    assert done == ["done"]


def test_completion_and_failure_are_recorded(real_queue):
    name = unique("record")
    fail = {"now": False}

    @periodic(crontab(minute="*"), name=name)
    def job():
        if fail["now"]:
            raise RuntimeError("gateway down")
        return 1

    job.call_local()
    row = PeriodicJob.get_by_id(name)
    assert row.runs == 1 and row.last_completed_at is not None and not row.last_error
    # due after the third minute following the completion, plus a minute and the lease
    minute = row.last_completed_at.replace(second=0, microsecond=0)
    assert row.due_by == minute + dt.timedelta(minutes=4, seconds=30)
    fail["now"] = True
    with pytest.raises(RuntimeError):
        job.call_local()
    after = PeriodicJob.get_by_id(name)
    assert after.runs == 1 and after.due_by == row.due_by
    assert after.last_error == "RuntimeError: gateway down"
    assert leases_for(huey.storage).current(name) is None  # released after a failure too


def test_scheduled_runs_are_counted_from_the_schedule():
    at = dt.datetime(2026, 3, 31, 23, 58, 30)
    assert jobs.nth_run_after(crontab(minute="*"), at, 3) == dt.datetime(2026, 4, 1, 0, 1)
    assert jobs.nth_run_after(crontab(minute="5"), at, 2) == dt.datetime(2026, 4, 1, 1, 5)
    monthly = crontab(day="1", hour="1", minute="5")
    assert jobs.nth_run_after(monthly, at, 3) == dt.datetime(2026, 6, 1, 1, 5)
    assert jobs.nth_run_after(crontab(month="2", day="30"), at, 1) is None


def test_register_gives_each_job_its_periods_and_forgets_retired_ones(app):
    now = utcnow()
    PeriodicJob.create(name="gone.plugin.job", due_by=now - dt.timedelta(hours=1))
    later = now + dt.timedelta(days=20)
    PeriodicJob.create(name="kept.monthly", due_by=later)
    minute = jobs.Declared(crontab(minute="*"), "Worker heartbeat")
    jobs.register({"new.minute": minute, "kept.monthly": minute}, periods=3, lease_seconds=30)
    rows = {j.name: j for j in PeriodicJob.select()}
    assert set(rows) == {"new.minute", "kept.monthly"}
    assert rows["kept.monthly"].due_by == later
    assert now + dt.timedelta(minutes=3) < rows["new.minute"].due_by \
        < now + dt.timedelta(minutes=6)
    assert rows["new.minute"].label == "Worker heartbeat"


def late_job() -> PeriodicJob:
    """A job that completed ten minutes ago and was due again five minutes ago."""
    now = utcnow()
    PeriodicJob.create(name="on.time", label="Worker heartbeat", last_completed_at=now,
                       due_by=now + dt.timedelta(minutes=4), runs=9)
    return PeriodicJob.create(name="esupervision.sweep", label="E-supervision sweep",
                              last_completed_at=now - dt.timedelta(minutes=10),
                              due_by=now - dt.timedelta(minutes=5), runs=3)


def test_health_check_reports_a_late_job(app, client):
    assert client.get("/healthz").json["jobs"] == "none"
    none = client.get("/healthz/jobs")
    assert none.status_code == 503 and none.json["status"] == "none"
    late_job()
    resp = client.get("/healthz")
    assert resp.status_code == 200  # the load balancer keeps the web process
    assert resp.json["status"] == "degraded"
    assert resp.json["jobs"] == "late: esupervision.sweep"
    detail = client.get("/healthz/jobs")
    assert detail.status_code == 503
    assert detail.json["late"] == ["esupervision.sweep"]
    assert [j["name"] for j in detail.json["jobs"]] == ["esupervision.sweep", "on.time"]
    PeriodicJob.update(due_by=utcnow() + dt.timedelta(minutes=3)).execute()
    assert client.get("/healthz/jobs").status_code == 200
    assert client.get("/healthz").json["status"] == "ok"


def test_cli_check_exits_non_zero_on_a_late_job(app, runner):
    empty = runner.invoke(args=["jobs", "status"])
    assert empty.exit_code == 1 and "no periodic job is registered" in empty.output
    late_job()
    result = runner.invoke(args=["jobs", "status"])
    assert result.exit_code == 1
    assert "LATE  esupervision.sweep" in result.output
    assert "ok    on.time" in result.output
    PeriodicJob.update(due_by=utcnow() + dt.timedelta(minutes=3)).execute()
    assert runner.invoke(args=["jobs", "status"]).exit_code == 0


def test_admin_page_names_late_jobs_in_both_languages(app, client, org, make_user, login):
    late_job()
    login(make_user("admin_city", role="sys_admin", region=org["city"]))
    html = client.get("/admin/jobs").get_data(as_text=True)
    assert "E-supervision sweep" in html and "Late" in html and "On schedule" in html
    with client.session_transaction() as s:
        s["locale"] = "zh_CN"
    zh = client.get("/admin/jobs").get_data(as_text=True)
    assert "电子监察巡检" in zh and "已逾期" in zh and "esupervision.sweep" not in zh


def test_declaring_a_job_again_replaces_it(app):
    name = unique("again")

    @periodic(crontab(minute="*"), name=name)
    def first():
        return 1

    @periodic(crontab(minute="*"), name=name)
    def second():
        return 2

    assert second.call_local() == 2
    assert sum(t.__name__ == name for t in huey._registry._periodic_tasks) == 1
