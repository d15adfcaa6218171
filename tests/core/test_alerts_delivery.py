"""Delivery through real local servers: SMTP (aiosmtpd), an SMS gateway and a webhook
receiver (http.server): delivery, retry after a refusal, permanent failure."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac

import pytest

from core.alerts import service
from core.alerts.models import Notification
from core.alerts.outbox import dispatch, sweep
from core.audit.models import AuditEvent
from core.db import utcnow
from core.org.models import Person
from tests.conftest import make_settings
from tests.core.alert_receivers import free_port

SECRET = "webhook-secret-for-tests"


@pytest.fixture
def settings(tmp_path, fresh_db_url, smtp, http, hook):
    return make_settings(tmp_path, database_url=fresh_db_url, smtp_url=smtp.url,
                         sms_gateway_url=http.url + "/sms", webhook_url=hook.url + "/hook",
                         webhook_secret=SECRET, alert_retry_base_seconds=60)


@pytest.fixture
def wang(org, make_user):
    return make_user("wang", person=Person.get(Person.name == "受理员a"),
                     email="wang@example.cn", phone="13800000000")


def channel_rows(alert, channel):
    return list(Notification.select().where((Notification.alert == alert.id)
                                            & (Notification.channel == channel)))


def test_red_alert_is_delivered_on_every_channel(org, wang, smtp, http, hook):
    alert = service.emit("core.test", org["a"], "Red flag on tender 12", target_user=wang,
                         level="red")
    done = dispatch()
    assert done == {"batched": 1, "enqueued": 3}
    rows = {n.channel: n for n in Notification.select().where(Notification.alert == alert.id)}
    assert {c: n.state for c, n in rows.items()} == {c: "sent" for c in
                                                     ("inbox", "email", "sms", "webhook")}
    (rcpts, msg), = smtp.messages
    assert rcpts == ["wang@example.cn"]
    assert msg["Message-ID"] == f"<{rows['email'].uid}@qinglian>"
    assert msg["X-Qinglian-Notification"] == rows["email"].uid
    assert "Red flag on tender 12" in msg["Subject"]
    sms = next(r for r in http.requests if r["path"] == "/sms")
    assert sms["json"]["id"] == rows["sms"].uid
    assert sms["json"]["to"] == "13800000000"
    assert "Red flag on tender 12" in sms["json"]["text"]
    assert sms["json"]["alert"]["level"] == "red"
    req, = hook.requests
    assert req["path"] == "/hook"
    assert req["headers"]["X-Qinglian-Notification"] == rows["webhook"].uid
    expected = hmac.new(SECRET.encode(), req["body"], hashlib.sha256).hexdigest()
    assert req["headers"]["X-Qinglian-Signature"] == "sha256=" + expected
    assert req["json"]["id"] == rows["webhook"].uid
    assert req["json"]["recipient"]["username"] == "wang"


def test_sms_refused_with_503_is_retried_with_backoff_then_delivered(org, wang, http):
    http.script = [503, 503]
    alert = service.emit("core.test", org["a"], "retry me", target_user=wang, level="red")
    t0 = utcnow()
    dispatch()
    sms, = channel_rows(alert, "sms")
    assert (sms.state, sms.attempts, sms.last_error) == ("pending", 1, "HTTP 503 Service Unavailable")
    assert sms.claimed_until is None
    first_wait = (sms.next_attempt_at - t0).total_seconds()
    assert 59 <= first_wait <= 62
    assert dispatch()["enqueued"] == 0  # not due yet
    dispatch(now=sms.next_attempt_at + dt.timedelta(seconds=1))
    sms, = channel_rows(alert, "sms")
    assert (sms.state, sms.attempts) == ("pending", 2)
    assert 118 <= (sms.next_attempt_at - utcnow()).total_seconds() <= 122  # doubled
    sweep(now=sms.next_attempt_at + dt.timedelta(seconds=1))
    sms, = channel_rows(alert, "sms")
    assert (sms.state, sms.attempts, sms.last_error) == ("sent", 3, "")
    ids = [r["json"]["id"] for r in http.requests if r["path"] == "/sms"]
    assert ids == [sms.uid] * 3 and list(http.accepted) == [sms.uid]


def test_webhook_400_is_a_permanent_failure_marked_and_not_retried(org, wang, hook):
    hook.script = [400]
    alert = service.emit("core.test", org["a"], "bad payload", target_user=wang, level="red")
    dispatch()
    row, = channel_rows(alert, "webhook")
    assert (row.state, row.last_error, row.attempts) == ("failed", "HTTP 400 Bad Request", 1)
    event = AuditEvent.get(AuditEvent.action == "alert.notification.failed")
    assert event.object_id == row.uid and not event.success
    sweep(now=utcnow() + dt.timedelta(days=1))
    assert len(hook.requests) == 1
    assert service.outbox_counts()["failed"] == 1


def test_429_is_retried_not_failed(org, wang, http):
    service.set_preferences(wang, {"sms": True})
    alert = service.emit("core.test", org["a"], "busy 2", target_user=wang, level="yellow")
    http.script = [429]
    dispatch()
    sms, = channel_rows(alert, "sms")
    assert sms.state == "pending" and "429" in sms.last_error


def test_smtp_server_down_is_retried_and_attempts_are_capped(app, org, wang):
    from dataclasses import replace
    app.config["QL_SETTINGS"] = replace(app.config["QL_SETTINGS"],
                                        smtp_url=f"smtp://127.0.0.1:{free_port()}",
                                        alert_max_attempts=2, alert_retry_base_seconds=1)
    alert = service.emit("core.test", org["a"], "mail", target_user=wang, level="yellow")
    dispatch()
    mail, = channel_rows(alert, "email")
    assert mail.state == "pending" and "ConnectionRefused" in mail.last_error
    dispatch(now=utcnow() + dt.timedelta(seconds=5))
    mail, = channel_rows(alert, "email")
    assert mail.state == "failed" and mail.last_error.startswith("gave up after 2 attempts")


def test_smtp_recipient_refused_is_permanent(app, org, make_user, smtp):
    smtp.refuse.add("li@example.cn")
    user = make_user("li", person=Person.get(Person.name == "受理员b"), email="li@example.cn")
    alert = service.emit("core.test", org["b"], "mail", target_user=user, level="yellow")
    dispatch()
    mail, = channel_rows(alert, "email")
    assert mail.state == "failed" and "550" in mail.last_error
