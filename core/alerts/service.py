"""The alert bus's rules: kinds, emit, recipients, lifecycle, escalation, preferences.

Alerts (预警) are raised only through :func:`emit` (one) or :func:`emit_many` (a batch),
in the caller's transaction: they write the alerts and their outbox rows; jobs deliver
them later (``core.alerts.outbox``).
"""
from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import threading
import time
import uuid
from collections.abc import Iterable
from contextlib import nullcontext
from dataclasses import KW_ONLY, dataclass
from typing import Any

from flask import current_app
from peewee import JOIN, fn

from core import clock
from core.alerts.models import LEVELS, Alert, AlertPreference, InboxItem, Notification
from core.audit.service import max_variables, record, record_many
from core.auth.models import User
from core.db import db, utcnow
from core.i18n import _, _l
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
            if not all(isinstance(c, str) for c in spec.get("channels", ())):
                raise AlertError(f"alert kind {spec.get('code')!r}: channels is a list of "
                                 "channel codes")
            cache[spec["code"]] = spec
    return cache


LEVEL_LABELS = {"reminder": _l("Reminder"), "yellow": _l("Yellow"), "red": _l("Red")}


def kind_label(code: str) -> str:
    """The translated label of an alert kind (the code when no part declares it)."""
    spec = kinds().get(code)
    return str(spec["label"]) if spec else code


def title(alert: Alert) -> str:
    """The alert's subject in the reader's language: a kind may declare a ``subject``
    callable that words it from the alert's details (``ql_alert_kinds``); otherwise, or
    when the details do not fit it, the subject line as it was raised."""
    spec = kinds().get(alert.kind) or {}
    words = spec.get("subject")
    if words is not None and alert.details:
        try:
            text = words(json.loads(alert.details))
        except (ValueError, KeyError, TypeError):
            text = None
        if text:
            return str(text)[:200]
    return alert.subject


def link(alert: Alert) -> str | None:
    """Where the matter an alert is about is handled: the kind's ``link`` callable
    (``ql_alert_kinds``) given the alert's ``ref``; None when it declares none."""
    spec = kinds().get(alert.kind) or {}
    to = spec.get("link")
    if to is None or not alert.ref:
        return None
    try:
        return to(alert.ref)
    except (ValueError, KeyError, TypeError, LookupError):
        return None


def channel_label(code: str) -> str:
    channel = channels().get(code)
    return str(channel.label) if channel is not None else code


def channels() -> dict[str, object]:
    """Delivery channels declared by the core and enabled plugins, by code."""
    cache = current_app.extensions.setdefault("qinglian.alert_channels", {})
    if not cache:
        for channel in host().collect("ql_alert_channels"):
            cache[channel.code] = channel
    return cache


def _settings():
    return current_app.config["QL_SETTINGS"]


# -- hot path: emit() and emit_many() run in every sweep of every plugin, so their
# statements are prepared once per database kind and size instead of being rebuilt by
# the query builder each time.
def _q(name: str) -> str:
    return f'"{name}"'


@functools.lru_cache(maxsize=128)
def _insert_sql(database_type: type, model, columns: tuple[str, ...], rows: int,
                ignore: bool, returning: tuple[str, ...]) -> str:
    fields = model._meta.fields
    one = "(" + ", ".join([database_type.param] * len(columns)) + ")"
    return (f"INSERT INTO {_q(model._meta.table_name)} ("
            + ", ".join(_q(fields[c].column_name) for c in columns) + ") VALUES "
            + ", ".join([one] * rows)
            + (" ON CONFLICT DO NOTHING" if ignore else "")
            + (" RETURNING " + ", ".join(_q(fields[c].column_name) for c in returning)
               if returning else ""))


def _insert(model, columns: tuple[str, ...], rows: list[dict], *, ignore: bool = False,
            returning: tuple[str, ...] = ()):
    """INSERT ``rows`` (dicts holding ``columns``) into ``model``'s table."""
    sql = _insert_sql(type(db.obj), model, columns, len(rows), ignore, returning)
    convert = [(c, model._meta.fields[c].db_value) for c in columns]
    return db.execute_sql(sql, [value(row[c]) for row in rows for c, value in convert])


def _chunks(items: list, width: int = 1, extra: int = 0):
    """``items`` in slices that fit one statement binding ``width`` parameters for each
    and ``extra`` more (SQLite's variable limit: 999 or 32766, depending on its version)."""
    if len(items) * width + extra <= 999:  # fits everywhere: the single emit's path
        if items:
            yield items
        return
    per = max(1, (max_variables() - extra) // width)
    for start in range(0, len(items), per):
        yield items[start:start + per]


@functools.lru_cache(maxsize=32)
def _holders_sql(database_type: type, posts: int) -> str:
    p = database_type.param
    return (
        f"SELECT DISTINCT h.{_q('post_id')}, u.{_q('id')} FROM {_q(User._meta.table_name)} u "
        f"JOIN {_q(PostHolding._meta.table_name)} h ON h.{_q('person_id')} = "
        f"u.{_q('person_id')} WHERE h.{_q('post_id')} IN ({', '.join([p] * posts)}) "
        f"AND h.{_q('start')} <= {p} AND (h.{_q('end')} IS NULL OR h.{_q('end')} >= {p}) "
        f"AND u.{_q('active')} = {p} ORDER BY h.{_q('post_id')}, u.{_q('id')}")


# -- recipients ----------------------------------------------------------------------
def holders_by_post(post_ids, today: dt.date | None = None) -> dict[int, list[int]]:
    """``{post id: ids of the active users whose person currently holds it}``; a post
    nobody holds is missing."""
    today = today or clock.today()
    day = PostHolding.start.db_value(today)
    out: dict[int, list[int]] = {}
    for chunk in _chunks(sorted(set(post_ids)), extra=3):
        sql = _holders_sql(type(db.obj), len(chunk))
        for post, user in db.execute_sql(sql, [*chunk, day, day, User.active.db_value(True)]):
            out.setdefault(post, []).append(user)
    return out


def post_holders(post_ids, today: dt.date | None = None) -> list[int]:
    """Ids of active users whose person currently holds one of ``post_ids``."""
    return sorted({u for users in holders_by_post(post_ids, today).values() for u in users})


def heads_by_department(department_ids, today: dt.date | None = None) -> dict[int, list[int]]:
    """``{department id: ids of the users holding its head post (is_head)}``; a department
    whose head post nobody holds is missing."""
    heads: dict[int, list[int]] = {}
    for chunk in _chunks(sorted(set(department_ids)), extra=1):
        for post, dept in (Post.select(Post.id, Post.department)
                           .where(Post.department.in_(chunk) & (Post.is_head == True))
                           .tuples()):
            heads.setdefault(dept, []).append(post)
    holders = holders_by_post([p for posts in heads.values() for p in posts], today)
    out = {dept: sorted({u for p in posts for u in holders.get(p, ())})
           for dept, posts in heads.items()}
    return {dept: users for dept, users in out.items() if users}


def head_users(department_id: int, today: dt.date | None = None) -> list[int]:
    """Ids of the users holding the head post (``is_head``) of a department."""
    return heads_by_department([department_id], today).get(department_id, [])


def _active_users(user_ids) -> set[int]:
    out: set[int] = set()
    for chunk in _chunks(sorted(set(user_ids)), extra=1):
        out.update(u for (u,) in User.select(User.id)
                   .where(User.id.in_(chunk) & (User.active == True)).tuples())
    return out


class _Recipients:
    """Who alerts are addressed to — a post's holders, a department's head post holders,
    an active user — with each distinct post, department and user of a batch looked up
    once (a sweep's alerts share few posts and departments)."""

    def __init__(self, alerts: list[Alert], today: dt.date):
        posts = {a.target_post_id for a in alerts} - {None}
        depts = {a.target_department_id for a in alerts} - {None}
        users = {a.target_user_id for a in alerts} - {None}
        self.holders = holders_by_post(posts, today) if posts else {}
        self.heads = heads_by_department(depts, today) if depts else {}
        self.active = _active_users(users) if users else set()

    def of(self, alert: Alert) -> list[int]:
        ids = set(self.holders.get(alert.target_post_id, ()))
        ids.update(self.heads.get(alert.target_department_id, ()))
        if alert.target_user_id in self.active:
            ids.add(alert.target_user_id)
        return sorted(ids)


def reach(user, today: dt.date | None = None) -> list[Post]:
    """The posts ``user`` holds today, with their departments: what decides which alerts
    reach the user's inbox (a post's alerts, and a department's when the post is its
    head post), besides alerts addressed to the user by name."""
    if not getattr(user, "person_id", None):
        return []
    today = today or clock.today()
    return list(Post.select(Post, Department).join(Department).switch(Post)
                .join(PostHolding)
                .where((PostHolding.person == user.person_id) & (PostHolding.start <= today)
                       & (PostHolding.end.is_null(True) | (PostHolding.end >= today)))
                .order_by(Department.name, Post.title))


def supervision_office(region: Region) -> Department | None:
    """The supervision office of ``region``, else of its nearest ancestor that has one."""
    for node in region.lineage():
        office = (Department.select().where((Department.region == node.id)
                                            & (Department.is_supervision_office == True))
                  .order_by(Department.id).first())
        if office is not None:
            return office
    return None


def departments_of_users(user_ids, today: dt.date | None = None) -> dict[int, int]:
    """``{user id: the department of the user's current post (the first by post id)}``;
    a user holding no post is missing."""
    today = today or clock.today()
    out: dict[int, int] = {}
    for chunk in _chunks(sorted(set(user_ids)), extra=2):
        for user, dept in (Post.select(User.id, Post.department).join(PostHolding)
                           .join(User, on=(User.person == PostHolding.person))
                           .where(User.id.in_(chunk), PostHolding.start <= today,
                                  PostHolding.end.is_null(True) | (PostHolding.end >= today))
                           .order_by(Post.id).tuples()):
            out.setdefault(user, dept)
    return out


def department_of_user(user_id: int, today: dt.date | None = None) -> int | None:
    """The department of a user's current post (the first by post id), if any."""
    return departments_of_users([user_id], today).get(user_id)


class _Ladder:
    """The levels above alerts' targets (see :func:`escalation_chain`), with each target
    post, target user and region of a batch looked up once."""

    def __init__(self, alerts: list[Alert], today: dt.date):
        posts = sorted({a.target_post_id for a in alerts if a.target_post_id
                        and not a.target_department_id})
        users = {a.target_user_id for a in alerts if a.target_user_id
                 and not a.target_post_id and not a.target_department_id}
        self.posts: dict[int, tuple[int, bool]] = {}
        for chunk in _chunks(posts):
            self.posts.update((p, (d, h)) for p, d, h in Post.select(
                Post.id, Post.department, Post.is_head).where(Post.id.in_(chunk)).tuples())
        self.departments = departments_of_users(users, today) if users else {}
        self.offices: dict[int, int | None] = {}

    def office(self, region_id: int) -> int | None:
        if region_id not in self.offices:
            office = supervision_office(Region.get_by_id(region_id))
            self.offices[region_id] = office.id if office is not None else None
        return self.offices[region_id]

    def chain(self, alert: Alert) -> list[tuple[str, int]]:
        steps: list[tuple[str, int]] = []
        dept = None
        if alert.target_department_id:
            dept = alert.target_department_id
        elif alert.target_post_id:
            dept, is_head = self.posts[alert.target_post_id]
            if not is_head:
                steps.append(("department_head", dept))
        elif alert.target_user_id:
            dept = self.departments.get(alert.target_user_id)
            if dept is not None:
                steps.append(("department_head", dept))
        office = self.office(alert.region_id)
        if office is not None and office != dept:
            steps.append(("supervision_office", office))
        return steps


def escalation_chain(alert: Alert) -> list[tuple[str, int]]:
    """The next levels above an alert's target: ``[(step, department id)]`` — the
    department head (unless the target already is that head), then the region's
    supervision office."""
    return _Ladder([alert], clock.today()).chain(alert)


def _escalate_vacant(alerts: list[Alert], today: dt.date) -> dict[int, tuple[int, str, list]]:
    """Targets nobody holds go straight to the first level above them that has someone:
    ``{alert id: (level, step, user ids)}`` for the alerts that found someone."""
    ladder = _Ladder(alerts, today)
    chains = {alert.id: ladder.chain(alert) for alert in alerts}
    heads = heads_by_department({d for chain in chains.values() for _, d in chain}, today)
    out = {}
    for alert_id, chain in chains.items():
        for level, (step, dept) in enumerate(chain, start=1):
            if dept in heads:
                out[alert_id] = (level, step, heads[dept])
                break
    return out


def _id(obj) -> int:
    return obj if isinstance(obj, int) else obj.id


# -- channel choice ------------------------------------------------------------------
class _Channels:
    """Channel choice for a set of recipients, their accounts and preferences read once:
    red goes to every channel a user can be reached on; other levels to the channels the
    user chose (default: inbox and e-mail), and to the channels the alert's kind always
    uses (``"channels"`` in ``ql_alert_kinds``: a site-arrival reminder is an SMS)."""

    def __init__(self, user_ids):
        self.settings = _settings()
        self.configured = [c for c in channels().values()
                           if c.code == "inbox" or getattr(c, "configured", _yes)(self.settings)]
        self.inbox_only = [c.code for c in self.configured] == ["inbox"]
        self.users: dict[int, User] = {}
        self.prefs: dict[tuple[int, str], bool] = {}
        self.chosen: dict[tuple, list[tuple[int, str]]] = {}
        if self.inbox_only:
            return
        for chunk in _chunks(sorted(set(user_ids))):
            self.users.update((u.id, u) for u in User.select(User, Person)
                              .join(Person, JOIN.LEFT_OUTER, on=(User.person == Person.id))
                              .where(User.id.in_(chunk)))
            self.prefs.update(((u, c), e) for u, c, e in AlertPreference.select(
                AlertPreference.user, AlertPreference.channel, AlertPreference.enabled)
                .where(AlertPreference.user.in_(chunk)).tuples())

    def pairs(self, user_ids: list[int], level: str, kind: str = "") -> list[tuple[int, str]]:
        """``[(user id, channel)]`` for ``user_ids`` (ids read at construction)."""
        if self.inbox_only:
            return [(uid, "inbox") for uid in user_ids]
        key = (tuple(user_ids), level, kind)
        if key not in self.chosen:
            forced = set(kinds()[kind].get("channels", ())) if kind in kinds() else set()
            out = []
            for uid in user_ids:
                user = self.users.get(uid)
                for channel in self.configured if user is not None else ():
                    if not getattr(channel, "available", _yes)(user, self.settings):
                        continue
                    if (channel.code == "inbox" or level == "red" or channel.code in forced
                            or self.prefs.get((uid, channel.code), channel.code in DEFAULT_ON)):
                        out.append((uid, channel.code))
            self.chosen[key] = out
        return self.chosen[key]


def choose_channels(user_ids: list[int], level: str, kind: str = "") -> list[tuple[int, str]]:
    """``[(user id, channel)]``: red goes to every channel a user can be reached on;
    other levels to the channels the user chose (default: inbox and e-mail) and those
    the kind always uses."""
    return _Channels(user_ids).pairs(list(user_ids), level, kind) if user_ids else []


def _yes(*_args) -> bool:
    return True


def _notification_rows(alert_id: int, pairs, escalation_level: int, now) -> list[dict]:
    return [{"uid": uuid.uuid4().hex, "alert": alert_id, "user": uid, "channel": ch,
             "escalation_level": escalation_level, "state": "pending", "attempts": 0,
             "next_attempt_at": now, "created_at": now, "last_error": "", "retries": 0}
            for uid, ch in pairs]


# -- emit ----------------------------------------------------------------------------
@dataclass(frozen=True)
class AlertSpec:
    """One alert for :func:`emit_many`: the arguments of :func:`emit`, by the same names
    (``AlertSpec(kind, region, subject, target_post=…, dedupe_key=…)``)."""

    kind: str
    region: Any
    subject: str
    _: KW_ONLY
    target_post: Any = None
    target_department: Any = None
    target_user: Any = None
    ref: str = ""
    dedupe_key: str | None = None
    details: dict | None = None
    level: str | None = None


def emit(kind: str, region, subject: str, *, target_post=None, target_user=None,
         target_department=None, ref: str = "", dedupe_key: str | None = None,
         details: dict | None = None, level: str | None = None,
         now: dt.datetime | None = None) -> Alert:
    """Raise an alert (预警) in the caller's transaction and write its outbox rows.

    With ``dedupe_key``, an alert of the same kind that is still open (or acknowledged)
    is returned instead of raising a second one (``alert.deduplicated`` is then True).
    A target nobody holds escalates at once to the next level that has someone."""
    now = now or utcnow()
    spec = AlertSpec(kind, region, subject, target_post=target_post, target_user=target_user,
                     target_department=target_department, ref=ref, dedupe_key=dedupe_key,
                     details=details, level=level)
    return _raise([_alert_row(spec, now)], now)[0]


def emit_many(specs: Iterable[AlertSpec], *, now: dt.datetime | None = None) -> list[Alert]:
    """Raise many alerts (one :class:`AlertSpec` each) in the caller's transaction, as
    :func:`emit` one by one would, with a few multi-row statements per thousand alerts.

    Returns one alert per spec, in order: a spec whose open key (``kind|dedupe_key``) is
    already open, or came earlier in the batch, gets that alert with ``deduplicated``
    True. A bad spec raises :class:`AlertError` naming it, before anything is written."""
    specs = list(specs)
    now = now or utcnow()
    rows = []
    for number, spec in enumerate(specs, start=1):
        try:
            if not isinstance(spec, AlertSpec):
                raise AlertError(_("An AlertSpec is required, not %(type)s.",
                                   type=type(spec).__name__))
            rows.append(_alert_row(spec, now))
        except AlertError as exc:
            name = (f"{spec.kind} {spec.dedupe_key or (spec.subject or '')[:60]}"
                    if isinstance(spec, AlertSpec) else repr(spec)[:60])
            raise AlertError(_("Alert %(number)s of %(count)s (%(name)s): %(error)s",
                               number=number, count=len(specs), name=name,
                               error=exc)) from None
    return _raise(rows, now)


def _alert_row(spec: AlertSpec, now: dt.datetime) -> dict:
    """The alert row of a spec, checked: AlertError names what is wrong."""
    kind = kinds().get(spec.kind)
    if kind is None:
        raise AlertError(_("Unknown alert kind %(kind)s (known: %(known)s).", kind=spec.kind,
                           known=", ".join(sorted(kinds())) or "-"))
    level = spec.level or kind["level"]
    if level not in LEVELS:
        raise AlertError(_("Unknown alert level %(level)s (known: %(known)s).", level=level,
                           known=", ".join(LEVELS)))
    subject = " ".join((spec.subject or "").split())
    if not subject:
        raise AlertError(_("subject: a subject is required."))
    if len(subject) > 200:
        subject = subject[:199] + "…"
    if spec.target_post is None and spec.target_user is None \
            and spec.target_department is None:
        raise AlertError(_("An alert needs a target: a post, a department or a user."))
    window = kind.get("escalate_after_hours") or 0
    return {
        "kind": spec.kind, "level": level, "region": _id(spec.region), "subject": subject,
        "details": json.dumps(spec.details, ensure_ascii=False, default=str)
        if spec.details else "",
        "ref": (spec.ref or "")[:120],
        "target_post": _id(spec.target_post) if spec.target_post is not None else None,
        "target_department": _id(spec.target_department)
        if spec.target_department is not None else None,
        "target_user": _id(spec.target_user) if spec.target_user is not None else None,
        "dedupe_key": spec.dedupe_key,
        "open_key": f"{spec.kind}|{spec.dedupe_key}" if spec.dedupe_key else None,
        "state": "open", "escalation_level": 0, "escalated_to": "", "created_at": now,
        "escalate_at": now + dt.timedelta(hours=window) if window else None,
        "resolution_note": "",
    }


def _raise(rows: list[dict], now: dt.datetime) -> list[Alert]:
    """Write checked alert rows with their outbox rows and audit events; one alert per row
    (the open one for a row whose open key is taken, or came earlier in ``rows``)."""
    if not rows:
        return []
    alerts: list[Alert | None] = [None] * len(rows)
    first: dict[str, int] = {}
    todo, again = [], []
    for i, row in enumerate(rows):
        key = row["open_key"]
        if key in first:
            again.append((i, first[key]))
        else:
            todo.append(i)
            if key is not None:
                first[key] = i
    new: list[Alert] = []
    # inside the caller's transaction no savepoint is needed: any error undoes it all
    with nullcontext() if db.in_transaction() else db.atomic():
        while todo:
            ids = _insert_alerts([rows[i] for i in todo])
            taken = {rows[i]["open_key"]: i for i, id_ in zip(todo, ids) if id_ is None}
            found = _open_alerts(list(taken))
            for i, id_ in zip(todo, ids):
                if id_ is not None:
                    alerts[i] = _alert(rows[i], id=id_, deduplicated=False)
                    new.append(alerts[i])
                elif rows[i]["open_key"] in found:
                    alerts[i] = found[rows[i]["open_key"]]
            # an open key resolved between the insert and the read is free again
            todo = [i for key, i in taken.items() if key not in found]
        if new:
            _address(new, now)
    for i, earlier in again:
        alerts[i] = _alert(alerts[earlier].__data__, deduplicated=True)
    if new:
        kick()
    return alerts


def _alert(data: dict, *, deduplicated: bool, **more) -> Alert:
    """An Alert of known column values, built as peewee builds rows read back."""
    alert = Alert(__no_default__=1)
    alert.__data__.update(data, **more)
    alert.deduplicated = deduplicated
    return alert


def _insert_alerts(rows: list[dict]) -> list[int | None]:
    """Insert alert rows whose open keys are distinct, skipping those whose key is open:
    the new ids, None where skipped. ON CONFLICT DO NOTHING on the unique ``open_key``
    keeps concurrent emits of one key to one alert; the keyed rows go in key order, so two
    batches that share keys wait on each other in one order (no deadlock on PostgreSQL)."""
    order = sorted(range(len(rows)), key=lambda i: (rows[i]["open_key"] or "", i))
    ids: list[int | None] = [None] * len(rows)
    for chunk in _chunks(order, len(ALERT_COLUMNS)):
        returned = _insert(Alert, ALERT_COLUMNS, [rows[i] for i in chunk], ignore=True,
                           returning=("id", "open_key")).fetchall()
        by_key = {key: id_ for id_, key in returned if key is not None}
        # a keyless row cannot conflict, and both SQLite and PostgreSQL number the rows
        # of one INSERT in the order of its VALUES
        keyless = iter(sorted(id_ for id_, key in returned if key is None))
        for i in chunk:
            key = rows[i]["open_key"]
            ids[i] = next(keyless) if key is None else by_key.get(key)
    return ids


def _open_alerts(keys: list[str]) -> dict[str, Alert]:
    """The open or acknowledged alerts holding ``keys``, marked deduplicated."""
    found: dict[str, Alert] = {}
    for chunk in _chunks(keys):
        for alert in Alert.select().where(Alert.open_key.in_(chunk)):
            alert.deduplicated = True
            found[alert.open_key] = alert
    return found


def _address(alerts: list[Alert], now: dt.datetime) -> None:
    """Recipients of new alerts (a vacant target escalates at once to the first level
    above it that has someone), their outbox rows and their ``alert.raise`` events."""
    today = clock.today()
    targets = _Recipients(alerts, today)
    recipients = [targets.of(alert) for alert in alerts]
    vacant = [alert for alert, users in zip(alerts, recipients) if not users]
    above = _escalate_vacant(vacant, today) if vacant else {}
    escalated: dict[tuple[int, str], list[int]] = {}
    for i, alert in enumerate(alerts):
        if alert.id in above:
            level, step, recipients[i] = above[alert.id]
            alert.escalation_level, alert.escalated_to, alert.escalated_at = level, step, now
            escalated.setdefault((level, step), []).append(alert.id)
    for (level, step), ids in escalated.items():
        for chunk in _chunks(ids, extra=3):
            Alert.update(escalation_level=level, escalated_to=step, escalated_at=now) \
                .where(Alert.id.in_(chunk)).execute()
    chooser = _Channels({u for users in recipients for u in users})
    notifications, events = [], []
    for alert, users in zip(alerts, recipients):
        pairs = chooser.pairs(users, alert.level, alert.kind)
        notifications += _notification_rows(alert.id, pairs, alert.escalation_level, now)
        events.append({"object_type": "alert", "object_id": alert.id,
                       "region_id": alert.region_id,
                       "summary": f"{alert.kind} {alert.level}: {alert.subject}"[:500],
                       "changes": {"recipients": [None, len(users)],
                                   "notifications": [None, len(pairs)]}})
    for chunk in _chunks(notifications, len(NOTIFICATION_COLUMNS)):
        _insert(Notification, NOTIFICATION_COLUMNS, chunk)
    record_many("alert.raise", events)


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
    """open/acknowledged → resolved, with a resolution note; frees the dedupe key.
    ``user`` None is the system resolving (a job, an event of another platform)."""
    note = (note or "").strip()
    if not note:
        raise AlertError(_("note: a resolution note is required."))
    if len(note) > 2000:
        raise AlertError(_("note: at most 2000 characters."))
    now = now or utcnow()
    with db.atomic():
        n = (Alert.update(state="resolved", resolved_at=now,
                          resolved_by=user.id if user is not None else None,
                          resolution_note=note, open_key=None, escalate_at=None)
             .where((Alert.id == alert.id) & (Alert.state.in_(("open", "acknowledged"))))
             .execute())
        if not n:
            raise AlertError(_("This alert is already resolved."))
        if user is not None:
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
        pairs = choose_channels(users, alert.level, alert.kind)
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


# -- delivery, as the people who raised alerts see it -----------------------------------
def notifications_of(alert_ids) -> dict[int, list[dict]]:
    """``{alert id: [{"user_id", "channel", "state", "attempts", "sent_at", "last_error"}]}``
    — every outbox row of the alerts, for the plugin that raised them to show what was
    delivered where (an alert without rows is missing)."""
    out: dict[int, list[dict]] = {}
    for chunk in _chunks(sorted(set(alert_ids))):
        for row in (Notification.select(Notification.alert, Notification.user,
                                        Notification.channel, Notification.state,
                                        Notification.attempts, Notification.sent_at,
                                        Notification.last_error)
                    .where(Notification.alert.in_(chunk))
                    .order_by(Notification.alert, Notification.id).dicts()):
            alert_id = row.pop("alert")
            row["user_id"] = row.pop("user")
            out.setdefault(alert_id, []).append(row)
    return out


# -- outbox figures --------------------------------------------------------------------
def outbox_counts() -> dict[str, int]:
    """Pending, failed and delivered notifications (the operator's check)."""
    counts = {"pending": 0, "failed": 0, "sent": 0}
    for state, n in (Notification.select(Notification.state, fn.COUNT(Notification.id))
                     .group_by(Notification.state).tuples()):
        counts[state] = n
    return counts
