"""Delivery problems (投递异常): notifications the outbox could not deliver, listed for the
operators and sent back to the outbox by hand.

A notification is ``failed`` for good after QL_ALERT_MAX_ATTEMPTS tries or a permanent
refusal. :func:`retry` puts the named rows back, strictly: if one of them cannot be
retried nothing changes and every reason is named. :func:`retry_failed` puts back every
failed row matching a filter and skips, counted by reason, the ones that cannot be
delivered. A retried row is pending and due now, unclaimed, with its attempt counter at
0 (the backoff starts again) and its last error kept until the next try; ``retries``
counts the manual retries. Each retry is audited (``alert.notification.retry``) in the
same transaction, and dispatch is nudged once it is committed.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from dataclasses import dataclass, field

from flask import current_app
from peewee import JOIN, fn

from core.alerts.models import Alert, Notification
from core.alerts.service import AlertError, channels
from core.audit.service import record
from core.auth.models import User
from core.db import db, utcnow
from core.i18n import _, _l
from core.org.models import Person, Region

log = logging.getLogger("qinglian.alerts")

VIEW = "core.alerts.deliveries"
RETRY = "core.alerts.retry"
STATES = ("failed", "retrying", "all")
CHUNK = 500
MAX_SELECTED = 1000
SWEEP_GRACE_SECONDS = 120  # two minute sweeps: a due row still waiting after that is stuck

SKIP_LABELS = {
    "disabled": _l("the recipient's account is disabled"),
    "not_installed": _l("the channel is not installed"),
    "not_configured": _l("the channel is not configured"),
    "unreachable": _l("the recipient has no address on the channel"),
    "resolved": _l("the alert is resolved"),
}


class RetryRefused(AlertError):
    """A refused retry; ``reasons`` names each notification and why."""

    def __init__(self, reasons: list[str]):
        super().__init__(" ".join(reasons))
        self.reasons = reasons


@dataclass
class RetryResult:
    """The notifications queued again, and those skipped (reason code -> count)."""

    ids: list[int]
    skipped: Counter = field(default_factory=Counter)

    @property
    def count(self) -> int:
        return len(self.ids)

    def skipped_text(self) -> str:
        """``"2 × the recipient's account is disabled; …"`` (empty when none)."""
        return "; ".join(f"{n} × {SKIP_LABELS[code]}" for code, n in sorted(self.skipped.items()))


def _settings():
    return current_app.config["QL_SETTINGS"]


# -- the list ------------------------------------------------------------------------
def problem_condition(state: str, now: dt.datetime | None = None):
    """``failed``; ``retrying``: pending after a failed try, or due for longer than a
    lease and two sweeps (no worker is taking it); ``all``: both."""
    if state not in STATES:
        raise AlertError(_("state: expected one of %(known)s.", known=", ".join(STATES)))
    now = now or utcnow()
    stuck = now - dt.timedelta(seconds=_settings().alert_lease_seconds + SWEEP_GRACE_SECONDS)
    failed = Notification.state == "failed"
    retrying = (Notification.state == "pending") & (
        (Notification.attempts > 0) | (Notification.next_attempt_at < stuck))
    return {"failed": failed, "retrying": retrying, "all": failed | retrying}[state]


def problems(state: str = "failed", *, channel: str = "", region_id: int | None = None,
             now: dt.datetime | None = None):
    """Notifications with a delivery problem, with their alert, region and recipient.
    Not scoped: callers restrict it with ``core.auth.scope.scoped(…, Alert.region, …)``."""
    query = (Notification.select(Notification, Alert, Region, User)
             .join(Alert).join(Region).switch(Notification).join(User)
             .where(problem_condition(state, now)))
    if channel:
        query = query.where(Notification.channel == channel)
    if region_id is not None:
        query = query.where(Alert.region == region_id)
    return query


def counts(query) -> dict[str, int]:
    """``{"failed": n, "retrying": n}`` over a (scoped) query of notifications."""
    out = {"failed": 0, "retrying": 0}
    for state, n in (query.select(Notification.state, fn.COUNT(Notification.id))
                     .where(problem_condition("all")).group_by(Notification.state).tuples()):
        out["failed" if state == "failed" else "retrying"] += n
    return out


# -- retry ---------------------------------------------------------------------------
def refusal(row: Notification, settings=None, chans=None) -> tuple[str, str] | None:
    """Why ``row`` cannot be retried, as ``(code, message)``; None when it can.
    ``row`` comes with its alert and its recipient (and the recipient's person)."""
    settings = settings or _settings()
    chans = chans if chans is not None else channels()
    nid, user = row.id, row.user
    if row.state == "sent":
        return "not_failed", _("Notification #%(id)d was already delivered: only a failed "
                               "notification can be retried.", id=nid)
    if row.state != "failed":
        return "not_failed", _("Notification #%(id)d is still pending in the outbox: only a "
                               "failed notification can be retried.", id=nid)
    if not user.active:
        return "disabled", _("Notification #%(id)d: the recipient's account %(user)s is "
                             "disabled.", id=nid, user=user.username)
    channel = chans.get(row.channel)
    if channel is None:
        return "not_installed", _("Notification #%(id)d: channel %(channel)s is not "
                                  "installed.", id=nid, channel=row.channel)
    if not getattr(channel, "configured", lambda s: True)(settings):
        setting = getattr(channel, "setting", "")
        if setting:
            return "not_configured", _("Notification #%(id)d: channel %(channel)s is not "
                                       "configured (%(setting)s is not set).", id=nid,
                                       channel=row.channel, setting=setting)
        return "not_configured", _("Notification #%(id)d: channel %(channel)s is not "
                                   "configured.", id=nid, channel=row.channel)
    if not getattr(channel, "available", lambda u, s: True)(user, settings):
        return "unreachable", _("Notification #%(id)d: %(user)s has no address for channel "
                                "%(channel)s.", id=nid, user=user.username, channel=row.channel)
    if row.alert.state == "resolved":
        return "resolved", _("Notification #%(id)d: its alert is resolved, there is nothing "
                             "left to deliver.", id=nid)
    return None


def _rows(condition, within):
    query = (Notification.select(Notification, Alert, User, Person)
             .join(Alert).switch(Notification).join(User)
             .join(Person, JOIN.LEFT_OUTER, on=(User.person == Person.id), attr="person")
             .where(condition))
    if within is not None:
        query = query.where(Alert.region.in_(sorted(within)))
    return query


def retry(ids, *, user=None, within=None, via: str = "web",
          now: dt.datetime | None = None) -> RetryResult:
    """Queue the failed notifications ``ids`` again, all or none.

    ``within``: the region ids the acting user may retry in (None: everywhere, for the
    CLI); a row outside it is reported as unknown. Raises :class:`RetryRefused`."""
    try:
        ids = sorted({int(i) for i in ids})
    except (TypeError, ValueError):
        raise AlertError(_("id: a notification id is a whole number.")) from None
    if not ids:
        raise AlertError(_("id: choose at least one notification to retry."))
    if len(ids) > MAX_SELECTED:
        raise AlertError(_("id: at most %(n)d notifications at once; retry every failed "
                           "notification matching a filter instead.", n=MAX_SELECTED))
    now = now or utcnow()
    settings, chans = _settings(), channels()
    with db.atomic():
        rows = {r.id: r for r in _rows(Notification.id.in_(ids), within)}
        reasons = []
        for nid in ids:
            row = rows.get(nid)
            if row is None:
                reasons.append(_("There is no notification #%(id)d.", id=nid))
                continue
            why = refusal(row, settings, chans)
            if why is not None:
                reasons.append(why[1])
        if reasons:
            raise RetryRefused(reasons)
        _requeue([rows[i] for i in ids], user, via, now)
    nudge(ids)
    return RetryResult(ids)


def retry_failed(*, channel: str = "", region_id: int | None = None, user=None, within=None,
                 via: str = "web", now: dt.datetime | None = None) -> RetryResult:
    """Queue again every failed notification matching ``channel`` and ``region_id`` (and
    ``within``), skipping those that cannot be delivered (counted by reason)."""
    if channel and channel not in channels():
        raise AlertError(_("channel: unknown channel %(code)s (known: %(known)s).",
                           code=channel, known=", ".join(sorted(channels()))))
    now = now or utcnow()
    settings, chans = _settings(), channels()
    condition = Notification.state == "failed"
    if channel:
        condition &= Notification.channel == channel
    if region_id is not None:
        condition &= Alert.region == region_id
    result = RetryResult([])
    with db.atomic():
        last = 0
        while True:
            batch = list(_rows(condition & (Notification.id > last), within)
                         .order_by(Notification.id).limit(CHUNK))
            if not batch:
                break
            last = batch[-1].id
            ok = []
            for row in batch:
                why = refusal(row, settings, chans)
                if why is None:
                    ok.append(row)
                else:
                    result.skipped[why[0]] += 1
            if ok:
                _requeue(ok, user, via, now)
                result.ids += [r.id for r in ok]
    if result.ids:
        nudge(result.ids)
    return result


def _requeue(rows: list[Notification], user, via: str, now: dt.datetime) -> None:
    """Back to pending, due now, unclaimed, attempts from 0; one audit event per region
    (and per CHUNK rows) naming the ids. Raises if a row changed meanwhile."""
    ids = [r.id for r in rows]
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        n = (Notification.update(state="pending", attempts=0, next_attempt_at=now,
                                 claimed_until=None, claim_token=None,
                                 retries=Notification.retries + 1)
             .where(Notification.id.in_(chunk) & (Notification.state == "failed")).execute())
        if n != len(chunk):
            raise RetryRefused([_("These notifications changed meanwhile (someone else "
                                  "retried them); reload the page and try again.")])
    by_region: dict[int, list[Notification]] = {}
    for row in rows:
        by_region.setdefault(row.alert.region_id, []).append(row)
    suffix = " (cli)" if via == "cli" else ""
    for region_id, group in sorted(by_region.items()):
        for start in range(0, len(group), CHUNK):
            part = group[start:start + CHUNK]
            if len(part) == 1:
                row = part[0]
                object_id = row.uid
                summary = (f"{row.channel} to {row.user.username} queued again after "
                           f"{row.attempts} attempt(s): {row.last_error}")
            else:
                object_id = ""
                by_channel = Counter(r.channel for r in part)
                summary = (f"{len(part)} failed notifications queued again ("
                           + ", ".join(f"{c} {k}" for c, k in sorted(by_channel.items()))
                           + ")")
            record("alert.notification.retry", object_type="notification",
                   object_id=object_id, region_id=region_id, user=user,
                   summary=(summary[:480] + suffix),
                   changes={"ids": [r.id for r in part], "count": len(part),
                            "state": ["failed", "pending"]})


def nudge(ids) -> None:
    """Ask a worker to dispatch the retried rows now (all due rows when there are many).
    Only a nudge: the minute sweep delivers them if the queue cannot be reached."""
    from core.alerts.tasks import dispatch_task
    try:
        dispatch_task(list(ids) if len(ids) <= CHUNK else None)
    except Exception:
        log.warning("could not reach the job queue; the sweep will deliver", exc_info=True)
