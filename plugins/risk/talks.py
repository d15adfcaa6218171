"""Talks (提醒谈话 / 警示谈话 / 诫勉谈话), notices (风险防控通知书 / 风险处置通知书) and
accountability records (问责).

After a talk the person hands in a self-analysis (剖析材料), an integrity pledge (廉政承诺)
and corrective measures (整改措施) within ``talk_submission_days`` working days (default
5); the daily job alerts the person (and escalates by the bus) once it is overdue. A
notice is numbered per region, kind and year (``core.api.next_number``), worded from its
template, fixed when issued and printable; the unit reports its rectification within
``rectification_days`` working days; an insufficient report sends it back with a new
deadline and raises the level of the warning it answers. Every write audited.
"""
from __future__ import annotations

import datetime as dt

from core.api import (
    AlertSpec,
    Department,
    FieldError,
    Person,
    Post,
    _,
    add_workdays,
    clean_text,
    db,
    deployment_language,
    emit_many,
    format_number,
    has_permission,
    next_number,
    parse_date,
    parse_id,
    record,
    regions_enabled,
    utcnow,
)
from core.api import (
    today as current_day,
)
from plugins.risk import config
from plugins.risk import warnings as warn
from plugins.risk.access import actor, require_region
from plugins.risk.errors import RiskError
from plugins.risk.kinds import TALK_OVERDUE
from plugins.risk.models import (
    ACCOUNTABILITY_KINDS,
    NOTICE_KINDS,
    TALK_KINDS,
    Accountability,
    Notice,
    NoticeTemplate,
    RiskWarning,
    Talk,
    TalkSubmission,
)

PERM = "risk.talk.manage"
TEMPLATES = {
    "prevention": {"title": "风险防控通知书", "prefix": "险防",
                   "body": "{department}：\n经排查，你单位{post}岗位存在以下廉政风险：{matter}\n"
                           "请于{due}前（{days}个工作日内）落实防控措施，并将落实情况书面报告。"},
    "disposal": {"title": "风险处置通知书", "prefix": "险处",
                 "body": "{department}：\n你单位{post}岗位{person}发生以下风险情形：{matter}\n"
                         "请立即处置，于{due}前（{days}个工作日内）完成整改并书面报告整改结果。"},
}


def _choice(value, field: str, allowed) -> str:
    if value not in allowed:
        raise FieldError(field, _("Choose one of the options."))
    return value


def _row(model, value, field: str, required: bool = True):
    if value in (None, "") and not required:
        return None
    row = model.get_or_none(model.id == parse_id(value, field))
    if row is None:
        raise FieldError(field, _("Not found."))
    return row


def _text(data: dict, field: str, size: int = 8000, required: bool = True) -> str:
    return clean_text(data.get(field) or "", field, max_length=size, multiline=True,
                      required=required)


# -- talks -------------------------------------------------------------------------------
def record_talk(user, data: dict) -> Talk:
    """Record a talk: ``person``, optional ``post`` and ``warning``, ``kind``,
    ``held_on``, ``talker``, ``content``."""
    person = _row(Person, data.get("person"), "person")
    post = _row(Post, data.get("post"), "post", required=False)
    warning = _row(RiskWarning, data.get("warning"), "warning", required=False)
    kind = _choice(data.get("kind"), "kind", TALK_KINDS)
    held_on = parse_date(data.get("held_on"), "held_on", max=current_day())
    talker = clean_text(data.get("talker") or "", "talker", max_length=64, required=True)
    content = _text(data, "content")
    dept = Department.get_by_id(post.department_id) if post else None
    region_id = dept.region_id if dept else person.region_id
    require_region(user, PERM, region_id)
    days = config.get("talk_submission_days")
    with db.atomic():
        talk = Talk.create(region=region_id, department=dept.id if dept else None,
                           person=person.id, post=post.id if post else None,
                           warning=warning.id if warning else None, kind=kind,
                           held_on=held_on, talker=talker, content=content,
                           submission_days=days, submission_due=add_workdays(held_on, days),
                           recorded_by=actor(user))
        record("risk.talk.record", object_type="risk_talk", object_id=talk.id,
               region_id=region_id, user=user,
               summary=f"{kind} talk on {held_on}, self-analysis due {talk.submission_due}")
    return talk


def may_submit(user, talk: Talk) -> bool:
    """The person talked to (``risk.self``) or whoever records talks for the region."""
    return bool(user is not None and (
        (getattr(user, "person_id", None) == talk.person_id
         and has_permission(user, "risk.self"))
        or has_permission(user, PERM, talk.region_id)))


def submit(user, talk: Talk, data: dict) -> TalkSubmission:
    """Hand in the self-analysis, pledge and corrective measures (once). The person
    hands it in online; a recorder enters one received on paper (``via`` paper)."""
    if not may_submit(user, talk):
        from core.api import AccessDenied
        raise AccessDenied(_("Only the person talked to, or a recorder of talks, hands "
                             "this in."))
    if talk.submitted_at is not None:
        raise RiskError(_("The self-analysis was already handed in."))
    values = {f: _text(data, f) for f in ("self_analysis", "pledge", "corrections")}
    via = "online" if getattr(user, "person_id", None) == talk.person_id else "paper"
    now = utcnow()
    with db.atomic():
        sub = TalkSubmission.create(talk=talk.id, via=via, submitted_by=actor(user),
                                    submitted_at=now, **values)
        Talk.update(submitted_at=now).where(Talk.id == talk.id).execute()
        record("risk.talk.submit", object_type="risk_talk", object_id=talk.id,
               region_id=talk.region_id, user=user, summary=f"self-analysis handed in ({via})")
    return sub


def overdue_talks(day: dt.date | None = None) -> int:
    """Alert each talk whose self-analysis is past due and not handed in, once."""
    day = day or current_day()
    regions = set(regions_enabled("risk"))
    rows = [t for t in Talk.select().where(Talk.submitted_at.is_null(True)
                                           & Talk.overdue_at.is_null(True)
                                           & (Talk.submission_due < day))
            if t.region_id in regions]
    if not rows:
        return 0
    with db.atomic(), deployment_language():
        specs = []
        for t in rows:
            account = warn.account_of(t.person_id)
            targets = {"target_user": account} if account else {}
            if t.department_id:
                targets["target_department"] = t.department_id
            if not targets:
                continue
            specs.append(AlertSpec(
                TALK_OVERDUE, t.region_id,
                _("Self-analysis after the talk of %(day)s not handed in (due %(due)s)",
                  day=t.held_on.isoformat(), due=t.submission_due.isoformat()),
                ref=f"risk.talk:{t.id}", dedupe_key=f"talk:{t.id}",
                details={"held_on": t.held_on.isoformat(),
                         "due": t.submission_due.isoformat()}, **targets))
        emit_many(specs)
        Talk.update(overdue_at=utcnow()).where(Talk.id.in_([t.id for t in rows])).execute()
        record("risk.talk.overdue", object_type="risk_talk",
               summary=f"{len(rows)} self-analysis overdue", changes={"talks": [
                   t.id for t in rows]})
    return len(rows)


# -- notices -----------------------------------------------------------------------------
def template(kind: str) -> dict:
    """The wording in force for a notice kind (the deployment's, else the built-in)."""
    row = NoticeTemplate.get_or_none(NoticeTemplate.kind == kind)
    if row is None:
        return dict(TEMPLATES[kind])
    return {"title": row.title, "body": row.body, "prefix": row.prefix}


def issue_notice(user, data: dict, on: dt.date | None = None) -> Notice:
    """Issue a notice: ``kind``, ``department``, optional ``post``, ``person``,
    ``warning``, and ``matter`` (what it is about). Numbered in its region's series."""
    kind = _choice(data.get("kind"), "kind", NOTICE_KINDS)
    dept = _row(Department, data.get("department"), "department")
    post = _row(Post, data.get("post"), "post", required=False)
    if post is not None and post.department_id != dept.id:
        raise FieldError("post", _("Choose a post of the unit."))
    person = _row(Person, data.get("person"), "person", required=False)
    warning = _row(RiskWarning, data.get("warning"), "warning", required=False)
    matter = _text(data, "matter", 4000)
    require_region(user, PERM, dept.region_id)
    issued_on = on or current_day()
    days = config.get("rectification_days")[kind]
    due = add_workdays(issued_on, days)
    words = template(kind)
    with db.atomic():
        number = next_number(f"risk.notice.{kind}", dept.region_id, issued_on.year)
        body = words["body"].format(department=dept.name, post=post.title if post else "",
                                    person=person.name if person else "", matter=matter,
                                    due=due.isoformat(), days=days)
        notice = Notice.create(
            region=dept.region_id, department=dept.id, post=post.id if post else None,
            person=person.id if person else None, warning=warning.id if warning else None,
            kind=kind, year=issued_on.year, number=number,
            doc_number=format_number(words["prefix"], issued_on.year, number),
            title=words["title"], body=body, issued_on=issued_on, issued_by=actor(user),
            rectification_days=days, rectification_due=due)
        record("risk.notice.issue", object_type="risk_notice", object_id=notice.id,
               region_id=dept.region_id, user=user,
               summary=f"{notice.doc_number} issued, rectification due {due}")
    return notice


def report(user, notice: Notice, text: str) -> Notice:
    """The unit reports its rectification (or a recorder enters the paper report)."""
    require_region(user, "risk.register.edit", notice.region_id)
    if notice.state != "issued":
        raise RiskError(_("This notice is not waiting for a rectification report."))
    text = clean_text(text or "", "report", max_length=8000, multiline=True, required=True)
    with db.atomic():
        Notice.update(state="reported", report=text, reported_at=utcnow()).where(
            Notice.id == notice.id).execute()
        record("risk.notice.report", object_type="risk_notice", object_id=notice.id,
               region_id=notice.region_id, user=user, summary="rectification reported")
    return Notice.get_by_id(notice.id)


def assess(user, notice: Notice, accepted: bool, note: str,
           on: dt.date | None = None) -> Notice:
    """Accept the rectification, or send it back: a new deadline of the kind's working
    days, one more attempt, and the warning it answers one level up (整改不到位)."""
    require_region(user, PERM, notice.region_id)
    if notice.state != "reported":
        raise RiskError(_("There is no rectification report to assess."))
    note = clean_text(note or "", "note", max_length=4000, multiline=True,
                      required=not accepted)
    with db.atomic():
        if accepted:
            Notice.update(state="accepted", assessed_by=actor(user), assessed_at=utcnow(),
                          assessment_note=note).where(Notice.id == notice.id).execute()
        else:
            due = add_workdays(on or current_day(), notice.rectification_days)
            Notice.update(state="issued", attempts=Notice.attempts + 1, rectification_due=due,
                          assessed_by=actor(user), assessed_at=utcnow(),
                          assessment_note=note, overdue_at=None).where(
                Notice.id == notice.id).execute()
            w = RiskWarning.get_or_none(RiskWarning.id == notice.warning_id)
            if w is not None and w.state != "handled" \
                    and w.level != config.level_codes()[-1]:
                warn.escalate(user, w, note, action="risk.warning.escalate")
        record("risk.notice.assess", object_type="risk_notice", object_id=notice.id,
               region_id=notice.region_id, user=user,
               summary="rectification accepted" if accepted else "rectification sent back",
               changes={"accepted": accepted})
    return Notice.get_by_id(notice.id)


# -- accountability ----------------------------------------------------------------------
def record_accountability(user, data: dict) -> Accountability:
    """Record accountability: ``kind`` (组织处理 / 党纪处分 / 政务处分), ``measure``,
    ``basis``, ``decided_on``, ``decided_by``, the ``person`` (or ``person_name``),
    optional ``post`` and ``warning``."""
    kind = _choice(data.get("kind"), "kind", ACCOUNTABILITY_KINDS)
    person = _row(Person, data.get("person"), "person", required=False)
    post = _row(Post, data.get("post"), "post", required=False)
    warning = _row(RiskWarning, data.get("warning"), "warning", required=False)
    name = person.name if person else clean_text(data.get("person_name") or "", "person_name",
                                                 max_length=64, required=True)
    measure = clean_text(data.get("measure") or "", "measure", max_length=100, required=True)
    basis = _text(data, "basis", 4000)
    decided_on = parse_date(data.get("decided_on"), "decided_on", max=current_day())
    decided_by = clean_text(data.get("decided_by") or "", "decided_by", max_length=100)
    dept = Department.get_by_id(post.department_id) if post else None
    if dept is not None:
        region_id = dept.region_id
    elif person is not None:
        region_id = person.region_id
    else:
        region_id = parse_id(data.get("region"), "region")
    require_region(user, PERM, region_id)
    with db.atomic():
        row = Accountability.create(region=region_id, department=dept.id if dept else None,
                                    person=person.id if person else None, person_name=name,
                                    post=post.id if post else None, kind=kind,
                                    measure=measure, basis=basis, decided_on=decided_on,
                                    decided_by=decided_by,
                                    warning=warning.id if warning else None,
                                    recorded_by=actor(user))
        record("risk.accountability.record", object_type="risk_accountability",
               object_id=row.id, region_id=region_id, user=user,
               summary=f"accountability ({kind}) decided {decided_on}")
    return row
