"""The notification outbox (发件箱): claim with a lease, send, mark; sweep what was lost.

Huey does not acknowledge tasks, so the outbox rows are the truth. ``dispatch`` claims due
rows (a lease in ``claimed_until`` and a ``claim_token``) and enqueues one delivery task
per row; the task renews the lease only while the token is still its own, sends, and
marks the row. ``sweep`` returns rows whose lease ran out and dispatches every due row
again, so a task lost with the queue or a killed worker is still delivered. Receivers
deduplicate on the notification's ``uid``.
"""
from __future__ import annotations

import datetime as dt
import logging
import uuid

from flask import current_app

from core.alerts.channels import PermanentFailure, TemporaryFailure
from core.alerts.models import Alert, Notification
from core.audit.service import record
from core.auth.models import User
from core.db import db, utcnow
from core.org.models import Region

log = logging.getLogger("qinglian.alerts")

BATCH = 1000


def _settings():
    return current_app.config["QL_SETTINGS"]


def backoff_seconds(attempts: int) -> int:
    """Exponential backoff after the ``attempts``-th failed try, capped at one hour."""
    base = _settings().alert_retry_base_seconds
    return int(min(base * 2 ** max(attempts - 1, 0), 3600))


def _due(now):
    return ((Notification.state == "pending") & (Notification.next_attempt_at <= now)
            & (Notification.claimed_until.is_null(True) | (Notification.claimed_until < now)))


def _batch_channels() -> dict[str, object]:
    from core.alerts.service import channels
    return {c: ch for c, ch in channels().items() if hasattr(ch, "send_many")}


def dispatch(ids=None, now: dt.datetime | None = None, limit: int = 5000) -> dict[str, int]:
    """Deliver due notifications: batch channels (the inbox) at once, set-based; for the
    others claim each row and enqueue its delivery task. ``ids`` limits it to those rows."""
    now = now or utcnow()
    done = {"batched": 0, "enqueued": 0}
    batch = _batch_channels()
    if batch:
        done["batched"] = _deliver_batches(batch, ids, now)
    from core.alerts.tasks import deliver_task
    token = uuid.uuid4().hex
    lease = now + dt.timedelta(seconds=_settings().alert_lease_seconds)
    with db.atomic():
        due = (Notification.select(Notification.id).where(_due(now))
               .order_by(Notification.next_attempt_at, Notification.id).limit(limit))
        if batch:
            due = due.where(Notification.channel.not_in(list(batch)))
        if ids is not None:
            due = due.where(Notification.id.in_(list(ids)))
        picked = [i for (i,) in due.tuples()]
        claimed = []
        for start in range(0, len(picked), 500):
            chunk = picked[start:start + 500]
            (Notification.update(claimed_until=lease, claim_token=token)
             .where(Notification.id.in_(chunk) & _due(now)).execute())
        if picked:
            claimed = [i for (i,) in Notification.select(Notification.id)
                       .where(Notification.claim_token == token).tuples()]
    for nid in claimed:
        deliver_task(nid, token)
    done["enqueued"] = len(claimed)
    return done


def _deliver_batches(batch: dict, ids, now) -> int:
    total = 0
    while True:
        token = uuid.uuid4().hex
        lease = now + dt.timedelta(seconds=_settings().alert_lease_seconds)
        with db.atomic():
            q = (Notification.select(Notification.id)
                 .where(_due(now) & Notification.channel.in_(list(batch)))
                 .order_by(Notification.id).limit(BATCH))
            if ids is not None:
                q = q.where(Notification.id.in_(list(ids)))
            picked = [i for (i,) in q.tuples()]
            if not picked:
                return total
            (Notification.update(claimed_until=lease, claim_token=token,
                                 attempts=Notification.attempts + 1, last_attempt_at=now)
             .where(Notification.id.in_(picked) & _due(now)).execute())
            rows = list(Notification.select(Notification.id, Notification.uid,
                                            Notification.alert, Notification.user,
                                            Notification.channel)
                        .where(Notification.claim_token == token))
            by_channel: dict[str, list] = {}
            for row in rows:
                by_channel.setdefault(row.channel, []).append(row)
            for code, group in by_channel.items():
                batch[code].send_many(group)
            (Notification.update(state="sent", sent_at=utcnow(), claimed_until=None)
             .where((Notification.claim_token == token) & (Notification.state == "pending"))
             .execute())
        total += len(rows)


def deliver(nid: int, token: str) -> str:
    """Send one claimed notification: ``sent``, ``retry``, ``failed`` or ``skipped`` (the
    claim is no longer this task's: another worker has it, or it is done)."""
    from core.alerts.service import channels
    settings = _settings()
    now = utcnow()
    lease = now + dt.timedelta(seconds=settings.alert_lease_seconds)
    with db.atomic():
        n = (Notification.update(claimed_until=lease, attempts=Notification.attempts + 1,
                                 last_attempt_at=now)
             .where((Notification.id == nid) & (Notification.claim_token == token)
                    & (Notification.state == "pending")).execute())
    if not n:
        return "skipped"
    row = (Notification.select(Notification, Alert, Region, User)
           .join(Alert).join(Region).switch(Notification).join(User)
           .where(Notification.id == nid).get())
    channel = channels().get(row.channel)
    try:
        if channel is None:
            raise PermanentFailure(f"no channel {row.channel!r} is installed")
        if getattr(channel, "transactional", False):
            with db.atomic():
                channel.send(row, row.user)
                return _finish_sent(nid, token)
        channel.send(row, row.user)
    except PermanentFailure as exc:
        return _finish_failed(row, token, str(exc))
    except TemporaryFailure as exc:
        return _finish_retry(row, token, str(exc), settings)
    except Exception as exc:  # noqa: BLE001 - any other error is worth another try
        return _finish_retry(row, token, f"{type(exc).__name__}: {exc}", settings)
    return _finish_sent(nid, token)


def _finish_sent(nid: int, token: str) -> str:
    (Notification.update(state="sent", sent_at=utcnow(), claimed_until=None, last_error="")
     .where((Notification.id == nid) & (Notification.claim_token == token)
            & (Notification.state == "pending")).execute())
    return "sent"


def _finish_failed(row: Notification, token: str, error: str) -> str:
    with db.atomic():
        n = (Notification.update(state="failed", claimed_until=None, last_error=error[:2000])
             .where((Notification.id == row.id) & (Notification.claim_token == token)
                    & (Notification.state == "pending")).execute())
        if n:
            record("alert.notification.failed", object_type="notification",
                   object_id=row.uid, region_id=row.alert.region_id, success=False,
                   summary=f"{row.channel} to {row.user.username}: {error}"[:500])
    log.warning("notification %s (%s) failed for good: %s", row.uid, row.channel, error)
    return "failed"


def _finish_retry(row: Notification, token: str, error: str, settings) -> str:
    attempts = row.attempts
    if attempts >= settings.alert_max_attempts:
        return _finish_failed(row, token, f"gave up after {attempts} attempts: {error}")
    delay = backoff_seconds(attempts)
    (Notification.update(claimed_until=None, last_error=error[:2000],
                         next_attempt_at=utcnow() + dt.timedelta(seconds=delay))
     .where((Notification.id == row.id) & (Notification.claim_token == token)
            & (Notification.state == "pending")).execute())
    from core.alerts.tasks import dispatch_task
    dispatch_task.schedule(args=([row.id],), delay=delay + 1)
    log.info("notification %s (%s) will be retried in %ss: %s", row.uid, row.channel,
             delay, error)
    return "retry"


def release_expired(now: dt.datetime | None = None) -> int:
    """Return rows whose lease ran out (their worker died or their task was lost)."""
    now = now or utcnow()
    with db.atomic():
        return (Notification.update(claimed_until=None)
                .where((Notification.state == "pending")
                       & (Notification.claimed_until < now)).execute())


def sweep(now: dt.datetime | None = None) -> dict[str, int]:
    """The minute sweep: release expired leases and dispatch every due row."""
    now = now or utcnow()
    released = release_expired(now)
    done = dispatch(now=now)
    done["released"] = released
    return done

