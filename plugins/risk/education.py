"""Integrity education (廉政教育): materials, their assignment, study tasks with read
receipts, the quiz, completion rates and the overdue reminder.

A material (a text, a document or a warning-education case 警示教育案例) belongs to a
region, may carry attachments (the core's encrypted file store) and a short quiz of
single-choice questions with a pass mark. An assignment (``MaterialTarget``) names a
post, or a risk type and/or a level of the risk points in force; it is resolved to the
people holding the matching posts on the day it is made, each of whom gets one task due
``due_days`` working days later (``core.api.add_workdays``). While the assignment is
open, the daily job gives it to whoever takes up a matching post later.

A task records when its page was first opened, when the person acknowledged having read
it and the seconds spent on the page (what the page's script measured while it was
visible, never more than the time between opening and acknowledging, which is used
when the script did not run). Without a quiz, acknowledging completes the task; with
one, passing it does (the answers are checked here, never in the page). A task past its
due day and not completed is reminded once through the alert bus
(``risk.education.overdue``). Every write audited.
"""
from __future__ import annotations

import datetime as dt

from core.api import (
    AccessDenied,
    AlertSpec,
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
    descendants,
    emit_many,
    has_permission,
    local_day,
    parse_id,
    parse_int,
    record,
    regions_enabled,
    store_file,
    utcnow,
)
from core.api import (
    today as current_day,
)
from plugins.risk.access import actor, require_region
from plugins.risk.errors import RiskError
from plugins.risk.kinds import EDUCATION_OVERDUE
from plugins.risk.models import (
    MATERIAL_KINDS,
    RISK_TYPES,
    EducationTask,
    Material,
    MaterialFile,
    MaterialTarget,
    Point,
    Question,
    Register,
)
from plugins.risk.warnings import account_of

PERM = "risk.education.manage"
SELF = "risk.self"
FILE_PURPOSE = "risk.education"
FILE_TYPES = {"pdf", "ofd", "docx", "png", "jpeg", "txt"}
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_FILES = 5
LEVELS = (1, 2, 3)


# -- materials -----------------------------------------------------------------------------
def _uploads(files) -> list:
    """The uploads actually chosen (a form without a file sends an empty part)."""
    return [f for f in (files or []) if getattr(f, "filename", "")]


def create_material(user, data: dict, files=()) -> Material:
    """Publish a material: ``region``, ``title``, ``kind`` (text / case / document),
    ``body``, ``due_days`` (1–60 working days), ``pass_mark`` (1–100) and up to five
    attachments (PDF, OFD, Word, images, text; 20 MB each)."""
    region = Region.get_or_none(Region.id == parse_id(data.get("region"), "region"))
    if region is None:
        raise FieldError("region", _("Not found."))
    title = clean_text(data.get("title"), "title", max_length=200, required=True)
    kind = data.get("kind") or "text"
    if kind not in MATERIAL_KINDS:
        raise FieldError("kind", _("Choose one of the options."))
    uploads = _uploads(files)
    body = clean_text(data.get("body"), "body", max_length=50000, multiline=True,
                      required=not uploads)
    due_days = parse_int(data.get("due_days") or "10", "due_days", min=1, max=60)
    pass_mark = parse_int(data.get("pass_mark") or "80", "pass_mark", min=1, max=100)
    if len(uploads) > MAX_FILES:
        raise FieldError("files", _("At most %(n)d files.", n=MAX_FILES))
    require_region(user, PERM, region.id)
    with db.atomic():
        material = Material.create(region=region.id, title=title, kind=kind, body=body,
                                   due_days=due_days, pass_mark=pass_mark,
                                   created_by=actor(user))
        for i, upload in enumerate(uploads):
            stored = store_file(getattr(upload, "stream", upload), purpose=FILE_PURPOSE,
                                filename=upload.filename, allowed_types=FILE_TYPES,
                                max_bytes=MAX_FILE_BYTES, field="files", user=user)
            MaterialFile.create(material=material.id, file=stored.id, sort=i)
        record("risk.education.material", object_type="risk_material", object_id=material.id,
               region_id=region.id, user=user,
               summary=f"material ({kind}) published, {len(uploads)} attachment(s)")
    return material


def _locked(material: Material) -> None:
    if EducationTask.select().where(EducationTask.material == material.id).exists():
        raise RiskError(_("The quiz cannot change once the material has been assigned."))


def add_question(user, material: Material, data: dict) -> Question:
    """Add a single-choice question: ``text``, ``options`` (one a line, 2–6) and
    ``answer`` (the number of the right option, from 1). Refused once assigned."""
    require_region(user, PERM, material.region_id)
    text = clean_text(data.get("text"), "text", max_length=300, required=True)
    raw = clean_text(data.get("options"), "options", max_length=700, multiline=True,
                     required=True)
    options = [line.strip() for line in raw.split("\n") if line.strip()]
    if not 2 <= len(options) <= 6 or any(len(o) > 100 for o in options):
        raise FieldError("options", _("Two to six options, one a line, each at most 100 "
                                      "characters."))
    answer = parse_int(data.get("answer"), "answer", min=1, max=len(options)) - 1
    _locked(material)
    with db.atomic():
        sort = Question.select().where(Question.material == material.id).count()
        q = Question.create(material=material.id, text=text, options=options,
                            answer=answer, sort=sort)
        record("risk.education.question", object_type="risk_material",
               object_id=material.id, region_id=material.region_id, user=user,
               summary=f"quiz question {q.id} added")
    return q


def delete_question(user, question: Question) -> None:
    """Remove a question of a material not yet assigned."""
    material = Material.get_by_id(question.material_id)
    require_region(user, PERM, material.region_id)
    _locked(material)
    with db.atomic():
        Question.delete().where(Question.id == question.id).execute()
        record("risk.education.question", object_type="risk_material",
               object_id=material.id, region_id=material.region_id, user=user,
               summary=f"quiz question {question.id} removed")


def questions(material: Material) -> list[Question]:
    return list(Question.select().where(Question.material == material.id)
                .order_by(Question.sort, Question.id))


# -- assignment ----------------------------------------------------------------------------
def _holds(day: dt.date):
    return (PostHolding.start <= day) & (PostHolding.end.is_null(True)
                                         | (PostHolding.end >= day))


def matching_posts(target: MaterialTarget, region_id: int) -> list[int]:
    """The posts an assignment names, within the material's region and below it."""
    regions = sorted(descendants(region_id))
    if target.post_id:
        return [target.post_id]
    query = (Point.select(Point.post).join(Register)
             .where((Register.state == "approved") & Point.region.in_(regions)))
    if target.risk_type:
        query = query.where(Point.risk_type == target.risk_type)
    if target.max_level:
        query = query.where(Point.level <= target.max_level)
    return sorted({p for (p,) in query.distinct().tuples()})


def _give(target: MaterialTarget, material: Material, holdings, day: dt.date) -> int:
    """Tasks for the people of ``holdings`` ((person, post) pairs), one per person and
    material (a person who has it already keeps the task they have)."""
    if not holdings:
        return 0
    posts = {p.id: p for p in Post.select(Post, Department).join(Department).where(
        Post.id.in_(sorted({post for _person, post in holdings})))}
    due = add_workdays(day, target.due_days)
    seen = {p for (p,) in EducationTask.select(EducationTask.person).where(
        EducationTask.material == material.id).tuples()}
    rows = []
    for person, post in sorted(holdings):
        if person in seen:
            continue
        seen.add(person)
        p = posts[post]
        rows.append({"material": material.id, "person": person,
                     "region": p.department.region_id, "department": p.department_id,
                     "post": post, "assigned_on": day, "due": due, "target": target.id})
    if rows:
        EducationTask.insert_many(rows).on_conflict_ignore().execute()
    return len(rows)


def assign(user, material: Material, data: dict, on: dt.date | None = None):
    """Assign a material: to a ``post``, or to the posts with points in force of a
    ``risk_type`` and/or at least a ``level`` (1 = 一级 only, 2 = 一级 and 二级, …);
    ``due_days`` working days (default the material's). Returns (assignment, tasks
    made) — the people holding the posts today get a task."""
    require_region(user, PERM, material.region_id)
    day = on or current_day()
    post = None
    if data.get("post") not in (None, ""):
        post = Post.get_or_none(Post.id == parse_id(data.get("post"), "post"))
        if post is None:
            raise FieldError("post", _("Not found."))
        if Department.get_by_id(post.department_id).region_id not in descendants(
                material.region_id):
            raise FieldError("post", _("Choose a post of the material's region."))
    risk_type = data.get("risk_type") or ""
    if risk_type and risk_type not in RISK_TYPES:
        raise FieldError("risk_type", _("Choose one of the options."))
    level = parse_int(data.get("level") or None, "level", min=1, max=3, default=None)
    if post is None and not risk_type and level is None:
        raise FieldError("post", _("Choose a post, a risk type or a level."))
    if post is not None and (risk_type or level is not None):
        raise FieldError("post", _("Choose either a post or a risk type and level."))
    due_days = parse_int(data.get("due_days") or str(material.due_days), "due_days",
                         min=1, max=60)
    with db.atomic():
        target = MaterialTarget.create(material=material.id, post=post.id if post else None,
                                       risk_type=risk_type, max_level=level, assigned_on=day,
                                       due_days=due_days, assigned_by=actor(user))
        posts = matching_posts(target, material.region_id)
        holdings = list(PostHolding.select(PostHolding.person, PostHolding.post).where(
            PostHolding.post.in_(posts) & _holds(day)).tuples()) if posts else []
        made = _give(target, material, holdings, day)
        record("risk.education.assign", object_type="risk_material", object_id=material.id,
               region_id=material.region_id, user=user,
               summary=f"assigned to {len(posts)} post(s): {made} task(s), due in "
                       f"{due_days} working days",
               changes={"target": target.id, "tasks": made})
    return target, made


def close_assignment(user, target: MaterialTarget) -> None:
    """Stop giving an assignment to people who take up its posts later."""
    material = Material.get_by_id(target.material_id)
    require_region(user, PERM, material.region_id)
    if not target.open:
        raise RiskError(_("This assignment is closed already."))
    with db.atomic():
        MaterialTarget.update(open=False).where(MaterialTarget.id == target.id).execute()
        record("risk.education.close", object_type="risk_material", object_id=material.id,
               region_id=material.region_id, user=user,
               summary=f"assignment {target.id} closed")


def duty_start_assignments(day: dt.date | None = None) -> int:
    """A person who took up a post after an open assignment naming it was made gets the
    assignment's task (once: one task per person and material)."""
    day = day or current_day()
    regions = set(regions_enabled("risk"))
    made = 0
    with db.atomic():
        targets = (MaterialTarget.select(MaterialTarget, Material).join(Material)
                   .where(MaterialTarget.open == True, Material.region.in_(sorted(regions)))
                   .order_by(MaterialTarget.id))
        for target in targets:
            posts = matching_posts(target, target.material.region_id)
            if not posts:
                continue
            holdings = list(PostHolding.select(PostHolding.person, PostHolding.post).where(
                PostHolding.post.in_(posts) & _holds(day)
                & (PostHolding.start > target.assigned_on)).tuples())
            made += _give(target, target.material, holdings, day)
        if made:
            record("risk.education.duty_start", object_type="risk_material",
                   summary=f"{made} study task(s) for posts taken up",
                   changes={"tasks": made})
    return made


# -- studying ------------------------------------------------------------------------------
def is_assignee(user, task: EducationTask) -> bool:
    return bool(user is not None and getattr(user, "person_id", None) == task.person_id
                and has_permission(user, SELF))


def _mine(user, task: EducationTask) -> None:
    if not is_assignee(user, task):
        raise AccessDenied(_("Only the person the task is for studies it."))


def open_task(user, task: EducationTask) -> EducationTask:
    """The assignee opened the page: the first time is kept (read receipt)."""
    if is_assignee(user, task) and task.opened_at is None:
        with db.atomic():
            EducationTask.update(opened_at=utcnow()).where(
                (EducationTask.id == task.id) & EducationTask.opened_at.is_null(True)).execute()
            record("risk.education.open", object_type="risk_education_task",
                   object_id=task.id, region_id=task.region_id, user=user,
                   summary="study material opened")
        return EducationTask.get_by_id(task.id)
    return task


def acknowledge(user, task: EducationTask, seconds=None) -> EducationTask:
    """The assignee confirms having read the material. ``seconds`` is what the page
    measured; it is capped by the time since the page was first opened (used when it is
    missing). Without a quiz the task is complete."""
    _mine(user, task)
    client = parse_int(seconds if seconds not in ("",) else None, "seconds", min=0,
                       max=7 * 86400, default=None)
    if task.opened_at is None:
        raise RiskError(_("Open the material before acknowledging it."))
    if task.acknowledged_at is not None:
        raise RiskError(_("You have acknowledged this material already."))
    now = utcnow()
    elapsed = max(0, int((now - task.opened_at).total_seconds()))
    spent = elapsed if client is None else min(client, elapsed)
    has_quiz = Question.select().where(Question.material == task.material_id).exists()
    values = {"acknowledged_at": now, "seconds": spent}
    if not has_quiz:
        values["completed_at"] = now
    with db.atomic():
        EducationTask.update(**values).where(EducationTask.id == task.id).execute()
        record("risk.education.acknowledge", object_type="risk_education_task",
               object_id=task.id, region_id=task.region_id, user=user,
               summary=f"material acknowledged after {spent} s",
               changes={"seconds": spent, "completed": not has_quiz})
    return EducationTask.get_by_id(task.id)


def answer_quiz(user, task: EducationTask, form: dict) -> tuple[int, bool]:
    """Check the answers (``q<id>`` = the number of the chosen option, from 1): the
    score in percent and whether it reaches the pass mark (then the task is complete).
    A failed attempt may be repeated."""
    _mine(user, task)
    qs = questions(Material.get_by_id(task.material_id))
    if not qs:
        raise RiskError(_("This material has no quiz."))
    if task.acknowledged_at is None:
        raise RiskError(_("Acknowledge the material before the quiz."))
    if task.completed_at is not None:
        raise RiskError(_("You have completed this task already."))
    chosen = {q.id: parse_int(form.get(f"q{q.id}"), f"q{q.id}", min=1,
                              max=len(q.options)) - 1 for q in qs}
    right = sum(1 for q in qs if chosen[q.id] == q.answer)
    score = round(100 * right / len(qs))
    material = Material.get_by_id(task.material_id)
    passed = score >= material.pass_mark
    values = {"quiz_score": score, "quiz_attempts": EducationTask.quiz_attempts + 1}
    if passed:
        values["completed_at"] = utcnow()
    with db.atomic():
        EducationTask.update(**values).where(EducationTask.id == task.id).execute()
        record("risk.education.quiz", object_type="risk_education_task", object_id=task.id,
               region_id=task.region_id, user=user,
               summary=f"quiz {score}% ({'passed' if passed else 'failed'})",
               changes={"score": score, "passed": passed})
    return score, passed


# -- overdue and completion ------------------------------------------------------------------
def overdue_tasks(day: dt.date | None = None) -> int:
    """Remind each task past its due day and not completed, once: an alert to the
    person's account (to the department when the person has none)."""
    day = day or current_day()
    regions = sorted(set(regions_enabled("risk")))
    rows = list(EducationTask.select(EducationTask, Material).join(Material).where(
        EducationTask.completed_at.is_null(True) & EducationTask.overdue_at.is_null(True)
        & (EducationTask.due < day) & EducationTask.region.in_(regions)))
    if not rows:
        return 0
    with db.atomic(), deployment_language():
        specs = []
        for t in rows:
            account = account_of(t.person_id)
            if account:
                targets = {"target_user": account}
            elif t.department_id:
                targets = {"target_department": t.department_id}
            else:
                continue
            specs.append(AlertSpec(
                EDUCATION_OVERDUE, t.region_id,
                _("Integrity study “%(title)s” not completed (due %(due)s)",
                  title=t.material.title, due=t.due.isoformat()),
                ref=f"risk.education:{t.id}", dedupe_key=f"education:{t.id}",
                details={"title": t.material.title, "due": t.due.isoformat()}, **targets))
        emit_many(specs)
        EducationTask.update(overdue_at=utcnow()).where(
            EducationTask.id.in_([t.id for t in rows])).execute()
        record("risk.education.overdue", object_type="risk_education_task",
               summary=f"{len(rows)} study task(s) overdue",
               changes={"tasks": [t.id for t in rows]})
    return len(rows)


def completion_rates(query, day: dt.date | None = None) -> list[dict]:
    """Per department of the tasks ``query`` selects: tasks assigned, completed,
    completed by their due day, overdue (not completed, past due) and the completion
    rate in percent (one decimal), worst rate first."""
    day = day or current_day()
    rows = query.select(EducationTask.department, EducationTask.completed_at,
                        EducationTask.due).tuples()
    out: dict = {}
    for dept, completed_at, due in rows:
        r = out.setdefault(dept, {"department": dept, "assigned": 0, "completed": 0,
                                  "on_time": 0, "overdue": 0})
        r["assigned"] += 1
        if completed_at is not None:
            r["completed"] += 1
            if local_day(completed_at) <= due:
                r["on_time"] += 1
        elif due < day:
            r["overdue"] += 1
    names = dict(Department.select(Department.id, Department.name).where(
        Department.id.in_([d for d in out if d])).tuples()) if out else {}
    result = []
    for dept, r in out.items():
        r["name"] = names.get(dept, "—")
        r["rate"] = round(100 * r["completed"] / r["assigned"], 1)
        result.append(r)
    return sorted(result, key=lambda r: (r["rate"], r["name"]))
