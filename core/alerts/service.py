"""The alert bus's rules: kinds, emit, recipients, lifecycle, escalation, preferences.

Alerts (预警) are raised only through :func:`emit`, in the caller's transaction: it
writes the alert and its outbox rows; jobs deliver them later (``core.alerts.outbox``).
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
import uuid
from contextlib import nullcontext
from zoneinfo import ZoneInfo

from flask import current_app
from peewee import JOIN, fn

from core.alerts.models import LEVELS, Alert, AlertPreference, InboxItem, Notification
from core.audit.service import record
from core.auth.models import User
from core.db import db, utcnow
from core.i18n import _
from core.org.models import Department, Person, Post, PostHolding, Region
from core.plugins import host

log = logging.getLogger("qinglian.alerts")

DEFAULT_ON = {"inbox", "email"}
ALERT_COLUMNS = ("kind", "level", "region", "subject", "details", "ref", "target_post",
                 "target_department", "target_user", "dedupe_key", "open_key", "state",
                 "escalation_level", "escalated_to", "created_at", "escalate_at",
                 "resolution_note")
NOTIFICATION_COLUMNS = ("uid", "alert", "user", "channel", "escalation_level", "state",
                        "attempts", "next_attempt_at", "created_at", "last_error", "retries")
ESCALATION_STEPS = ("department_head", "supervision_office")


class AlertError(ValueError):
    """A refused alert operation; the message names what is wrong."""


# -- registry: kinds and channels ----------------------------------------------------
def kinds() -> dict[str, dict]:
    """Alert kinds declared by the core and enabled plugins, by code."""
    cache = current_app.extensions.setdefault("qinglian.alert_kinds", {})
    if not cache:
        for spec in host().collect("ql_alert_kinds"):
            if spec.get("level") not in LEVELS:
                raise AlertError(f"alert kind {spec.get('code')!r}: level must be one of "
                                 + ", ".join(LEVELS))
            cache[spec["code"]] = spec
    return cache


def channels() -> dict[str, object]:
    """Delivery channels declared by the core and enabled plugins, by code."""
    cache = current_app.extensions.setdefault("qinglian.alert_channels", {})
    if not cache:
        for channel in host().collect("ql_alert_channels"):
            cache[channel.code] = channel
    return cache


def _settings():
    return current_app.config["QL_SETTINGS"]


def local_today() -> dt.date:
    """Today in QL_TIMEZONE: post holdings are dated in local days."""
    return dt.datetime.now(ZoneInfo(_settings().timezone)).date()


# -- hot path: emit() runs in every sweep of every plugin, so its three statements are
# prepared once per database kind instead of being rebuilt by the query builder each time.
_SQL: dict = {}


def _q(name: str) -> str:
    return f'"{name}"'


def _insert(model, columns: tuple[str, ...], rows: list[dict], *, ignore: bool = False,
            returning: bool = False):
    """INSERT ``rows`` (dicts holding ``columns``) into ``model``'s table."""
    key = ("insert", type(db.obj), model, columns, len(rows), ignore, returning)
    sql = _SQL.get(key)
    fields = model._meta.fields
    if sql is None:
        one = "(" + ", ".join([db.obj.param] * len(columns)) + ")"
        sql = (f"INSERT INTO {_q(model._meta.table_name)} ("
               + ", ".join(_q(fields[c].column_name) for c in columns) + ") VALUES "
               + ", ".join([one] * len(rows))
               + (" ON CONFLICT DO NOTHING" if ignore else "")
               + (f" RETURNING {_q('id')}" if returning else ""))
        _SQL[key] = sql
    params = [fields[c].db_value(row[c]) for row in rows for c in columns]
    return db.execute_sql(sql, params)


def _holders_sql() -> str:
    key = ("holders", type(db.obj))
    if key not in _SQL:
        p = db.obj.param
        _SQL[key] = (
            f"SELECT DISTINCT u.{_q('id')} FROM {_q(User._meta.table_name)} u "
            f"JOIN {_q(PostHolding._meta.table_name)} h ON h.{_q('person_id')} = "
            f"u.{_q('person_id')} WHERE h.{_q('post_id')} = {p} AND h.{_q('start')} <= {p} "
            f"AND (h.{_q('end')} IS NULL OR h.{_q('end')} >= {p}) AND u.{_q('active')} = {p} "
            f"ORDER BY u.{_q('id')}")
    return _SQL[key]


# -- recipients ----------------------------------------------------------------------
def post_holders(post_ids, today: dt.date | None = None) -> list[int]:
    """Ids of active users whose person currently holds one of ``post_ids``."""
    today = today or local_today()
    post_ids = list(post_ids)
    if len(post_ids) == 1:
        day = PostHolding.start.db_value(today)
        cursor = db.execute_sql(_holders_sql(), [post_ids[0], day, day,
                                                 User.active.db_value(True)])
        return [r[0] for r in cursor.fetchall()]
    rows = (User.select(User.id).distinct()
            .join(PostHolding, on=(PostHolding.person == User.person))
            .where(PostHolding.post.in_(post_ids), PostHolding.start <= today,
                   PostHolding.end.is_null(True) | (PostHolding.end >= today),
                   User.active == True)
            .order_by(User.id).tuples())
    return [r[0] for r in rows]


def head_users(department_id: int, today: dt.date | None = None) -> list[int]:
    """Ids of the users holding the head post (``is_head``) of a department."""
    heads = [p for (p,) in Post.select(Post.id).where(
        (Post.department == department_id) & (Post.is_head == True)).tuples()]
    return post_holders(heads, today) if heads else []


def supervision_office(region: Region) -> Department | None:
    """The supervision office of ``region``, else of its nearest ancestor that has one."""
    for node in region.lineage():
        office = (Department.select().where((Department.region == node.id)
                                            & (Department.is_supervision_office == True))
                  .order_by(Department.id).first())
        if office is not None:
            return office
    return None


def department_of_user(user_id: int, today: dt.date | None = None) -> int | None:
    """The department of a user's current post (the first by post id), if any."""
    today = today or local_today()
    row = (Post.select(Post.department).join(PostHolding)
           .join(User, on=(User.person == PostHolding.person))
           .where(User.id == user_id, PostHolding.start <= today,
                  PostHolding.end.is_null(True) | (PostHolding.end >= today))
           .order_by(Post.id).tuples().first())
    return row[0] if row else None


def escalation_chain(alert: Alert) -> list[tuple[str, int]]:
    """The next levels above an alert's target: ``[(step, department id)]`` — the
    department head (unless the target already is that head), then the region's
    supervision office."""
    steps: list[tuple[str, int]] = []
    dept = None
    if alert.target_department_id:
        dept = alert.target_department_id
    elif alert.target_post_id:
        post = Post.get_by_id(alert.target_post_id)
        dept = post.department_id
        if not post.is_head:
            steps.append(("department_head", dept))
    elif alert.target_user_id:
        dept = department_of_user(alert.target_user_id)
        if dept is not None:
            steps.append(("department_head", dept))
    office = supervision_office(Region.get_by_id(alert.region_id))
    if office is not None and office.id != dept:
        steps.append(("supervision_office", office.id))
    return steps


def target_recipients(*, target_post=None, target_department=None,
                      target_user=None) -> list[int]:
    """User ids an alert is addressed to: a post's holders, a department's head, a user."""
    ids: list[int] = []
    if target_post is not None:
        ids += post_holders([_id(target_post)])
    if target_department is not None:
        ids += head_users(_id(target_department))
    if target_user is not None:
        user = User.get_or_none(User.id == _id(target_user))
        if user is not None and user.active:
            ids.append(user.id)
    return sorted(set(ids))


def _id(obj) -> int:
    return obj if isinstance(obj, int) else obj.id


# -- channel choice ------------------------------------------------------------------
def choose_channels(user_ids: list[int], level: str) -> list[tuple[int, str]]:
    """``[(user id, channel)]``: red goes to every channel a user can be reached on;
    other levels to the channels the user chose (default: inbox and e-mail)."""
    settings = _settings()
    chans = channels()
    configured = [c for c in chans.values()
                  if c.code == "inbox" or getattr(c, "configured", _yes)(settings)]
    if not user_ids:
        return []
    if [c.code for c in configured] == ["inbox"]:
        return [(uid, "inbox") for uid in user_ids]
    users = (User.select(User, Person).join(Person, JOIN.LEFT_OUTER, on=(User.person == Person.id))
             .where(User.id.in_(user_ids)))
    prefs: dict[tuple[int, str], bool] = {
        (u, c): e for u, c, e in AlertPreference.select(
            AlertPreference.user, AlertPreference.channel, AlertPreference.enabled)
        .where(AlertPreference.user.in_(user_ids)).tuples()}
    out = []
    for user in users:
        for channel in configured:
            if not getattr(channel, "available", _yes)(user, settings):
                continue
            wanted = (channel.code == "inbox" or level == "red"
                      or prefs.get((user.id, channel.code), channel.code in DEFAULT_ON))
            if wanted:
                out.append((user.id, channel.code))
    return out


def _yes(*_args) -> bool:
    return True


def _notification_rows(alert_id: int, pairs, escalation_level: int, now) -> list[dict]:
    return [{"uid": uuid.uuid4().hex, "alert": alert_id, "user": uid, "channel": ch,
             "escalation_level": escalation_level, "state": "pending", "attempts": 0,
             "next_attempt_at": now, "created_at": now, "last_error": "", "retries": 0}
            for uid, ch in pairs]


# -- emit ----------------------------------------------------------------------------
def emit(kind: str, region, subject: str, *, target_post=None, target_user=None,
         target_department=None, ref: str = "", dedupe_key: str | None = None,
         details: dict | None = None, level: str | None = None,
         now: dt.datetime | None = None) -> Alert:
    """Raise an alert (预警) in the caller's transaction and write its outbox rows.

    With ``dedupe_key``, an alert of the same kind that is still open (or acknowledged)
    is returned instead of raising a second one (``alert.deduplicated`` is then True).
    A target nobody holds escalates at once to the next level that has someone."""
    spec = kinds().get(kind)
    if spec is None:
        raise AlertError(_("Unknown alert kind %(kind)s (known: %(known)s).", kind=kind,
                           known=", ".join(sorted(kinds())) or "-"))
    level = level or spec["level"]
    if level not in LEVELS:
        raise AlertError(_("Unknown alert level %(level)s (known: %(known)s).", level=level,
                           known=", ".join(LEVELS)))
    subject = " ".join((subject or "").split())
    if not subject:
        raise AlertError(_("subject: a subject is required."))
    if len(subject) > 200:
        subject = subject[:199] + "…"
    region_id = _id(region)
    if target_post is None and target_user is None and target_department is None:
        raise AlertError(_("An alert needs a target: a post, a department or a user."))
    now = now or utcnow()
    open_key = f"{kind}|{dedupe_key}" if dedupe_key else None
    window = spec.get("escalate_after_hours") or 0
    # inside the caller's transaction no savepoint is needed: any error undoes it all
    with nullcontext() if db.in_transaction() else db.atomic():
        row = {
            "kind": kind, "level": level, "region": region_id, "subject": subject,
            "details": json.dumps(details, ensure_ascii=False, default=str) if details else "",
            "ref": (ref or "")[:120],
            "target_post": _id(target_post) if target_post is not None else None,
            "target_department": _id(target_department)
            if target_department is not None else None,
            "target_user": _id(target_user) if target_user is not None else None,
            "dedupe_key": dedupe_key, "open_key": open_key, "state": "open",
            "escalation_level": 0, "escalated_to": "", "created_at": now,
            "escalate_at": now + dt.timedelta(hours=window) if window else None,
            "resolution_note": "",
        }
        inserted = _insert(Alert, ALERT_COLUMNS, [row], ignore=True, returning=True).fetchall()
        if not inserted:
            existing = Alert.get(Alert.open_key == open_key)
            existing.deduplicated = True
            return existing
        alert = Alert(id=inserted[0][0], **row)
        alert.deduplicated = False
        recipients = target_recipients(target_post=target_post, target_user=target_user,
                                       target_department=target_department)
        if not recipients:
            recipients = _escalate_until_someone(alert, now)
        pairs = choose_channels(recipients, level)
        rows = _notification_rows(alert.id, pairs, alert.escalation_level, now)
        for start in range(0, len(rows), 200):
            _insert(Notification, NOTIFICATION_COLUMNS, rows[start:start + 200])
        record("alert.raise", object_type="alert", object_id=alert.id, region_id=region_id,
               summary=f"{kind} {level}: {subject}"[:500],
               changes={"recipients": [None, len(recipients)],
                        "notifications": [None, len(pairs)]})
    kick()
    return alert


def _escalate_until_someone(alert: Alert, now) -> list[int]:
    """A target with no holder goes straight to the first level that has one."""
    for level, (step, dept) in enumerate(escalation_chain(alert), start=1):
        users = head_users(dept)
        if users:
            alert.escalation_level, alert.escalated_to, alert.escalated_at = level, step, now
            Alert.update(escalation_level=level, escalated_to=step, escalated_at=now) \
                .where(Alert.id == alert.id).execute()
            return users
    return []


_kick_lock = threading.Lock()
_last_kick = 0.0


def kick() -> None:
    """Ask a worker to dispatch due notifications in two seconds (at most once a second
    per process). Only a nudge: the minute sweep finds whatever this misses."""
    global _last_kick
    with _kick_lock:
        if time.monotonic() - _last_kick < 1.0:
            return
        _last_kick = time.monotonic()
    from core.alerts.tasks import dispatch_task
    try:
        dispatch_task.schedule(delay=2)
    except Exception:
        log.warning("could not reach the job queue; the sweep will deliver", exc_info=True)


# -- lifecycle -----------------------------------------------------------------------
def is_recipient(user, alert: Alert) -> bool:
    return (Notification.select().where((Notification.alert == alert.id)
                                        & (Notification.user == user.id)).exists()
            or InboxItem.select().where((InboxItem.alert == alert.id)
                                        & (InboxItem.user == user.id)).exists())


def can_act(user, alert: Alert) -> bool:
    """A recipient, or a supervisor whose board scope covers the alert's region."""
    from core.auth.scope import has_permission
    return is_recipient(user, alert) or has_permission(user, "core.alerts.board",
                                                       alert.region_id)


def acknowledge(alert: Alert, user, now: dt.datetime | None = None) -> Alert:
    """open → acknowledged: someone has taken the alert in hand."""
    now = now or utcnow()
    with db.atomic():
        n = (Alert.update(state="acknowledged", acknowledged_at=now, acknowledged_by=user.id)
             .where((Alert.id == alert.id) & (Alert.state == "open")).execute())
        if not n:
            raise AlertError(_("Only an open alert can be acknowledged."))
        _mark_read(user.id, [alert.id], now)
        record("alert.acknowledge", object_type="alert", object_id=alert.id,
               region_id=alert.region_id, user=user, summary=alert.subject[:200],
               changes={"state": [alert.state, "acknowledged"]})
    return Alert.get_by_id(alert.id)


def resolve(alert: Alert, user, note: str, now: dt.datetime | None = None) -> Alert:
    """open/acknowledged → resolved, with a resolution note; frees the dedupe key."""
    note = (note or "").strip()
    if not note:
        raise AlertError(_("note: a resolution note is required."))
    if len(note) > 2000:
        raise AlertError(_("note: at most 2000 characters."))
    now = now or utcnow()
    with db.atomic():
        n = (Alert.update(state="resolved", resolved_at=now, resolved_by=user.id,
                          resolution_note=note, open_key=None, escalate_at=None)
             .where((Alert.id == alert.id) & (Alert.state.in_(("open", "acknowledged"))))
             .execute())
        if not n:
            raise AlertError(_("This alert is already resolved."))
        _mark_read(user.id, [alert.id], now)
        record("alert.resolve", object_type="alert", object_id=alert.id,
               region_id=alert.region_id, user=user, summary=note[:200],
               changes={"state": [alert.state, "resolved"]})
    return Alert.get_by_id(alert.id)


def _mark_read(user_id: int, alert_ids, now) -> int:
    return (InboxItem.update(read_at=now)
            .where((InboxItem.user == user_id) & InboxItem.alert.in_(list(alert_ids))
                   & InboxItem.read_at.is_null(True)).execute())


def mark_read(user, alert_ids=None, now: dt.datetime | None = None) -> int:
    """Mark the user's inbox items read (all of them when ``alert_ids`` is None)."""
    now = now or utcnow()
    with db.atomic():
        q = InboxItem.update(read_at=now).where((InboxItem.user == user.id)
                                                & InboxItem.read_at.is_null(True))
        if alert_ids is not None:
            q = q.where(InboxItem.alert.in_(list(alert_ids)))
        n = q.execute()
        if n:
            record("alert.read", object_type="user", object_id=user.id, user=user,
                   summary=f"{n} inbox item(s) marked read")
    return n


def unread_count(user) -> int:
    """Unread inbox items of alerts that are not resolved: the header badge."""
    return (InboxItem.select().join(Alert)
            .where((InboxItem.user == user.id) & InboxItem.read_at.is_null(True)
                   & (Alert.state != "resolved")).count())


# -- escalation ----------------------------------------------------------------------
def escalate(alert: Alert, now: dt.datetime | None = None) -> bool:
    """Escalate an alert left unhandled past its kind's window: notify the next level
    (department head, then the supervision office) and record it on the alert."""
    now = now or utcnow()
    spec = kinds().get(alert.kind, {})
    window = spec.get("escalate_after_hours") or 0
    chain = escalation_chain(alert)
    with db.atomic():
        level = alert.escalation_level
        users: list[int] = []
        step = ""
        while level < len(chain) and not users:
            step, dept = chain[level]
            level += 1
            users = head_users(dept)
        more = level < len(chain) and window
        next_at = now + dt.timedelta(hours=window) if more else None
        if not users:
            Alert.update(escalate_at=None).where(Alert.id == alert.id).execute()
            return False
        n = (Alert.update(escalation_level=level, escalated_to=step, escalated_at=now,
                          escalate_at=next_at)
             .where((Alert.id == alert.id) & (Alert.escalation_level == alert.escalation_level)
                    & Alert.state.in_(("open", "acknowledged"))).execute())
        if not n:
            return False
        pairs = choose_channels(users, alert.level)
        if pairs:
            Notification.insert_many(_notification_rows(alert.id, pairs, level, now)) \
                .on_conflict_ignore().execute()
        record("alert.escalate", object_type="alert", object_id=alert.id,
               region_id=alert.region_id, summary=f"escalated to {step} (level {level})",
               changes={"escalation_level": [alert.escalation_level, level],
                        "escalated_to": [alert.escalated_to, step]})
    kick()
    return True


def escalate_due(now: dt.datetime | None = None, limit: int = 1000) -> int:
    """The escalation job: every open or acknowledged alert past its window."""
    now = now or utcnow()
    due = list(Alert.select().where(Alert.state.in_(("open", "acknowledged"))
                                    & (Alert.escalate_at <= now))
               .order_by(Alert.escalate_at).limit(limit))
    return sum(1 for alert in due if escalate(alert, now))


# -- preferences ---------------------------------------------------------------------
def preferences(user) -> dict[str, bool]:
    """The user's channel choices for non-red alerts, defaults filled in."""
    saved = {c: e for c, e in AlertPreference.select(AlertPreference.channel,
                                                     AlertPreference.enabled)
             .where(AlertPreference.user == user.id).tuples()}
    return {code: (True if code == "inbox" else saved.get(code, code in DEFAULT_ON))
            for code in channels()}


def set_preferences(user, wanted: dict[str, bool]) -> dict[str, bool]:
    """Save which channels the user wants for non-red alerts (the inbox is always on)."""
    unknown = sorted(set(wanted) - set(channels()))
    if unknown:
        raise AlertError(_("Unknown channel %(code)s.", code=", ".join(unknown)))
    before = preferences(user)
    with db.atomic():
        for code, enabled in wanted.items():
            if code == "inbox":
                continue
            (AlertPreference.insert(user=user.id, channel=code, enabled=bool(enabled))
             .on_conflict(conflict_target=[AlertPreference.user, AlertPreference.channel],
                          update={AlertPreference.enabled: bool(enabled)}).execute())
        after = preferences(user)
        record("alert.preferences", object_type="user", object_id=user.id, user=user,
               summary="alert channel preferences",
               changes={k: [before[k], after[k]] for k in after if before.get(k) != after[k]})
    return after


# -- outbox figures --------------------------------------------------------------------
def outbox_counts() -> dict[str, int]:
    """Pending, failed and delivered notifications (the operator's check)."""
    counts = {"pending": 0, "failed": 0, "sent": 0}
    for state, n in (Notification.select(Notification.state, fn.COUNT(Notification.id))
                     .group_by(Notification.state).tuples()):
        counts[state] = n
    return counts
