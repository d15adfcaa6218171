"""Pages of talks, notices and accountability: the register of all three (with the
forms to record them), a talk's page with the self-analysis form, a notice's printable
page with its rectification report and assessment."""
from __future__ import annotations

from flask import Blueprint, abort, flash, render_template, request
from flask_login import current_user

from core.api import (
    Department,
    Person,
    Post,
    _,
    has_permission,
    region_ids,
    require,
    scoped,
    today,
)
from plugins.risk import talks
from plugins.risk.models import Accountability, Notice, Talk, TalkSubmission
from plugins.risk.web import back, in_scope, refusals
from plugins.risk.wording import (
    ACCOUNTABILITY_KIND_LABELS,
    NOTICE_KIND_LABELS,
    NOTICE_STATE_LABELS,
    TALK_KIND_LABELS,
)

bp = Blueprint("risk_talks", __name__, url_prefix="/risk/talks", template_folder="templates")
VIEW, MANAGE = "risk.view", talks.PERM


@bp.context_processor
def _labels():
    return {"talk_kinds": TALK_KIND_LABELS, "notice_kinds": NOTICE_KIND_LABELS,
            "notice_states": NOTICE_STATE_LABELS,
            "accountability_kinds": ACCOUNTABILITY_KIND_LABELS}


@bp.get("/")
@require(VIEW)
def register():
    ids = sorted(region_ids(current_user, MANAGE))
    people = dict(Person.select(Person.id, Person.name).tuples())
    return render_template(
        "risk/talks.html",
        talks=list(scoped(Talk.select(), Talk.region, VIEW).order_by(Talk.held_on.desc())
                   .limit(200)),
        notices=list(scoped(Notice.select(), Notice.region, VIEW)
                     .order_by(Notice.issued_on.desc()).limit(200)),
        records=list(scoped(Accountability.select(), Accountability.region, VIEW)
                     .order_by(Accountability.decided_on.desc()).limit(200)),
        people=people, may_manage=bool(ids),
        departments=list(Department.select().where(Department.region.in_(ids))
                         .order_by(Department.name)) if ids else [],
        posts=list(Post.select(Post, Department).join(Department).where(
            Department.region.in_(ids)).order_by(Department.name, Post.title)) if ids else [],
        staff=list(Person.select().where(Person.region.in_(ids)).order_by(Person.name))
        if ids else [])


@bp.post("/new")
@require(MANAGE)
@refusals
def new_talk():
    talk = talks.record_talk(current_user, request.form.to_dict())
    flash(_("Talk recorded."), "success")
    return back("risk_talks.talk", talk_id=talk.id)


def _talk(talk_id: int) -> Talk:
    talk = Talk.get_or_none(Talk.id == talk_id)
    if talk is None:
        abort(404)
    if not (has_permission(current_user, VIEW, talk.region_id)
            or getattr(current_user, "person_id", None) == talk.person_id):
        abort(404)
    return talk


@bp.get("/<int:talk_id>")
@require("risk.self")
def talk(talk_id: int):
    t = _talk(talk_id)
    return render_template("risk/talk.html", t=t, person=Person.get_by_id(t.person_id),
                           submission=TalkSubmission.get_or_none(TalkSubmission.talk == t.id),
                           may_submit=talks.may_submit(current_user, t), today=today())


@bp.post("/<int:talk_id>/submit")
@require("risk.self")
@refusals
def submit(talk_id: int):
    talks.submit(current_user, _talk(talk_id), request.form.to_dict())
    flash(_("Handed in."), "success")
    return back("risk_talks.talk", talk_id=talk_id)


@bp.post("/notices/new")
@require(MANAGE)
@refusals
def new_notice():
    notice = talks.issue_notice(current_user, request.form.to_dict())
    flash(_("Notice issued."), "success")
    return back("risk_talks.notice", notice_id=notice.id)


@bp.get("/notices/<int:notice_id>")
@require(VIEW)
def notice(notice_id: int):
    n = in_scope(Notice.get_or_none(Notice.id == notice_id), VIEW)
    return render_template("risk/notice.html", n=n,
                           department=Department.get_by_id(n.department_id),
                           may_report=has_permission(current_user, "risk.register.edit",
                                                     n.region_id),
                           may_assess=has_permission(current_user, MANAGE, n.region_id))


@bp.post("/notices/<int:notice_id>/report")
@require("risk.register.edit")
@refusals
def report(notice_id: int):
    n = in_scope(Notice.get_or_none(Notice.id == notice_id), "risk.register.edit")
    talks.report(current_user, n, request.form.get("report", ""))
    flash(_("Rectification reported."), "success")
    return back("risk_talks.notice", notice_id=notice_id)


@bp.post("/notices/<int:notice_id>/assess")
@require(MANAGE)
@refusals
def assess(notice_id: int):
    n = in_scope(Notice.get_or_none(Notice.id == notice_id), MANAGE)
    talks.assess(current_user, n, request.form.get("accepted") == "yes",
                 request.form.get("note", ""))
    flash(_("Saved."), "success")
    return back("risk_talks.notice", notice_id=notice_id)


@bp.post("/accountability/new")
@require(MANAGE)
@refusals
def new_accountability():
    talks.record_accountability(current_user, request.form.to_dict())
    flash(_("Accountability recorded."), "success")
    return back("risk_talks.register")
