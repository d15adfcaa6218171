"""The alert board (预警看板) read by subject (事由): the alerts one matter raised for its
several recipients (a red signal alerts the handler's post and the supervision office)
are one row, with who they went to and how far each got.

A subject is (kind, level, region, reference, subject line): emit writes those the same
for every recipient of one matter, and different for two matters."""
from __future__ import annotations

import datetime as dt
import operator
from dataclasses import dataclass, field
from functools import reduce

from peewee import SQL, Case, fn

from core.alerts.models import LEVELS, Alert, InboxItem
from core.auth.models import User
from core.clock import today, utc_midnight
from core.db import utcnow
from core.i18n import _l
from core.org.models import Department, Post, Region

KEY = (Alert.kind, Alert.level, Alert.region, Alert.ref, Alert.subject)
PERIODS = {"": _l("all time"), "month": _l("this month"), "30d": _l("the last 30 days")}


def since(period: str) -> dt.datetime | None:
    """The first stored moment of a period of the board's filter (None: all time)."""
    if period == "month":
        return utc_midnight(today().replace(day=1))
    if period == "30d":
        return utcnow() - dt.timedelta(days=30)
    return None


def _one(condition):
    return fn.SUM(Case(None, [(condition, 1)], 0))


def grouped(query):
    """``query`` (alerts, filtered and scoped) as one row per subject."""
    return (query.select(*KEY, fn.MIN(Alert.id).alias("first_id"),
                         fn.COUNT(Alert.id).alias("alerts"),
                         fn.MIN(Alert.created_at).alias("since"),
                         fn.MAX(Alert.escalation_level).alias("escalation"),
                         _one(Alert.state == "open").alias("open"),
                         _one(Alert.state == "acknowledged").alias("acknowledged"),
                         _one(Alert.state == "resolved").alias("resolved"))
            .group_by(*KEY).order_by())


SORTS = {"age": fn.MIN(Alert.created_at), "level": Alert.level, "kind": Alert.kind,
         "region": Alert.region, "count": fn.COUNT(Alert.id)}


def counts(query) -> dict[str, dict[str, int]]:
    """``{level: {"subjects": n, "alerts": m}}`` of ``query`` (every level present)."""
    out = {level: {"subjects": 0, "alerts": 0} for level in LEVELS}
    per_subject = query.select(Alert.level, fn.COUNT(Alert.id).alias("n")) \
        .group_by(*KEY).order_by().alias("s")
    rows = (Alert.select(per_subject.c.level, fn.COUNT(SQL("*")), fn.SUM(per_subject.c.n))
            .from_(per_subject).group_by(per_subject.c.level).tuples())
    for level, subjects, alerts in rows:
        out.setdefault(level, {})
        out[level] = {"subjects": subjects, "alerts": int(alerts or 0)}
    return out


@dataclass
class Delivery:
    """One alert of a subject: whom it addressed, its state, how many people it reached."""

    alert: Alert
    target: str
    reached: int


@dataclass
class Subject:
    """A row of the board."""

    row: object
    region: str
    deliveries: list[Delivery] = field(default_factory=list)

    @property
    def reached(self) -> int:
        return sum(d.reached for d in self.deliveries)


def _targets(alerts: list[Alert]) -> dict[int, str]:
    posts = {a.target_post_id for a in alerts} - {None}
    depts = {a.target_department_id for a in alerts} - {None}
    users = {a.target_user_id for a in alerts} - {None}
    post_names = {pid: f"{dept} · {title}" for pid, title, dept in
                  Post.select(Post.id, Post.title, Department.name).join(Department)
                  .where(Post.id.in_(sorted(posts))).tuples()} if posts else {}
    dept_names = dict(Department.select(Department.id, Department.name)
                      .where(Department.id.in_(sorted(depts))).tuples()) if depts else {}
    user_names = dict(User.select(User.id, User.username)
                      .where(User.id.in_(sorted(users))).tuples()) if users else {}
    out = {}
    for a in alerts:
        parts = [post_names.get(a.target_post_id), dept_names.get(a.target_department_id),
                 user_names.get(a.target_user_id)]
        out[a.id] = " / ".join(p for p in parts if p) or "—"
    return out


def subjects(rows: list, query) -> list[Subject]:
    """The board's rows with each subject's alerts (``query``: the same filtered, scoped
    alerts the rows were grouped from), their targets and the people each reached."""
    if not rows:
        return []
    match = reduce(operator.or_, [
        (Alert.kind == r.kind) & (Alert.level == r.level) & (Alert.region == r.region_id)
        & (Alert.ref == r.ref) & (Alert.subject == r.subject) for r in rows])
    alerts = list(query.where(match).order_by(Alert.id))
    ids = [a.id for a in alerts]
    reached = dict(InboxItem.select(InboxItem.alert, fn.COUNT(InboxItem.id))
                   .where(InboxItem.alert.in_(ids)).group_by(InboxItem.alert).tuples())
    targets = _targets(alerts)
    names = dict(Region.select(Region.id, Region.name)
                 .where(Region.id.in_(sorted({r.region_id for r in rows}))).tuples())
    out = {(r.kind, r.level, r.region_id, r.ref, r.subject): Subject(r, names.get(r.region_id, ""))
           for r in rows}
    for a in alerts:
        subject = out.get((a.kind, a.level, a.region_id, a.ref, a.subject))
        if subject is not None:
            subject.deliveries.append(Delivery(a, targets[a.id], reached.get(a.id, 0)))
    return list(out.values())
