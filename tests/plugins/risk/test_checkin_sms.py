"""A check-in through the API inside a site's radius yields exactly one SMS at a real
local HTTP SMS receiver, delivered by a real worker against Redis; a check-in outside
the radius none; a second one the same day none more."""
from __future__ import annotations

import pytest

from core.alerts.models import Notification
from core.api import issue_api_token
from plugins.risk import reminders
from tests import workers
from tests.conftest import make_settings
from tests.core.alert_receivers import HttpReceiver

pytestmark = pytest.mark.redis
REDIS = "redis://127.0.0.1:6379/7"  # this part's own Redis database


@pytest.fixture
def sms():
    server = HttpReceiver()
    yield server
    server.close()


@pytest.fixture
def settings(tmp_path, fresh_db_url, sms):
    return make_settings(tmp_path, database_url=fresh_db_url, queue_url=REDIS,
                         sms_gateway_url=sms.url + "/sms")


@pytest.fixture
def queue(app):
    import redis
    client = redis.Redis.from_url(REDIS)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip("Redis is not reachable at " + REDIS)
    client.flushdb()
    with workers.real_queue(REDIS) as q:
        yield q
    client.flushdb()


def test_one_sms_per_person_site_and_day(app, settings, approved, unit, sms, queue):
    from core.alerts.tasks import sweep_task
    reminders.save_site(unit["reviewer"], {
        "department": unit["dept"].id, "code": "TZ-01", "name": "三圣乡土地整治项目",
        "latitude": "30.657", "longitude": "104.066", "radius_m": "300",
        "posts": [unit["land"].id]})
    client = app.test_client()
    auth = {"Authorization": "Bearer " + issue_api_token("risk.checkin", "gps")}

    def check_in(lat, n):
        resp = client.post("/api/risk/checkins", headers=auth, json={
            "username": "huang", "latitude": lat, "longitude": 104.066,
            "external_id": f"gps-{n}"})
        assert resp.status_code == 201, resp.json
        return resp.json

    assert not check_in(30.70, 1)["inside"]  # about 4.8 km away
    worker = workers.start_worker(settings, REDIS, "-w", "2", "--no-periodic",
                                  QL_SMS_GATEWAY_URL=settings.sms_gateway_url)
    try:
        assert check_in(30.6571, 2)["inside"]
        assert workers.wait_for(lambda: len(sms.accepted) >= 1, 60), workers.stop(worker)
        assert check_in(30.6569, 3)["inside"]  # again the same day
        assert workers.wait_for(lambda: Notification.select().where(
            Notification.state != "sent").count() == 0, 60, every=0.5, tick=sweep_task)
    finally:
        out = workers.stop(worker)
    assert "Traceback" not in out, out
    assert len(sms.accepted) == 1 and len(sms.requests) == 1
    message = next(iter(sms.accepted.values()))
    assert message["to"] == "13800000001"
    assert "严禁在土地综合整治建设过程中随意改变规划设计" in message["text"]
    assert message["alert"]["kind"] == "risk.reminder.site_arrival"
