"""Post warnings (岗位预警): raised by the plugin's rules, by a supervisor by hand, or by
other platforms' signals; each one is an alert of the bus (delivery, dedupe and
escalation of the alert are the bus's), with a level of the deployment's scale
(``config.levels``), a source and a target — a post (its holders), a person (their
account) or a department (its head).

open → acknowledged (受理) → handled (处置, with a note). Escalating (升级) raises the
level one step: a new alert at the new level replaces the old one. A warning on a post or
a person may be transferred once to the case supervision platform as a problem lead
(移送问题线索, :func:`transfer_as_lead`): an event the cases plugin subscribes to, never
an import. Every step audited.

The rule sweep (:func:`sweep`, a periodic job) looks at the registers in force: a measure
past its due day (counted in working days when the register came into force), a review
past its date, a notice whose rectification was not reported by its due day. Each
finding warns once (``dedupe_key``); a handled warning is not raised again for the same
finding.
"""
from __future__ import annotations

import datetime as dt

from peewee import JOIN, fn

from core.api import (
    Alert,
    AlertSpec,
    Department,
    FieldError,
    Person,
    Post,
    PostHolding,
    Region,
    User,
    _,
    clean_text,
    db,
    deployment_language,
    emit_many,
    enabled_for,
    first_record,
    is_postgres,
    parse_id,
    publish,
    record,
    regions_enabled,
    resolve,
    utcnow,
)
from core.api import (
    acknowledge as acknowledge_alert,
)
from core.api import (
    today as current_day,
)
from plugins.risk import config
from plugins.risk.access import actor, require_region
from plugins.risk.errors import RiskError
from plugins.risk.kinds import WARNING as KIND
from plugins.risk.models import Measure, Notice, Point, Register, RiskWarning

PERM = "risk.warning.manage"
TARGETS = ("post", "person", "department")
RAISED_EVENT = "risk.warning.raised"
TRANSFERRED_EVENT = "risk.warning.transferred"
TRANSFER_ACTION = "risk.warning.transfer"
LEAD_TARGETS = ("post", "person")
CHUNK = 500


# -- who an alert reaches ------------------------------------------------------------------
def account_of(person_id: int | None) -> int | None:
    """The active account of a person (the first by id), if any."""
    if not person_id:
        return None
    return (User.select(User.id).where((User.person == person_id) & (User.active == True))
            .order_by(User.id).scalar())


def _targets(w: RiskWarning) -> dict:
    if w.target == "post" and w.post_id:
        return {"target_post": w.post_id}
    if w.target == "person" and w.person_id:
        user = account_of(w.person_id)
        if user is not None:
            return {"target_user": user}
    if w.department_id:
        return {"target_department": w.department_id}
    if w.post_id:
        return {"target_post": w.post_id}
    raise RiskError(_("A warning needs a post, a person or a department to go to."))


def _spec(w: RiskWarning) -> AlertSpec:
    lv = config.level(w.level)
    with deployment_language():
        subject = f"{config.label(lv['label'])}: {w.subject}"
    return AlertSpec(KIND, w.region_id, subject[:200], ref=f"risk.warning:{w.id}",
                     dedupe_key=f"{w.id}:{w.level}", level=lv["alert"],
                     details={"warning": w.id, "level": w.level, "source": w.source,
                              "subject": w.subject, "label": lv["label"]},
                     **_targets(w))


def _alert(warnings: list[RiskWarning]) -> None:
    """Raise the alerts of ``warnings`` in one batch and remember them."""
    if not warnings:
        return
    alerts = emit_many([_spec(w) for w in warnings])
    now = utcnow()
    for w, alert in zip(warnings, alerts, strict=True):
        RiskWarning.update(alert_id=alert.id, alerted_at=now).where(
            RiskWarning.id == w.id).execute()
        w.alert_id, w.alerted_at = alert.id, now
    top = config.level_codes()[-1]
    _publish_top([w for w, alert in zip(warnings, alerts, strict=True)
                  if w.level == top and not alert.deduplicated], now)


def _publish_top(warnings: list[RiskWarning], now: dt.datetime) -> None:
    """``risk.warning.raised`` for each warning that reached the highest configured level
    (raised there or escalated to it), in the transaction that writes its alert
    (payload in docs/events.md)."""
    if not warnings:
        return
    codes = dict(Region.select(Region.id, Region.code).where(
        Region.id.in_({w.region_id for w in warnings})).tuples())
    for w in warnings:
        lv = config.level(w.level)
        publish(RAISED_EVENT, {
            "warning_id": w.id, "level": w.level, "alert_level": lv["alert"], "top": True,
            "source": w.source, "region_code": codes[w.region_id], "target": w.target,
            "post_id": w.post_id, "person_id": w.person_id,
            "department_id": w.department_id, "subject": w.subject,
            "escalations": w.escalations or 0, "raised_at": now.isoformat(timespec="seconds")})


# -- raising ---------------------------------------------------------------------------------
def _place(post_id=None, person_id=None, department_id=None) -> tuple[int, int | None]:
    """(region id, department id) of a target."""
    if post_id:
        dept = Department.select(Department.id, Department.region).join(Post).where(
            Post.id == post_id).first()
        return dept.region_id, dept.id
    if department_id:
        dept = Department.get_by_id(department_id)
        return dept.region_id, dept.id
    person = Person.get_by_id(person_id)
    holding = (Post.select(Post.department).join(PostHolding)
               .where(PostHolding.person == person.id, _holds(current_day()))
               .order_by(Post.id).first())
    return person.region_id, holding.department_id if holding else None


def _holds(day: dt.date):
    return (PostHolding.start <= day) & (PostHolding.end.is_null(True) | (PostHolding.end >= day))


def raise_warning(user, *, source: str, target: str, subject: str, detail: str = "",
                  post=None, person=None, department=None, point=None,
                  level: str | None = None, source_ref: str = "",
                  dedupe_key: str | None = None) -> RiskWarning:
    """Raise one warning and its alert (in the caller's transaction, or its own). With a
    ``dedupe_key`` already taken, the existing warning is returned unchanged."""
    if target not in TARGETS:
        raise FieldError("target", _("Choose a post, a person or a department."))
    ids = {"post": _id(post), "person": _id(person), "department": _id(department)}
    if not ids[target]:
        raise FieldError(target, _("This field is required."))
    region_id, dept_id = _place(ids["post"], ids["person"], ids["department"])
    require_region(user, PERM, region_id)
    level = level or config.rule_level(source)
    config.level(level)
    with db.atomic():
        if dedupe_key:
            known = RiskWarning.get_or_none(RiskWarning.dedupe_key == dedupe_key)
            if known is not None:
                return known
        w = RiskWarning.create(region=region_id, department=ids["department"] or dept_id,
                               post=ids["post"], person=ids["person"], point=_id(point),
                               target=target, level=level, source=source,
                               source_ref=source_ref[:120], subject=subject[:200],
                               detail=detail, dedupe_key=dedupe_key, raised_by=actor(user))
        _alert([w])
        record("risk.warning.raise", object_type="risk_warning", object_id=w.id,
               region_id=region_id, user=user,
               summary=f"{source} warning ({level}) on {target}: {subject[:80]}")
    return w


def _id(value) -> int | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, int) else value.id


def manual(user, data: dict) -> RiskWarning:
    """A supervisor raises a warning by hand (from a report, a routine check or a key
    step): ``target`` (post/person/department), the target's id under that name,
    ``level``, ``subject`` and ``detail``; every field checked, nothing written on error."""
    target = data.get("target")
    if target not in TARGETS:
        raise FieldError("target", _("Choose a post, a person or a department."))
    ident = parse_id(data.get(target), target)
    model = {"post": Post, "person": Person, "department": Department}[target]
    row = model.get_or_none(model.id == ident)
    if row is None:
        raise FieldError(target, _("Not found."))
    level = data.get("level") or config.rule_level("manual")
    if level not in config.level_codes():
        raise FieldError("level", _("Choose one of the warning levels."))
    subject = clean_text(data.get("subject") or "", "subject", max_length=200, required=True)
    detail = clean_text(data.get("detail") or "", "detail", max_length=4000, multiline=True)
    return raise_warning(user, source="manual", target=target, subject=subject,
                         detail=detail, level=level, **{target: row})


# -- handling --------------------------------------------------------------------------------
def _get_alert(w: RiskWarning) -> Alert | None:
    return Alert.get_or_none(Alert.id == w.alert_id) if w.alert_id else None


def acknowledge(user, w: RiskWarning) -> RiskWarning:
    """open → acknowledged: a supervisor has taken the warning in hand (受理)."""
    require_region(user, PERM, w.region_id)
    if w.state != "open":
        raise RiskError(_("Only an open warning can be acknowledged."))
    with db.atomic():
        n = (RiskWarning.update(state="acknowledged", acknowledged_by=actor(user),
                                acknowledged_at=utcnow())
             .where((RiskWarning.id == w.id) & (RiskWarning.state == "open")).execute())
        if not n:
            raise RiskError(_("Only an open warning can be acknowledged."))
        alert = _get_alert(w)
        if alert is not None and alert.state == "open" and user is not None:
            acknowledge_alert(alert, user)
        record("risk.warning.acknowledge", object_type="risk_warning", object_id=w.id,
               region_id=w.region_id, user=user, summary="warning acknowledged",
               changes={"state": [w.state, "acknowledged"]})
    return RiskWarning.get_by_id(w.id)


def handle(user, w: RiskWarning, note: str) -> RiskWarning:
    """→ handled (处置) with a note; the alert is resolved with it. A handled signal
    warning frees its post's key: the next signal opens a new warning."""
    require_region(user, PERM, w.region_id)
    note = clean_text(note or "", "note", max_length=4000, required=True, multiline=True)
    if w.state == "handled":
        raise RiskError(_("This warning is already handled."))
    with db.atomic():
        changes = {"state": "handled", "handled_by": actor(user), "handled_at": utcnow(),
                   "handling_note": note}
        if w.source == "signal":
            changes["dedupe_key"] = None
        n = (RiskWarning.update(**changes)
             .where((RiskWarning.id == w.id) & (RiskWarning.state != "handled")).execute())
        if not n:
            raise RiskError(_("This warning is already handled."))
        alert = _get_alert(w)
        if alert is not None and alert.state != "resolved":
            resolve(alert, user, note[:2000])
        record("risk.warning.handle", object_type="risk_warning", object_id=w.id,
               region_id=w.region_id, user=user, summary=f"warning handled: {note[:80]}",
               changes={"state": [w.state, "handled"]})
    return RiskWarning.get_by_id(w.id)


def escalate(user, w: RiskWarning, note: str = "", steps: int = 1,
             action: str = "risk.warning.escalate") -> RiskWarning:
    """Raise the warning's level ``steps`` up (the top level stays the top): its alert is
    resolved and a new one raised at the new level. Refused at the top level."""
    require_region(user, PERM, w.region_id)
    if w.state == "handled":
        raise RiskError(_("A handled warning is not escalated."))
    new = config.higher(w.level, steps)
    if new == w.level:
        raise RiskError(_("The warning is already at the highest level."))
    note = clean_text(note or "", "note", max_length=2000, multiline=True)
    before = w.level
    with db.atomic():
        RiskWarning.update(level=new, escalations=RiskWarning.escalations + 1,
                           escalated_at=utcnow()).where(RiskWarning.id == w.id).execute()
        old = _get_alert(w)
        if old is not None and old.state != "resolved":
            with deployment_language():
                text = _("Warning raised to %(level)s.", level=config.label(
                    config.level(new)["label"]))
            resolve(old, user, (note or text)[:2000])
        w = RiskWarning.get_by_id(w.id)
        _alert([w])
        record(action, object_type="risk_warning", object_id=w.id, region_id=w.region_id,
               user=user, summary=f"warning level {before} -> {new}",
               changes={"level": [before, new]})
    return RiskWarning.get_by_id(w.id)


# -- transfer as a problem lead ------------------------------------------------------------
def transfer_of(w: RiskWarning) -> dict | None:
    """``{"at": naive UTC datetime, "by": username}`` of the warning's transfer as a
    problem lead, or None: its ``risk.warning.transfer`` audit record (the audit trail is
    the record of a transfer; no column of its own)."""
    event = first_record(TRANSFER_ACTION, "risk_warning", w.id, region_id=w.region_id,
                         since=w.raised_at)
    return {"at": event.ts, "by": event.username} if event is not None else None


def cases_enabled(w: RiskWarning) -> bool:
    """Whether the case supervision platform runs in the warning's region (someone is
    there to take the lead)."""
    return enabled_for("cases", Region.get_by_id(w.region_id))


def may_transfer(w: RiskWarning) -> bool:
    """Whether the warning can be offered for transfer (the user's grant aside): on a
    post or a person, not yet transferred, the cases plugin on in its region."""
    return w.target in LEAD_TARGETS and cases_enabled(w) and transfer_of(w) is None


def transfer_as_lead(user, w: RiskWarning, reason: str) -> dict:
    """Transfer a warning on a post or a person to the case supervision platform as a
    problem lead (移送问题线索), with the supervisor's ``reason``: audited
    ``risk.warning.transfer`` and published as ``risk.warning.transferred`` in one
    transaction (payload in docs/events.md); the payload is returned. A handled warning
    may be transferred; a department's is refused (a lead is about a person), and so is
    a second transfer of the same warning."""
    require_region(user, PERM, w.region_id)
    if w.target not in LEAD_TARGETS:
        raise RiskError(_("A warning on a department is not transferred: a lead is about a "
                          "person."))
    reason = clean_text(reason or "", "reason", max_length=2000, required=True,
                        multiline=True)
    if not cases_enabled(w):
        raise RiskError(_("The case supervision platform does not run in this region."))
    with db.atomic():
        query = RiskWarning.select().where(RiskWarning.id == w.id)
        w = (query.for_update() if is_postgres() else query).get()  # one transfer at a time
        if transfer_of(w) is not None:
            raise RiskError(_("This warning was already transferred as a problem lead."))
        now = utcnow()
        region_code = Region.select(Region.code).where(Region.id == w.region_id).scalar()
        payload = {
            "warning_id": w.id, "level": w.level, "alert_level": config.level(w.level)["alert"],
            "source": w.source, "region_code": region_code, "target": w.target,
            "post_id": w.post_id, "person_id": w.person_id, "department_id": w.department_id,
            "subject": w.subject, "reason": reason, "transferred_by": actor(user),
            "transferred_at": now.isoformat(timespec="seconds")}
        record(TRANSFER_ACTION, object_type="risk_warning", object_id=w.id,
               region_id=w.region_id, user=user,
               summary=f"warning transferred as a problem lead: {reason[:80]}",
               changes={"reason": reason})
        publish(TRANSFERRED_EVENT, payload)
    return payload


# -- the rule sweep -----------------------------------------------------------------------
class Finding:
    """One rule finding: what :func:`sweep` turns into a warning."""

    __slots__ = (
        "department",
        "detail",
        "key",
        "point",
        "post",
        "ref",
        "region",
        "source",
        "subject",
        "target",
    )

    def __init__(self, source, key, region, department, post, point, subject, detail, ref,
                 target="post"):
        self.source, self.key, self.region, self.department = source, key, region, department
        self.post, self.point, self.subject, self.detail = post, point, subject, detail
        self.ref, self.target = ref, target


def _in_force():
    return Register.state == "approved"


def measure_findings(day: dt.date, regions: set[int]) -> list[Finding]:
    """Measures of registers in force, not done, whose due day is past."""
    out = []
    rows = (Measure.select(Measure.id, Measure.key, Measure.due, Measure.text, Point.id.alias(
        "point_id"), Point.code, Point.post, Point.department, Point.region)
        .join(Point).join(Register)
        .where(_in_force(), Measure.status.in_(("planned", "in_progress")),
               Measure.due < day).namedtuples())
    with deployment_language():
        for r in rows:
            if r.region not in regions:
                continue
            out.append(Finding(
                "measure_overdue", f"measure:{r.department}:{r.code}:{r.key}:{r.due}",
                r.region, r.department, r.post, r.point_id,
                _("Measure %(code)s/%(key)s past its deadline (%(due)s)", code=r.code,
                  key=r.key, due=r.due.isoformat()), r.text, f"risk.measure:{r.id}"))
    return out


def review_findings(day: dt.date, regions: set[int]) -> list[Finding]:
    """Risk points in force whose review date is past."""
    out = []
    rows = (Point.select(Point.id, Point.code, Point.post, Point.department, Point.region,
                         Point.next_review, Point.description)
            .join(Register).where(_in_force(), Point.next_review < day).namedtuples())
    with deployment_language():
        for r in rows:
            if r.region not in regions:
                continue
            out.append(Finding(
                "review_overdue", f"review:{r.department}:{r.code}:{r.next_review}", r.region,
                r.department, r.post, r.id,
                _("Review of risk point %(code)s overdue (due %(due)s)", code=r.code,
                  due=r.next_review.isoformat()), r.description, f"risk.point:{r.id}"))
    return out


def rectification_findings(day: dt.date, regions: set[int]) -> list[Finding]:
    """Notices whose rectification report is past its due day."""
    out = []
    rows = Notice.select().where((Notice.state == "issued") & (Notice.rectification_due < day))
    with deployment_language():
        for n in rows:
            if n.region_id not in regions:
                continue
            out.append(Finding(
                "rectification_overdue", f"notice:{n.id}:{n.attempts}", n.region_id,
                n.department_id, n.post_id, None,
                _("Rectification of %(number)s not reported (due %(due)s)",
                  number=n.doc_number, due=n.rectification_due.isoformat()), n.title,
                f"risk.notice:{n.id}", target="post" if n.post_id else "department"))
    return out


def sweep(day: dt.date | None = None) -> dict[str, int]:
    """Raise the warnings of every rule finding not yet warned about (a periodic job):
    ``{source: new warnings}``."""
    day = day or current_day()
    regions = set(regions_enabled("risk"))
    findings = (measure_findings(day, regions) + review_findings(day, regions)
                + rectification_findings(day, regions))
    counts = {"measure_overdue": 0, "review_overdue": 0, "rectification_overdue": 0}
    for i in range(0, len(findings), CHUNK):
        chunk = findings[i:i + CHUNK]
        with db.atomic():
            known = {k for (k,) in RiskWarning.select(RiskWarning.dedupe_key).where(
                RiskWarning.dedupe_key.in_([f.key for f in chunk])).tuples()}
            new = []
            for f in chunk:
                if f.key in known:
                    continue
                known.add(f.key)
                new.append(RiskWarning.create(
                    region=f.region, department=f.department, post=f.post, point=f.point,
                    target=f.target, level=config.rule_level(f.source), source=f.source,
                    source_ref=f.ref, subject=f.subject[:200], detail=f.detail,
                    dedupe_key=f.key, raised_by="system"))
                counts[f.source] += 1
            _alert(new)
            overdue = [int(w.source_ref.split(":")[1]) for w in new
                       if w.source == "rectification_overdue"]
            if overdue:
                Notice.update(overdue_at=utcnow()).where(Notice.id.in_(overdue)).execute()
            if new:
                record("risk.warning.sweep", object_type="risk_warning",
                       summary=f"{len(new)} rule warning(s) raised",
                       changes={s: n for s, n in counts.items() if n})
    return counts


# -- reading -----------------------------------------------------------------------------
def counts_by_level(query) -> dict[str, int]:
    """``{level code: open or acknowledged warnings}`` of a (scoped) query."""
    out = dict.fromkeys(config.level_codes(), 0)
    q = (query.select(RiskWarning.level, fn.COUNT(RiskWarning.id))
         .where(RiskWarning.state != "handled").group_by(RiskWarning.level))
    for level, n in q.tuples():
        out[level] = n
    return out


def targets_of(items) -> dict:
    """Names of the posts, people and departments the warnings ``items`` go to."""
    posts = {w.post_id for w in items if w.post_id}
    people = {w.person_id for w in items if w.person_id}
    depts = {w.department_id for w in items if w.department_id}
    out = {}
    if posts:
        for pid, title, dname in (Post.select(Post.id, Post.title, Department.name)
                                  .join(Department).where(Post.id.in_(sorted(posts))).tuples()):
            out[("post", pid)] = f"{dname} · {title}"
    if people:
        out.update((("person", pid), name) for pid, name in Person.select(
            Person.id, Person.name).where(Person.id.in_(sorted(people))).tuples())
    if depts:
        out.update((("department", did), name) for did, name in Department.select(
            Department.id, Department.name).where(Department.id.in_(sorted(depts))).tuples())
    return out


def holders(post_id: int, day: dt.date | None = None) -> list[Person]:
    """The people holding a post on ``day``."""
    day = day or current_day()
    return list(Person.select().join(PostHolding, JOIN.INNER)
                .where((PostHolding.post == post_id) & _holds(day)).order_by(Person.name))
