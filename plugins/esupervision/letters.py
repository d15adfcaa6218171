"""Suggestion letters (监察建议书) after the monthly evaluation, and their replies (整改回告).

A department that scores below the threshold gets a letter numbered in its issuer's series
for the year (``core.api.next_number``: 锦纪建〔2026〕3号), addressed to the holder of its
head post, delivered through the alert bus to the head (and the issuing supervision office,
so someone real always has it), with a deadline in working days for the reply. A district
or county that scores low gets one addressed to its supervision office, issued by the
city's. The department itself enters the reply (permission ``esupervision.respond``, held
by someone holding a post in that department); the supervisor accepts it or returns it for
more. A reply not in by its deadline escalates. Every step is audited."""
from __future__ import annotations

import datetime as dt

from flask import current_app

from core.api import (
    Alert,
    Department,
    FieldError,
    Post,
    PostHolding,
    Region,
    _,
    add_workdays,
    clean_text,
    db,
    deployment_language,
    emit,
    format_number,
    has_permission,
    next_number,
    record,
    region_ids,
    resolve,
    supervision_office,
    today,
    utcnow,
)
from plugins.esupervision import reports, wording
from plugins.esupervision.labels import month_label
from plugins.esupervision.models import EvaluationRun, SuggestionLetter

SERIES = "esupervision.suggestion"
KIND = "esupervision.evaluation.suggestion"
OVERDUE_KIND = "esupervision.letter.overdue"
SUPERVISE = "esupervision.supervise"
RESPOND = "esupervision.respond"
REPLY_MAX = 8000


class LetterError(ValueError):
    """A letter step that is not allowed now (the message says why)."""


def prefix(region: Region) -> str:
    """The issuer's code of a region's letters (发文代字): the shortest start of the
    region's name that no other region's name shares, and 纪建 (锦江区 → 锦纪建, 成都市 →
    成纪建; with 成华区 in the same deployment 成都纪建 and 成华纪建), so two issuers
    never number the same 〔year〕n号."""
    others = [name for (name,) in Region.select(Region.name)
              .where(Region.id != region.id).tuples()]
    for size in range(1, len(region.name)):
        start = region.name[:size]
        if not any(name.startswith(start) for name in others):
            return f"{start}纪建"
    return f"{region.name}纪建"


def head_of(department: Department, on: dt.date | None = None) -> str:
    """The name of whoever holds the department's head post on ``on`` ("" when vacant)."""
    on = on or today()
    row = (PostHolding.select(PostHolding, Post).join(Post)
           .where((Post.department == department.id) & (Post.is_head == True)
                  & (PostHolding.start <= on)
                  & (PostHolding.end.is_null() | (PostHolding.end >= on)))
           .order_by(Post.id, PostHolding.id).first())
    return row.person.name if row is not None else ""


def departments_of(user, on: dt.date | None = None) -> set[int]:
    """The departments in which ``user`` holds a post on ``on``."""
    if not getattr(user, "person_id", None):
        return set()
    on = on or today()
    return {d for (d,) in Post.select(Post.department).join(PostHolding)
            .where((PostHolding.person == user.person_id) & (PostHolding.start <= on)
                   & (PostHolding.end.is_null() | (PostHolding.end >= on))).tuples()}


def may_reply(user, department_id: int, region_id: int) -> bool:
    """Whether ``user`` answers for the department: permission to respond covering its
    region, and a post held in it today."""
    return (user is not None and has_permission(user, RESPOND, region_id)
            and department_id in departments_of(user))


def issue(run: EvaluationRun, row: dict, department: Department, level: str, cfg: dict,
          user=None) -> SuggestionLetter:
    """Write and send the letter for one low score (``row``: the score's figures), in the
    evaluation's transaction: numbered, addressed, alerted, audited."""
    issuer = department.region if level == "department" else (
        department.region.parent or department.region)
    day = today()
    days = int(cfg.get("letter_reply_days", 10))
    addressee = head_of(department, day)
    template = current_app.jinja_env.get_template("esupervision/suggestion_letter.html")
    n = next_number(SERIES, issuer.id, day.year)
    number = format_number(prefix(issuer), day.year, n)
    with deployment_language():
        body = template.render(row=row, month=month_label(run.month), dept=department,
                               level=level, days=days, cfg=cfg)
    letter = SuggestionLetter.create(
        number=number, issuer_region=issuer.id, region=department.region_id,
        department=department, level=level, addressee=addressee, run=run, month=run.month,
        total=row["total"], rank=row["rank"], body=body,
        issued_by=getattr(user, "username", "") or "schedule",
        reply_due=add_workdays(day, days))
    details = {"number": number, "to": department.name, "total": f"{row['total']:.1f}",
               "month": run.month}
    subject = wording.stored(wording.letter, details)
    ref = f"esupervision.letter:{letter.id}"
    emit(KIND, department.region_id, subject, target_department=department, ref=ref,
         dedupe_key=f"letter:{letter.id}", details=details)
    office = supervision_office(issuer)
    if office is not None and office.id != department.id:
        emit(KIND, department.region_id, subject, target_department=office, ref=ref,
             dedupe_key=f"letter:{letter.id}:office", details=details)
    record("esupervision.letter.issue", object_type="esupervision_letter", object_id=letter.id,
           region_id=department.region_id, user=user,
           summary=f"{number} to {department.name} ({run.month}: {row['total']:.1f})")
    return letter


def reply(letter: SuggestionLetter, user, text: str,
          uploads: list | None = None) -> SuggestionLetter:
    """The department's rectification report (整改回告) on the letter, with its files."""
    if not may_reply(user, letter.department_id, letter.region_id):
        raise LetterError(_("Only the department the letter is addressed to can reply to it."))
    if letter.state not in ("issued", "returned"):
        raise LetterError(_("This letter has been answered already."))
    text = clean_text(text, "reply", max_length=REPLY_MAX, multiline=True)
    if not text:
        raise FieldError("reply", _("Write what the department has done."))
    with db.atomic():
        reports.save(uploads or [], user, letter=letter)
        SuggestionLetter.update(state="replied", reply_text=text, replied_by=user.username,
                                replied_at=utcnow()) \
            .where(SuggestionLetter.id == letter.id).execute()
        reports.clear_returned(f"esupervision.letter:{letter.id}", user)
        record("esupervision.letter.reply", object_type="esupervision_letter",
               object_id=letter.id, region_id=letter.region_id, user=user,
               summary=f"rectification report on {letter.number}"
               + (f", {len(uploads)} file(s)" if uploads else ""))
    return SuggestionLetter.get_by_id(letter.id)


def review(letter: SuggestionLetter, user, accept: bool, note: str,
           more_days: int = 5) -> SuggestionLetter:
    """The supervisor's answer to a reply: accepted (the letter is closed, its alerts
    resolved) or returned for more within ``more_days`` working days."""
    if user is None or not has_permission(user, SUPERVISE, letter.region_id):
        raise LetterError(_("You may not review letters of this region."))
    if letter.state != "replied":
        raise LetterError(_("Only a letter with a reply can be reviewed."))
    note = clean_text(note, "note", max_length=2000, multiline=True)
    if not accept and not note:
        raise FieldError("note", _("Say what is still missing."))
    changes = {"review_note": note, "reviewed_by": user.username, "reviewed_at": utcnow()}
    if accept:
        changes["state"] = "accepted"
    else:
        changes.update(state="returned", reply_due=add_workdays(today(), more_days),
                       escalated_at=None)
    with db.atomic():
        SuggestionLetter.update(**changes).where(SuggestionLetter.id == letter.id).execute()
        if accept:
            with deployment_language():
                text = _("Rectification report accepted: %(note)s", note=note) if note \
                    else _("Rectification report accepted.")
            for alert in Alert.select().where(
                    (Alert.ref == f"esupervision.letter:{letter.id}")
                    & (Alert.state != "resolved")):
                resolve(alert, user, text)
        else:
            reports.tell_returned(letter.region_id, letter.department_id,
                                  f"esupervision.letter:{letter.id}", letter.number,
                                  changes["reply_due"], note)
        record("esupervision.letter.review", object_type="esupervision_letter",
               object_id=letter.id, region_id=letter.region_id, user=user,
               summary=f"{letter.number}: {'accepted' if accept else 'returned'}")
    return SuggestionLetter.get_by_id(letter.id)


def escalate_overdue(day: dt.date, now: dt.datetime | None = None) -> list[str]:
    """A red alert to the department and the issuing office for each letter whose reply
    is past its deadline (once per deadline)."""
    lines = []
    rows = list(SuggestionLetter.select().where(
        SuggestionLetter.state.in_(("issued", "returned")) & (SuggestionLetter.reply_due < day)
        & SuggestionLetter.escalated_at.is_null()))
    for letter in rows:
        details = {"number": letter.number, "to": letter.department.name,
                   "due": letter.reply_due.isoformat()}
        subject = wording.stored(wording.letter_overdue, details)
        ref = f"esupervision.letter:{letter.id}"
        with db.atomic():
            office = supervision_office(letter.issuer_region)
            targets = [letter.department_id] + ([office.id] if office else [])
            for i, target in enumerate(dict.fromkeys(targets)):
                emit(OVERDUE_KIND, letter.region_id, subject, target_department=target,
                     ref=ref, dedupe_key=f"letter-late:{letter.id}:{letter.reply_due}:{i}",
                     details=details, now=now)
            SuggestionLetter.update(escalated_at=now or utcnow()) \
                .where(SuggestionLetter.id == letter.id).execute()
            record("esupervision.letter.escalate", object_type="esupervision_letter",
                   object_id=letter.id, region_id=letter.region_id,
                   summary=f"{letter.number}: no reply by {letter.reply_due}")
        lines.append(f"letter {letter.number} overdue -> escalated")
    return lines


def visible(user):
    """The letters ``user`` may read: every one in the regions they supervise, and those
    addressed to the departments they answer for (``may_reply``)."""
    query = SuggestionLetter.select(SuggestionLetter, Department).join(
        Department, on=(SuggestionLetter.department == Department.id))
    supervised = region_ids(user, SUPERVISE)
    responding = region_ids(user, RESPOND)
    own = [d for (d,) in Department.select(Department.id).where(
        Department.id.in_(sorted(departments_of(user)))
        & Department.region.in_(sorted(responding))).tuples()] if responding else []
    parts = []
    if supervised:
        parts.append(SuggestionLetter.region.in_(sorted(supervised)))
    if own:
        parts.append(SuggestionLetter.department.in_(own))
    if not parts:
        return query.where(SuggestionLetter.id.is_null())
    return query.where(parts[0] | parts[1] if len(parts) == 2 else parts[0])
