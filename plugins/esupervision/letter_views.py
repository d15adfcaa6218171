"""Pages of the suggestion letters (监察建议书): the list, the letter as a printable
document, the department's reply (整改回告) and the supervisor's review.

Supervisors (``esupervision.supervise``) see the letters of their regions; a department's
liaison (``esupervision.respond``, holding a post in the department) sees and answers its
own, and reports on the rectification demands of its supervision cases. Anyone else gets
404 for a letter or a demand, 403 for the list."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from core.api import FieldError, _, file_response, has_permission, paginate
from plugins.esupervision import letters, reports, supervision
from plugins.esupervision.forms import LetterReplyForm, LetterReviewForm, ReportForm
from plugins.esupervision.models import (
    LETTER_STATES,
    ReportFile,
    SuggestionLetter,
    SupervisionCase,
)
from plugins.esupervision.views import bp


def _reader() -> None:
    if not (has_permission(current_user, letters.SUPERVISE)
            or has_permission(current_user, letters.RESPOND)):
        abort(403)


def _letter(letter_id: int) -> SuggestionLetter:
    row = letters.visible(current_user).where(SuggestionLetter.id == letter_id).first()
    if row is None:
        abort(404)
    return row


@bp.get("/letters")
@login_required
def letter_list():
    """The letters the user may read, newest first, filterable by state."""
    _reader()
    query = letters.visible(current_user)
    state = request.args.get("state", "")
    if state in LETTER_STATES:
        query = query.where(SuggestionLetter.state == state)
    page = paginate(query, {"issued": SuggestionLetter.issued_at,
                            "due": SuggestionLetter.reply_due}, "issued",
                    target="esv-letters")
    demands = []
    if has_permission(current_user, letters.RESPOND):
        mine = letters.departments_of(current_user)
        demands = [sc for sc in SupervisionCase.select().where(
            SupervisionCase.department.in_(sorted(mine))
            & SupervisionCase.state.in_(("rectifying", "reported", "closed")))
            .order_by(SupervisionCase.id.desc()).limit(50)
            if letters.may_reply(current_user, sc.department_id, sc.region_id)] if mine else []
    return render_template("esupervision/letters.html", page=page, state=state,
                           states=LETTER_STATES, demands=demands)


def _page(letter: SuggestionLetter, reply_form=None, review_form=None, status: int = 200):
    return render_template(
        "esupervision/letter.html", letter=letter,
        may_reply=letters.may_reply(current_user, letter.department_id, letter.region_id)
        and letter.state in ("issued", "returned"),
        may_review=has_permission(current_user, letters.SUPERVISE, letter.region_id)
        and letter.state == "replied",
        reply_form=reply_form or LetterReplyForm(), review_form=review_form or LetterReviewForm(),
        files=reports.files_of(letter=letter),
        paragraphs=[p for p in letter.body.split("\n\n") if p.strip()]), status


@bp.get("/letters/<int:letter_id>")
@login_required
def letter(letter_id: int):
    """The letter as issued (printable), its reply and its review."""
    _reader()
    return _page(_letter(letter_id))


@bp.post("/letters/<int:letter_id>/reply")
@login_required
def letter_reply(letter_id: int):
    _reader()
    row = _letter(letter_id)
    form = LetterReplyForm()
    if not form.validate_on_submit():
        return _page(row, reply_form=form, status=422)
    try:
        letters.reply(row, current_user, form.reply.data,
                      reports.uploads_of(request.files.getlist("files")))
    except letters.LetterError as exc:
        abort(403, str(exc))
    except FieldError as exc:
        form.apply_error(exc)
        return _page(row, reply_form=form, status=422)
    flash(_("The rectification report is sent to the supervision office."), "success")
    return redirect(url_for("esupervision.letter", letter_id=row.id), 303)


@bp.get("/letters/<int:letter_id>/files/<int:report_file_id>")
@login_required
def letter_file(letter_id: int, report_file_id: int):
    """A file of the letter's rectification report, for whoever may read the letter."""
    _reader()
    row = _letter(letter_id)
    att = ReportFile.get_or_none((ReportFile.id == report_file_id)
                                 & (ReportFile.letter == row.id))
    if att is None:
        abort(404)
    return file_response(att.file, user=current_user)


@bp.post("/letters/<int:letter_id>/review")
@login_required
def letter_review(letter_id: int):
    _reader()
    row = _letter(letter_id)
    form = LetterReviewForm()
    if not form.validate_on_submit():
        return _page(row, review_form=form, status=422)
    try:
        letters.review(row, current_user, form.decision.data == "accept", form.note.data)
    except letters.LetterError as exc:
        abort(403, str(exc))
    except FieldError as exc:
        form.note.errors = [exc.message]
        return _page(row, review_form=form, status=422)
    flash(_("Review saved."), "success")
    return redirect(url_for("esupervision.letter", letter_id=row.id), 303)


def _demand(sc_id: int) -> SupervisionCase:
    """A supervision case addressed to one of the user's departments (else 404)."""
    sc = SupervisionCase.get_or_none(SupervisionCase.id == sc_id)
    if sc is None or not sc.department_id or not letters.may_reply(
            current_user, sc.department_id, sc.region_id):
        abort(404)
    return sc


@bp.route("/rectification/<int:sc_id>", methods=["GET", "POST"])
@login_required
def supervision_report(sc_id: int):
    """The supervised department's own page of a rectification demand: what is demanded,
    by when, and its report (整改回告)."""
    if not has_permission(current_user, letters.RESPOND):
        abort(403)
    sc = _demand(sc_id)
    form = ReportForm(prefix="r")
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            try:
                supervision.report_rectification(
                    sc, current_user, form.report.data,
                    reports.uploads_of(request.files.getlist(form.files.name)))
            except supervision.SupervisionError as exc:
                form.report.errors = [str(exc)]
            except FieldError as exc:
                form.apply_error(exc)
            else:
                flash(_("The rectification report is sent to the supervision office."),
                      "success")
                return redirect(url_for("esupervision.supervision_report", sc_id=sc.id), 303)
    return render_template("esupervision/supervision_report.html", sc=sc, form=form,
                           files=reports.files_of(supervision=sc)), status


@bp.get("/rectification/<int:sc_id>/files/<int:report_file_id>")
@login_required
def supervision_file(sc_id: int, report_file_id: int):
    """A file of a supervision case's rectification report: for the supervisor of its
    region and for the department's own liaison; 404 for anyone else."""
    sc = SupervisionCase.get_or_none(SupervisionCase.id == sc_id)
    if sc is None or not (
            has_permission(current_user, supervision.PERM, sc.region_id)
            or (sc.department_id and letters.may_reply(current_user, sc.department_id,
                                                       sc.region_id))):
        abort(404)
    att = ReportFile.get_or_none((ReportFile.id == report_file_id)
                                 & (ReportFile.supervision == sc.id))
    if att is None:
        abort(404)
    return file_response(att.file, user=current_user)
