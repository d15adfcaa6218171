"""Off-site anchors (锚点外送): the newest seal, sent where the database cannot reach.

The anchor file proves the chain's head only if it is kept where whoever can rewrite the
database cannot rewrite it too. So after a seal (from the sealing job, once the seal has
committed) and from the minute job, the newest block's anchor is sent to every address
of QL_AUDIT_ANCHOR_EMAIL and to QL_AUDIT_ANCHOR_URL: at most every
QL_AUDIT_ANCHOR_INTERVAL_MINUTES per destination, unless forced, and always the newest
seal at the moment of sending.

Each delivery is a row of :class:`AuditAnchorDelivery` (durable: Huey does not
acknowledge tasks). A failed try is retried with the alert outbox's backoff
(QL_ALERT_RETRY_BASE_SECONDS, doubling, at most an hour) up to QL_ALERT_MAX_ATTEMPTS;
then, or at once when the receiver refuses for good, the row fails, the failure is
audited and a red ``audit.anchor.undelivered`` alert goes to every security and audit
administrator. Nothing here raises into the seal.

What is sent is the anchor file's JSON (:func:`core.audit.seal.anchor_doc`), which
``audit verify --anchor FILE`` reads as it arrives: the e-mail attaches it and repeats it
in its body; the HTTP POST adds the delivery's ``id`` and the ``deployment`` and is signed
like the alert webhook (``X-Qinglian-Signature: sha256=<hex HMAC-SHA256 of the body>``).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import socket
import uuid
from dataclasses import dataclass, field
from email.message import EmailMessage

from flask import current_app

from core.alerts import emit
from core.alerts.channels import (
    PermanentFailure,
    TemporaryFailure,
    post_json,
    sign,
    smtp_send,
)
from core.audit.models import AuditAnchorDelivery as Delivery
from core.audit.models import AuditBlock
from core.audit.seal import anchor_doc, anchor_text, check_anchor_holds
from core.audit.service import record
from core.auth.models import Grant, Role, User
from core.db import db, utcnow
from core.i18n import _
from core.org.models import Region

log = logging.getLogger("qinglian.audit")

ALERT_KIND = "audit.anchor.undelivered"
ALERT_ROLES = ("security_admin", "audit_admin")
BACKOFF_CAP_SECONDS = 3600


def _settings():
    return current_app.config["QL_SETTINGS"]


@dataclass(frozen=True)
class Destination:
    """Where anchors go: an e-mail address (``email``) or the HTTP receiver (``http``)."""

    channel: str
    address: str

    @property
    def key(self) -> str:
        return f"{self.channel}|{self.address}"


@dataclass
class Outcome:
    """What one try of one delivery did: ``sent``, ``retry`` or ``failed``."""

    destination: Destination
    state: str
    block_id: int
    error: str = ""


@dataclass
class Panel:
    """The viewer's anchor panel: the newest seal and each destination's last delivery."""

    head: AuditBlock | None
    rows: list[tuple[Destination, Delivery | None]] = field(default_factory=list)
    interval: int = 60
    error: str = ""

    @property
    def busy(self) -> bool:
        return any(d is not None and d.state == "pending" for _dest, d in self.rows)


def destinations(settings=None) -> list[Destination]:
    """The configured destinations: each anchor e-mail address, then the HTTP receiver."""
    settings = settings or _settings()
    out = [Destination("email", a) for a in settings.audit_anchor_emails()]
    if settings.audit_anchor_url:
        out.append(Destination("http", settings.audit_anchor_url))
    return out


def newest_block() -> AuditBlock | None:
    """The chain's head, once the anchor file agrees with the chain (else ChainError): an
    anchor the chain contradicts is never sent off-site."""
    check_anchor_holds()
    return AuditBlock.select().order_by(AuditBlock.last_seq.desc()).first()


def deployment_name() -> str:
    """The deployment as its top region names it (e.g. "成都市 510100"), else the host."""
    roots = (Region.select(Region.name, Region.code).where(Region.parent.is_null(True))
             .order_by(Region.code).limit(3))
    return ", ".join(f"{r.name} {r.code}" for r in roots) or socket.gethostname()


def last_delivery(dest: Destination) -> Delivery | None:
    return (Delivery.select().where((Delivery.channel == dest.channel)
                                    & (Delivery.destination == dest.address))
            .order_by(Delivery.created_at.desc(), Delivery.id.desc()).first())


# -- opening deliveries ---------------------------------------------------------------
def queue(now: dt.datetime | None = None, *, force: bool = False,
          trigger: str = "seal") -> list[int]:
    """Open a delivery of the newest anchor to each destination that is due one, and
    return the ids of the pending deliveries due now.

    A destination is due when its last delivery is older than the interval and its last
    sent anchor is not the chain's head; with ``force`` every destination is due now (a
    delivery still being retried is then simply tried at once)."""
    settings = _settings()
    dests = destinations(settings)
    if not dests:
        return []
    head = newest_block()
    if head is None:
        return []
    now = now or utcnow()
    since = now - dt.timedelta(minutes=settings.audit_anchor_interval_minutes)
    due: list[int] = []
    with db.atomic():
        for dest in dests:
            pending = Delivery.get_or_none(Delivery.open_key == dest.key)
            if pending is not None:
                if force:
                    (Delivery.update(next_attempt_at=now)
                     .where(Delivery.id == pending.id).execute())
                if force or pending.next_attempt_at <= now:
                    due.append(pending.id)
                continue
            if not force and not _wanted(dest, head, since):
                continue
            (Delivery.insert(uid=uuid.uuid4().hex, channel=dest.channel,
                             destination=dest.address, open_key=dest.key, trigger=trigger,
                             block_id=head.id, last_seq=head.last_seq, hash=head.hash,
                             sealed_at=head.created_at, state="pending", attempts=0,
                             last_error="", created_at=now, next_attempt_at=now)
             .on_conflict_ignore().execute())
            row = Delivery.get_or_none(Delivery.open_key == dest.key)
            if row is not None:  # None: another worker opened and finished it meanwhile
                due.append(row.id)
    return due


def _wanted(dest: Destination, head: AuditBlock, since: dt.datetime) -> bool:
    last = last_delivery(dest)
    if last is None:
        return True
    if last.created_at > since:
        return False
    sent = (Delivery.select(Delivery.block_id)
            .where((Delivery.channel == dest.channel) & (Delivery.destination == dest.address)
                   & (Delivery.state == "sent"))
            .order_by(Delivery.id.desc()).first())
    return sent is None or sent.block_id != head.id


def after_seal() -> None:
    """Open the deliveries a seal made due and hand them to a worker. Never raises: the
    seal has committed, and the minute job picks up whatever this leaves."""
    try:
        ids = queue()
        if ids:
            from core.audit.tasks import send_anchor_task
            send_anchor_task(ids)
    except Exception:  # delivery must never fail the seal
        log.exception("audit anchor: delivery not queued; the minute job will retry")


# -- sending ----------------------------------------------------------------------------
def _due(now: dt.datetime):
    return ((Delivery.state == "pending") & (Delivery.next_attempt_at <= now)
            & (Delivery.claimed_until.is_null(True) | (Delivery.claimed_until < now)))


def deliver(ids=None, now: dt.datetime | None = None) -> list[Outcome]:
    """Send the due pending deliveries (all, or only ``ids``). Each is claimed first (a
    lease of QL_ALERT_LEASE_SECONDS), so two workers never send one twice, and carries
    the newest seal at sending time. Raises ChainError when the chain contradicts the
    anchor file: such a head is not sent."""
    settings = _settings()
    now = now or utcnow()
    query = Delivery.select(Delivery.id).where(_due(now)).order_by(Delivery.id)
    if ids is not None:
        query = query.where(Delivery.id.in_(list(ids)))
    picked = [i for (i,) in query.tuples()]
    if not picked:
        return []
    head = newest_block()
    if head is None:
        return []
    name = deployment_name()
    configured = set(destinations(settings))
    lease = now + dt.timedelta(seconds=settings.alert_lease_seconds)
    out = []
    for did in picked:
        token = uuid.uuid4().hex
        with db.atomic():
            claimed = (Delivery.update(claimed_until=lease, claim_token=token,
                                       attempts=Delivery.attempts + 1, last_attempt_at=now,
                                       block_id=head.id, last_seq=head.last_seq,
                                       hash=head.hash, sealed_at=head.created_at)
                       .where((Delivery.id == did) & _due(now)).execute())
        if claimed:
            out.append(_send(Delivery.get_by_id(did), token, head, name, configured, now))
    return out


def _send(row: Delivery, token: str, head: AuditBlock, name: str, configured: set,
          now: dt.datetime) -> Outcome:
    dest = Destination(row.channel, row.destination)
    if dest not in configured:
        return _give_up(row, token, "the destination is no longer configured", now,
                        alert=False)
    settings = _settings()
    try:
        if dest.channel == "email":
            send_email(dest.address, head, name, row.uid)
        else:
            send_http(dest.address, head, name, row.uid)
    except PermanentFailure as exc:
        return _give_up(row, token, str(exc), now)
    except Exception as exc:  # noqa: BLE001 - temporary or unforeseen: try again
        error = str(exc) if isinstance(exc, TemporaryFailure) else f"{type(exc).__name__}: {exc}"
        if row.attempts >= settings.alert_max_attempts:
            return _give_up(row, token, f"gave up after {row.attempts} attempts: {error}", now)
        delay = backoff_seconds(row.attempts)
        (Delivery.update(claimed_until=None, last_error=error[:2000],
                         next_attempt_at=now + dt.timedelta(seconds=delay))
         .where(_mine(row, token)).execute())
        log.info("audit anchor to %s will be retried in %ss: %s", dest.address, delay, error)
        return Outcome(dest, "retry", row.block_id, error)
    (Delivery.update(state="sent", open_key=None, claimed_until=None, sent_at=now,
                     last_error="").where(_mine(row, token)).execute())
    return Outcome(dest, "sent", row.block_id)


def _mine(row: Delivery, token: str):
    return ((Delivery.id == row.id) & (Delivery.claim_token == token)
            & (Delivery.state == "pending"))


def backoff_seconds(attempts: int) -> int:
    """The alert outbox's backoff: QL_ALERT_RETRY_BASE_SECONDS, doubling, at most an hour."""
    base = _settings().alert_retry_base_seconds
    return int(min(base * 2 ** max(attempts - 1, 0), BACKOFF_CAP_SECONDS))


def _give_up(row: Delivery, token: str, error: str, now: dt.datetime, *,
             alert: bool = True) -> Outcome:
    """Mark the delivery failed, audit it and (unless the destination was removed)
    alert the security and audit administrators, in one transaction."""
    dest = Destination(row.channel, row.destination)
    with db.atomic():
        done = (Delivery.update(state="failed", open_key=None, claimed_until=None,
                                last_error=error[:2000]).where(_mine(row, token)).execute())
        if done:
            record("audit.anchor.undelivered", object_type="audit_anchor_delivery",
                   object_id=row.uid, success=False,
                   summary=f"anchor of block {row.block_id} not delivered to "
                           f"{dest.address}: {error}"[:500])
            if alert:
                _alert(row, error)
    log.warning("audit anchor to %s failed for good: %s", dest.address, error)
    return Outcome(dest, "failed", row.block_id, error)


def _alert(row: Delivery, error: str) -> None:
    """A red alert to each active security or audit administrator (deduplicated per
    destination while it is open); one that cannot be raised is logged."""
    holders: dict[int, int] = {}
    for user_id, region_id in (Grant.select(Grant.user, Grant.region).join(Role)
                               .switch(Grant).join(User)
                               .where(Role.code.in_(ALERT_ROLES) & (User.active == True))
                               .order_by(Grant.id).tuples()):
        holders.setdefault(user_id, region_id)
    if not holders:
        log.error("audit anchor undelivered to %s and nobody holds %s to be alerted",
                  row.destination, " or ".join(ALERT_ROLES))
        return
    subject = _("The audit anchor could not be delivered to %(destination)s",
                destination=row.destination)
    digest = hashlib.sha256(f"{row.channel}|{row.destination}".encode()).hexdigest()[:16]
    details = {"channel": row.channel, "destination": row.destination,
               "block_id": row.block_id, "attempts": row.attempts, "error": error[:500]}
    for user_id, region_id in holders.items():
        try:
            with db.atomic():
                emit(ALERT_KIND, region_id, subject, target_user=user_id, details=details,
                     ref=f"audit_anchor_delivery:{row.id}",
                     dedupe_key=f"{digest}:{user_id}")
        except Exception:  # the failure itself stays recorded
            log.exception("audit anchor: could not alert user %s", user_id)


# -- the two transports -------------------------------------------------------------------
def send_email(to: str, head: AuditBlock, deployment: str, uid: str) -> None:
    """E-mail the anchor to ``to``: the anchor file attached and repeated in the body."""
    settings = _settings()
    text = anchor_text(head)
    msg = EmailMessage()
    msg["From"] = settings.smtp_from
    msg["To"] = to
    msg["Subject"] = _("[%(deployment)s] Audit anchor: block %(block)d",
                       deployment=deployment, block=head.id)
    msg["Message-ID"] = f"<{uid}@qinglian>"
    msg["X-Qinglian-Anchor"] = uid
    msg.set_content(_("The newest seal of the audit trail of %(deployment)s. Keep this "
                      "message where the database administrators cannot change it. To check "
                      "the chain against it, save the attached file (or the JSON below) and "
                      "run: flask --app wsgi audit verify --anchor FILE",
                      deployment=deployment) + "\n\n" + text)
    msg.add_attachment(text.encode("utf-8"), maintype="application", subtype="json",
                       filename=f"audit_anchor-{head.id}.json")
    smtp_send(msg)


def http_body(head: AuditBlock, deployment: str, uid: str) -> bytes:
    """The JSON the HTTP receiver gets: the anchor, the delivery id, the deployment."""
    doc = {**anchor_doc(head), "id": uid, "deployment": deployment}
    return json.dumps(doc, ensure_ascii=False, sort_keys=True).encode("utf-8")


def send_http(url: str, head: AuditBlock, deployment: str, uid: str) -> None:
    """POST the anchor to ``url``, signed with QL_AUDIT_ANCHOR_SECRET as the alert webhook
    is (``X-Qinglian-Signature: sha256=<hex HMAC-SHA256 of the body>``)."""
    body = http_body(head, deployment, uid)
    post_json(url, body, {
        "X-Qinglian-Anchor": uid,
        "X-Qinglian-Signature": "sha256=" + sign(_settings().audit_anchor_secret, body),
    })


# -- reading ------------------------------------------------------------------------------
def panel() -> Panel:
    """The newest seal and, per configured destination, its last delivery."""
    settings = _settings()
    head = AuditBlock.select().order_by(AuditBlock.last_seq.desc()).first()
    return Panel(head, [(d, last_delivery(d)) for d in destinations(settings)],
                 settings.audit_anchor_interval_minutes)


def recent(limit: int = 20) -> list[Delivery]:
    """The newest deliveries, newest first (``audit anchor status``)."""
    return list(Delivery.select().order_by(Delivery.id.desc()).limit(limit))
