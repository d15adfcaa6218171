"""Signals to alerts: yellow to the handler's post holders; red to the handler, the
department head and the region's supervision office, through ``core.alerts.emit_many``.

A backlog (e.g. the first sweep after a backfill) is alerted in batches: one query reads
a batch of signals with their case and clock, two more find the batch's posts and
accounts, one ``emit_many`` raises the batch's alerts and the batch is marked alerted in
one UPDATE, all in one transaction."""
from __future__ import annotations

import datetime as dt

from peewee import JOIN

from core.api import (
    AlertSpec,
    Post,
    Region,
    User,
    db,
    deployment_language,
    emit_many,
    publish,
    supervision_office,
    utcnow,
)
from plugins.esupervision import wording
from plugins.esupervision.models import Clock, MonitoredCase, Signal
from plugins.esupervision.sweep import YELLOW_KIND

BATCH = 500


def kind_of(level: str, code: str) -> str:
    return YELLOW_KIND if level == "yellow" else f"esupervision.signal.{code}"


def pending(limit: int):
    """The oldest signals not yet alerted, with what their alerts need (one query)."""
    return list(_rows().where(Signal.alerted_at.is_null())
                .order_by(Signal.id).limit(limit).namedtuples())


def row_of(signal_id: int):
    """One signal as a row of :func:`pending` (for a payload built later)."""
    return _rows().where(Signal.id == signal_id).namedtuples().get()


def _rows():
    return (Signal.select(Signal.id, Signal.level, Signal.code, Signal.dedupe_key,
                          Signal.detail, Signal.raised_at, MonitoredCase.id.alias("case_id"),
                          MonitoredCase.serial, MonitoredCase.source,
                          MonitoredCase.region.alias("region_id"),
                          MonitoredCase.department.alias("department_id"),
                          MonitoredCase.department_name, MonitoredCase.item_name,
                          MonitoredCase.handler_username, MonitoredCase.handler_post_id,
                          Clock.post_id.alias("clock_post_id"))
            .join(MonitoredCase)
            .switch(Signal).join(Clock, JOIN.LEFT_OUTER))


class Recipients:
    """Posts, accounts and supervision offices of a batch, each looked up once."""

    def __init__(self):
        self.posts: set[int] = set()
        self.users: dict[str, int] = {}
        self.offices: dict[int, object] = {}

    def load(self, rows) -> None:
        post_ids = {self.post_of(r) for r in rows} - {None}
        if post_ids:
            self.posts |= {pid for (pid,) in Post.select(Post.id)
                           .where(Post.id.in_(sorted(post_ids))).tuples()}
        names = {r.handler_username for r in rows if r.handler_username} - set(self.users)
        if names:
            self.users.update(User.select(User.username, User.id)
                              .where(User.username.in_(sorted(names))).tuples())

    @staticmethod
    def post_of(row) -> int | None:
        return row.clock_post_id or row.handler_post_id or None

    def office(self, region_id: int):
        if region_id not in self.offices:
            self.offices[region_id] = supervision_office(Region.get_by_id(region_id))
        return self.offices[region_id]

    def targets(self, row) -> dict:
        post = self.post_of(row)
        targets = {"target_post": post if post in self.posts else None,
                   "target_user": self.users.get(row.handler_username)}
        if row.level == "red" or not any(targets.values()):
            targets["target_department"] = row.department_id
        return {k: v for k, v in targets.items() if v is not None}


def specs_of(row, recipients: Recipients) -> tuple[list[AlertSpec], list[str]]:
    """The alert(s) of one signal (a row of :func:`pending`) and lines describing them."""
    details = {"serial": row.serial, "source": row.source, "code": row.code,
               "detail": row.detail, "department": row.department_name,
               "item": row.item_name}
    subject = wording.signal(details)[:200]
    kind = kind_of(row.level, row.code)
    ref = f"esupervision.case:{row.case_id}"
    specs, lines = [], []
    targets = recipients.targets(row)
    if targets:
        specs.append(AlertSpec(kind, row.region_id, subject, ref=ref,
                               dedupe_key=row.dedupe_key, details=details, **targets))
        lines.append(f"{row.level} {row.code} {row.serial} -> handler/department")
    if row.level == "red":
        office = recipients.office(row.region_id)
        if office is not None:
            specs.append(AlertSpec(kind, row.region_id, subject, target_department=office,
                                   ref=ref, dedupe_key=row.dedupe_key + ":office",
                                   details=details))
            lines.append(f"{row.level} {row.code} {row.serial} -> {office.name}")
    return specs, lines


RAISED_EVENT = "esupervision.signal.raised"
CLOSED_EVENT = "esupervision.signal.closed"


def raised_payload(row, recipients: Recipients, region_code: str) -> dict:
    """The ``esupervision.signal.raised`` payload of a signal (a row of :func:`pending`),
    self-contained (docs/events.md)."""
    return {"signal_id": row.id, "level": row.level, "code": row.code,
            "region_code": region_code, "detail": row.detail,
            "post_id": recipients.post_of(row), "handler_username": row.handler_username or None,
            "case": {"id": row.case_id, "serial": row.serial, "source": row.source,
                     "department_name": row.department_name, "item_name": row.item_name},
            "raised_at": row.raised_at.isoformat() if row.raised_at else None}


def publish_raised(batch, recipients: Recipients) -> None:
    """Publish ``esupervision.signal.raised`` for each signal of an alerted batch (in its
    transaction), so other platforms (the risk plugin's post warnings) can react."""
    codes = dict(Region.select(Region.id, Region.code).where(
        Region.id.in_(sorted({r.region_id for r in batch}))).tuples())
    for row in batch:
        publish(RAISED_EVENT, raised_payload(row, recipients, codes[row.region_id]))


def publish_closed(signal: Signal, outcome: str, at: dt.datetime) -> None:
    """Publish ``esupervision.signal.closed``: its supervision case closed after the
    rectification (``closed``) or the signal dismissed on verification (``dismissed``)."""
    publish(CLOSED_EVENT, {"signal_id": signal.id, "level": signal.level,
                           "code": signal.code, "region_code": Region.get_by_id(
                               signal.region_id).code, "outcome": outcome,
                           "closed_at": at.isoformat()})


def alert_pending(limit: int | None = None, now: dt.datetime | None = None) -> list[str]:
    """Alert every signal not yet alerted, in batches, each batch in one transaction
    (``now``: the alerts' time, the current one unless a replay of past days says)."""
    lines: list[str] = []
    recipients = Recipients()
    done = 0
    while limit is None or done < limit:
        with db.atomic():
            batch = pending(BATCH if limit is None else min(BATCH, limit - done))
            if not batch:
                break
            recipients.load(batch)
            specs: list[AlertSpec] = []
            with deployment_language():  # the stored subject lines
                for row in batch:
                    row_specs, row_lines = specs_of(row, recipients)
                    specs += row_specs
                    lines += row_lines
            emit_many(specs, now=now)
            Signal.update(alerted_at=now or utcnow()) \
                .where(Signal.id.in_([r.id for r in batch])).execute()
            publish_raised(batch, recipients)
            done += len(batch)
    return lines
