"""Pages of integrity education under ``/risk/education/``: the materials of the regions
in scope (publishing and assigning with ``risk.education.manage``), a material's page
(text, attachments, quiz, assignments, every task's read receipt), completion rates per
department, and a person's own study tasks (``risk.self``) with the study page, its
acknowledgement and quiz."""
from __future__ import annotations

from flask import Blueprint, abort, flash, render_template, request
from flask_login import current_user
from peewee import fn

from core.api import (
    Department,
    Person,
    Post,
    Region,
    StoredFile,
    _,
    descendants,
    file_response,
    has_permission,
    parse_id,
    region_ids,
    require,
    scoped,
)
from core.api import (
    today as current_day,
)
from plugins.risk import education
from plugins.risk.labels import RISK_TYPE_LABELS
from plugins.risk.models import (
    EducationTask,
    Material,
    MaterialFile,
    MaterialTarget,
    Question,
)
from plugins.risk.web import back, in_scope, refusals
from plugins.risk.wording import MATERIAL_KIND_LABELS

bp = Blueprint("risk_education", __name__, url_prefix="/risk/education",
               template_folder="templates")
VIEW, MANAGE, SELF = "risk.view", education.PERM, education.SELF


@bp.context_processor
def _labels():
    return {"material_kinds": MATERIAL_KIND_LABELS, "risk_types": RISK_TYPE_LABELS}


def _material(material_id: int, perm: str = VIEW) -> Material:
    return in_scope(Material.get_or_none(Material.id == material_id), perm)


@bp.get("/")
@require(VIEW)
def index():
    ids = sorted(region_ids(current_user, MANAGE))
    materials = list(scoped(Material.select(), Material.region, VIEW)
                     .order_by(Material.created_at.desc()).limit(200))
    counts = {}
    if materials:
        for m, n, done in (EducationTask.select(
                EducationTask.material, fn.COUNT(EducationTask.id),
                fn.COUNT(EducationTask.completed_at))
                .where(EducationTask.material.in_([m.id for m in materials]))
                .group_by(EducationTask.material).tuples()):
            counts[m] = (n, done)
    return render_template("risk/education.html", materials=materials, counts=counts,
                           may_manage=bool(ids),
                           regions=list(Region.select().where(Region.id.in_(ids))
                                        .order_by(Region.id)) if ids else [])


@bp.post("/materials/new")
@require(MANAGE)
@refusals
def new_material():
    m = education.create_material(current_user, request.form.to_dict(),
                                  request.files.getlist("files"))
    flash(_("Material published."), "success")
    return back("risk_education.material", material_id=m.id)


@bp.get("/materials/<int:material_id>")
@require(VIEW)
def material(material_id: int):
    m = _material(material_id)
    may_manage = has_permission(current_user, MANAGE, m.region_id)
    tasks = list(scoped(EducationTask.select(), EducationTask.region, VIEW)
                 .where(EducationTask.material == m.id)
                 .order_by(EducationTask.due, EducationTask.id).limit(500))
    people = dict(Person.select(Person.id, Person.name).where(
        Person.id.in_([t.person_id for t in tasks])).tuples()) if tasks else {}
    posts = list(Post.select(Post, Department).join(Department).where(
        Department.region.in_(sorted(descendants(m.region_id))))
        .order_by(Department.name, Post.title)) if may_manage else []
    titles = {p.id: f"{p.department.name} · {p.title}" for p in posts}
    targets = list(MaterialTarget.select().where(MaterialTarget.material == m.id)
                   .order_by(MaterialTarget.id))
    for t in targets:
        if t.post_id and t.post_id not in titles:
            p = Post.get_or_none(Post.id == t.post_id)
            titles[t.post_id] = p.title if p else "—"
    return render_template(
        "risk/education_material.html", m=m, may_manage=may_manage, tasks=tasks,
        people=people, posts=posts, titles=titles, targets=targets,
        files=list(MaterialFile.select(MaterialFile, StoredFile).join(StoredFile)
                   .where(MaterialFile.material == m.id).order_by(MaterialFile.sort)),
        questions=education.questions(m), today=current_day(),
        assigned=bool(tasks) or EducationTask.select().where(
            EducationTask.material == m.id).exists())


@bp.post("/materials/<int:material_id>/questions")
@require(MANAGE)
@refusals
def add_question(material_id: int):
    education.add_question(current_user, _material(material_id, MANAGE),
                           request.form.to_dict())
    flash(_("Question added."), "success")
    return back("risk_education.material", material_id=material_id)


@bp.post("/questions/<int:question_id>/delete")
@require(MANAGE)
@refusals
def delete_question(question_id: int):
    q = Question.get_or_none(Question.id == question_id)
    if q is None:
        abort(404)
    _material(q.material_id, MANAGE)
    education.delete_question(current_user, q)
    flash(_("Question removed."), "success")
    return back("risk_education.material", material_id=q.material_id)


@bp.post("/materials/<int:material_id>/assign")
@require(MANAGE)
@refusals
def assign(material_id: int):
    _target, made = education.assign(current_user, _material(material_id, MANAGE),
                                     request.form.to_dict())
    flash(_("Assigned: %(n)d new study tasks.", n=made), "success")
    return back("risk_education.material", material_id=material_id)


@bp.post("/assignments/<int:target_id>/close")
@require(MANAGE)
@refusals
def close(target_id: int):
    t = MaterialTarget.get_or_none(MaterialTarget.id == target_id)
    if t is None:
        abort(404)
    _material(t.material_id, MANAGE)
    education.close_assignment(current_user, t)
    flash(_("Assignment closed."), "success")
    return back("risk_education.material", material_id=t.material_id)


@bp.get("/files/<int:file_id>")
@require(SELF)
def attachment(file_id: int):
    """An attachment, for whoever may see its material: staff of the region or a person
    with a task on it."""
    mf = MaterialFile.get_or_none(MaterialFile.id == file_id)
    if mf is None:
        abort(404)
    m = Material.get_by_id(mf.material_id)
    mine = EducationTask.select().where(
        (EducationTask.material == m.id)
        & (EducationTask.person == getattr(current_user, "person_id", None))).exists()
    if not (mine or has_permission(current_user, VIEW, m.region_id)):
        abort(404)
    return file_response(StoredFile.get_by_id(mf.file_id), user=current_user)


@bp.get("/rates")
@require(VIEW)
def rates():
    query = scoped(EducationTask.select(), EducationTask.region, VIEW)
    materials = list(scoped(Material.select(), Material.region, VIEW)
                     .order_by(Material.created_at.desc()).limit(200))
    chosen = None
    raw = request.args.get("material", "")
    if raw:
        chosen = parse_id(raw, "material")
        query = query.where(EducationTask.material == chosen)
    rows = education.completion_rates(query)
    total = {k: sum(r[k] for r in rows) for k in ("assigned", "completed", "on_time",
                                                     "overdue")}
    total["rate"] = round(100 * total["completed"] / total["assigned"], 1) \
        if total["assigned"] else None
    return render_template("risk/education_rates.html", rows=rows, total=total,
                           materials=materials, chosen=chosen)


@bp.get("/mine")
@require(SELF)
def mine():
    pid = getattr(current_user, "person_id", None)
    tasks = list(EducationTask.select(EducationTask, Material).join(Material)
                 .where(EducationTask.person == pid)
                 .order_by(EducationTask.completed_at.is_null(False), EducationTask.due)
                 .limit(500)) if pid else []
    return render_template("risk/education_mine.html", tasks=tasks, today=current_day())


def _task(task_id: int) -> EducationTask:
    t = EducationTask.get_or_none(EducationTask.id == task_id)
    if t is None or not (education.is_assignee(current_user, t)
                         or has_permission(current_user, VIEW, t.region_id)):
        abort(404)
    return t


@bp.get("/tasks/<int:task_id>")
@require(SELF)
def task(task_id: int):
    t = education.open_task(current_user, _task(task_id))
    m = Material.get_by_id(t.material_id)
    return render_template(
        "risk/education_task.html", t=t, m=m, mine=education.is_assignee(current_user, t),
        person=Person.get_by_id(t.person_id), questions=education.questions(m),
        files=list(MaterialFile.select(MaterialFile, StoredFile).join(StoredFile)
                   .where(MaterialFile.material == m.id).order_by(MaterialFile.sort)),
        today=current_day())


@bp.post("/tasks/<int:task_id>/acknowledge")
@require(SELF)
@refusals
def acknowledge(task_id: int):
    education.acknowledge(current_user, _task(task_id), request.form.get("seconds"))
    flash(_("Acknowledged."), "success")
    return back("risk_education.task", task_id=task_id)


@bp.post("/tasks/<int:task_id>/quiz")
@require(SELF)
@refusals
def quiz(task_id: int):
    score, passed = education.answer_quiz(current_user, _task(task_id), request.form)
    if passed:
        flash(_("Passed with %(score)d%%: the task is complete.", score=score), "success")
    else:
        flash(_("%(score)d%%: not passed. Read the material again and retry.", score=score),
              "error")
    return back("risk_education.task", task_id=task_id)
