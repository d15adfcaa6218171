"""Staff pages of the service hall: worklist, filing at the window, the case page with its
timeline and action forms (in place with HTMX), the catalogue, import/export, follow-up."""
from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from core.api import (
    AccessDenied,
    Department,
    FieldError,
    Post,
    PostHolding,
    Region,
    _,
    export_response,
    file_response,
    get_scoped,
    has_permission,
    paginate,
    regions_in_scope,
    require,
    require_level,
    scoped,
    today,
)
from plugins.eservice import (
    cases,
    contact,
    delegation,
    importer,
    rectification,
    timeline,
)
from plugins.eservice.forms import (
    RIGHTS_NOTICE,
    DelegationForm,
    FileCaseForm,
    HallContactForm,
    ImportForm,
    RectifyForm,
    TransitionForm,
)
from plugins.eservice.models import (
    CASE_STATES,
    EVENT_LABELS,
    ITEM_TYPES,
    Case,
    CaseEvent,
    HallContact,
    Item,
    Rating,
    Rectification,
    StepDelegation,
)

bp = Blueprint("eservice", __name__, url_prefix="/eservice", template_folder="templates")

OPEN_STATES = [s for s in CASE_STATES if s not in ("closed",)]


def _my_departments() -> list[int]:
    if current_user.person_id is None:
        return []
    return [d for (d,) in Post.select(Post.department).join(PostHolding)
            .where((PostHolding.person == current_user.person_id)
                   & PostHolding.end.is_null(True)).tuples()]


@bp.route("/worklist")
@require("eservice.case.read")
def worklist():
    """My cases or my department's, open ones first by remaining working days."""
    which = request.args.get("view", "mine")
    query = scoped(Case.select(Case, Item).join(Item), Case.region, "eservice.case.read")
    query = query.where(Case.state.in_(OPEN_STATES))
    if which == "mine":
        query = query.where(Case.handler == current_user.id)
    elif which == "department":
        query = query.where(Case.department.in_(_my_departments() or [0]))
    state = request.args.get("state", "")
    if state in CASE_STATES:
        query = query.where(Case.state == state)
    rows = list(query.order_by(Case.deadline.asc(nulls="last"), Case.id).limit(200))
    day = today()
    remaining = cases.remaining_many(rows, day)
    rows.sort(key=lambda c: (remaining[c.id] is None, remaining[c.id] or 0, c.id))
    return render_template("eservice/worklist.html", cases=rows, remaining=remaining,
                           view=which, state=state, states=CASE_STATES, today=day,
                           row_context=_row_contexts(rows, day))


def _row_context(case: Case) -> dict:
    return {"actions": cases.allowed_actions(case), "labels": cases.ACTION_LABELS,
            "form": _transition_form(case), "can_handle": _can_handle(case)}


def _row_contexts(rows: list[Case], day):
    """``_row_context`` for worklist rows, without the step actions (complete the step,
    decide) of a step whose post the user neither holds nor was delegated: the service
    would refuse them, as on the case page. Two queries for the whole list."""
    titles = cases.current_step_posts(rows)
    mine = delegation.authorities(current_user, day) if titles else set()

    def context(case: Case) -> dict:
        ctx = _row_context(case)
        title = titles.get(case.id, "")
        if title and (case.department_id, title) not in mine:
            ctx["actions"] = [a for a in ctx["actions"] if a not in cases.STEP_HOLDER_ACTIONS]
        return ctx
    return context


def _can_handle(case: Case) -> bool:
    return has_permission(current_user, "eservice.case.handle", case.region_id)


def _transition_form(case: Case) -> TransitionForm:
    form = TransitionForm(formdata=None)
    form.missing.choices = [SelectChoice(m.name, m.name) for m in case.materials]
    form.rights_notice.data = str(RIGHTS_NOTICE)
    return form


def _case_or_404(case_id: int) -> Case:
    return get_scoped(Case.select().where(Case.id == case_id), Case.region,
                      "eservice.case.read")


@bp.route("/cases/<int:case_id>")
@require("eservice.case.read")
def case_page(case_id: int):
    case = _case_or_404(case_id)
    return _render_case(case)


def _render_case(case: Case, form: TransitionForm | None = None, error: str | None = None,
                 failed: str | None = None, status: int = 200):
    events = list(CaseEvent.select().where(CaseEvent.case == case.id)
                  .order_by(CaseEvent.at, CaseEvent.id))
    day = today()
    days = cases.remaining_days(case, day)
    rating = Rating.get_or_none(Rating.case == case.id)
    step = next((s for s in cases._steps(case) if s.seq == case.step_seq), None) \
        if case.state in ("in_review", "suspended") else None
    ctx = _row_context(case)
    ctx["step"], ctx["step_right"] = step, _step_right(case, step, day)
    if ctx["step_right"] == "none":  # the service would refuse them: not offered
        ctx["actions"] = [a for a in ctx["actions"] if a not in cases.STEP_HOLDER_ACTIONS]
    ctx["delegations"] = delegation.in_force(case.department_id, day)
    if form is not None:
        ctx["form"] = form
    html = render_template(
        "eservice/case.html", case=case, events=events, remaining=days,
        materials=cases.case_materials(case),
        urgency=cases.urgency(case, days, day), overdue=cases.is_overdue(case, day),
        rating=rating, error=error, failed=failed, event_labels=EVENT_LABELS, **ctx)
    return html, status


def _step_right(case: Case, step, day) -> str:
    """How the current user stands to the current step: "post", "delegation", "none" or
    "" (no step, or a step assigned to no post)."""
    if step is None or not (step.post_title or "").strip():
        return ""
    try:
        _post, delegated = delegation.step_authority(case, step, current_user, day)
    except AccessDenied:
        return "none"
    return "delegation" if delegated else "post"


@bp.route("/cases/<int:case_id>/act/<action>", methods=["POST"])
@require("eservice.case.handle")
def act(case_id: int, action: str):
    """Move a case by one action: in place on the worklist (HTMX) or on the case page."""
    case = _case_or_404(case_id)
    if not _can_handle(case):
        abort(403)
    if action not in cases.TRANSITIONS:
        abort(404)
    form = TransitionForm()
    form.missing.choices = [SelectChoice(m.name, m.name) for m in case.materials]
    in_row = request.args.get("in") == "row"
    error, refused = None, False
    if not form.validate():
        error = "; ".join(f"{form[k].label.text}: {v[0]}" for k, v in form.errors.items())
    else:
        try:
            case = cases.transition(
                case, action, user=current_user, note=form.note.data or "",
                reason=form.reason.data or "", legal_basis=form.legal_basis.data or "",
                rights_notice=form.rights_notice.data or "", missing=form.missing_list(),
                decision=form.decision.data or "", procedure=form.procedure.data or "",
                expected_days=form.expected_days.data, amount=form.amount.data)
        except FieldError as exc:
            error = exc.message
        except AccessDenied as exc:  # a step of a post the user neither holds nor was delegated
            error, refused = exc.message, True
        case = Case.get_by_id(case.id)
    status = 403 if refused else 422
    if in_row:
        day = today()
        remaining = cases.remaining_many([case], day)
        tpl = "eservice/_row.html"
        if error:
            return render_template(tpl, case=case, remaining=remaining, error=error,
                                   failed=action, cells_only=True,
                                   row_context=_row_contexts([case], day), today=day), status
        return render_template(tpl, case=case, remaining=remaining,
                               row_context=_row_contexts([case], day), today=day)
    if error:
        return _render_case(case, form=form, error=error, failed=action, status=status)
    flash(_("Case %(s)s: %(a)s done.", s=case.serial, a=cases.ACTION_LABELS[action]()),
          "success")
    return redirect(url_for("eservice.case_page", case_id=case.id), 303)


@bp.route("/cases/<int:case_id>/materials/<int:material_id>/file")
@require("eservice.case.read")
def material_file(case_id: int, material_id: int):
    """Download the copy of a material the applicant uploaded (audited)."""
    stored = cases.material_file(_case_or_404(case_id), material_id)
    if stored is None:
        abort(404)
    return file_response(stored, user=current_user)


@bp.route("/cases/<int:case_id>/id-number", methods=["POST"])
@require("eservice.id.unmask")
def reveal_id(case_id: int):
    """Show the applicant's full ID number once; audited as eservice.id.view."""
    case = _case_or_404(case_id)
    if not has_permission(current_user, "eservice.id.unmask", case.region_id):
        abort(404)
    number = cases.reveal_id(case, current_user)
    resp = Response(render_template("eservice/_id.html", number=number))
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.route("/file/<int:item_id>", methods=["GET", "POST"])
@require("eservice.case.handle")
def file_case(item_id: int):
    """Take a walk-in application at the window for an item in force."""
    item = get_scoped(Item.select().where((Item.id == item_id) & (Item.status == "active")),
                      Item.region, "eservice.case.handle")
    form = FileCaseForm()
    form.received.choices = [SelectChoice(m.id, m.name) for m in item.materials]
    error = None
    if request.method == "POST":
        if form.validate():
            try:
                case = cases.file_case(
                    item, applicant_name=form.applicant_name.data,
                    id_number=form.id_number.data, phone=form.phone.data or "",
                    channel="window", received=form.received.data, user=current_user,
                    note=form.note.data or "")
            except FieldError as exc:
                if exc.field and exc.field in form:
                    form[exc.field].errors = [exc.message]
                else:
                    error = exc.message
            else:
                flash(_("Case %(s)s filed.", s=case.serial), "success")
                return redirect(url_for("eservice.case_page", case_id=case.id), 303)
        return render_template("eservice/file.html", item=item, form=form, error=error), 422
    return render_template("eservice/file.html", item=item, form=form, error=error)


@bp.route("/catalogue")
@require("eservice.case.read")
def catalogue():
    """Items in force within the user's regions, searchable by name or code."""
    q = (request.args.get("q") or "").strip()
    query = scoped(Item.select(Item, Department).join(Department)
                   .where(Item.status == "active"), Item.region, "eservice.case.read")
    if q:
        query = query.where(Item.name.contains(q) | Item.code.contains(q))
    page = paginate(query, {"code": Item.code, "name": Item.name,
                            "days": Item.committed_days}, "code", target="items")
    return render_template("eservice/catalogue.html", page=page, q=q, types=ITEM_TYPES,
                           can_manage=has_permission(current_user,
                                                     "eservice.catalogue.manage"))


@bp.route("/catalogue/export.<fmt>")
@require("eservice.catalogue.manage")
def export(fmt: str):
    """The catalogue in the documented column layout (docs/eservice-catalogue.md)."""
    if fmt not in ("csv", "xlsx"):
        abort(404)
    query = scoped(Item.select().where(Item.status == "active").order_by(Item.code),
                   Item.region, "eservice.catalogue.manage")
    return export_response("catalogue", importer.COLUMNS, importer.export_rows(query), fmt,
                           title="catalogue")


@bp.route("/catalogue/import", methods=["GET", "POST"])
@require("eservice.catalogue.manage")
def import_catalogue():
    """Upload → preview every row with its reason → apply all or nothing."""
    form = ImportForm()
    preview = None
    status = 200
    if request.method == "POST" and form.validate():
        allowed = scoped(Department.select(), Department.region, "eservice.catalogue.manage")
        if form.token.data:
            try:
                count = importer.apply(form.token.data, allowed, current_user)
            except importer.ImportError_ as exc:
                flash(str(exc), "error")
                status = 422
            else:
                flash(_("%(n)d items imported.", n=count), "success")
                return redirect(url_for("eservice.catalogue"), 303)
        elif form.file.data:
            upload = form.file.data
            try:
                preview = importer.preview(upload.filename or "", upload.read(), allowed)
            except importer.ImportError_ as exc:
                form.file.errors = [str(exc)]
                status = 422
        else:
            form.file.errors = [_("Choose a CSV or XLSX file.")]
            status = 422
    return render_template("eservice/import.html", form=form, preview=preview,
                           columns=importer.COLUMNS), status


@bp.route("/rectifications")
@require("eservice.rating.follow_up")
def rectifications():
    """Bad ratings to follow up and rectify within 15 working days, tracked to closure."""
    query = scoped(Rectification.select(Rectification, Rating, Case)
                   .join(Rating).join(Case), Rectification.region,
                   "eservice.rating.follow_up")
    rows = list(query.order_by(Rectification.status.desc(), Rectification.due).limit(200))
    return render_template("eservice/rectifications.html", rows=rows,
                           today=today(), form=RectifyForm(formdata=None))


@bp.route("/rectifications/<int:rect_id>", methods=["POST"])
@require("eservice.rating.follow_up")
def close_rectification(rect_id: int):
    rect = get_scoped(Rectification.select().where(Rectification.id == rect_id),
                      Rectification.region, "eservice.rating.follow_up")
    form = RectifyForm()
    try:
        rectification.close_rectification(rect, form.response.data if form.validate() else "",
                                          current_user)
    except FieldError as exc:
        flash(exc.message, "error")
        return rectifications(), 422
    flash(_("Rectification closed."), "success")
    return redirect(url_for("eservice.rectifications"), 303)


def _delegation_form(form: DelegationForm | None = None) -> DelegationForm:
    form = form or DelegationForm(formdata=None)
    posts = delegation.delegable_posts(current_user)
    form.post_id.choices = [SelectChoice("", "—")] + [
        SelectChoice(str(p.id), f"{p.department.name} · {p.title}") for p in posts]
    form.delegate_id.choices = [SelectChoice("", "—")] + [
        SelectChoice(str(u.id), u.username) for u in delegation.colleagues(posts)
        if u.id != current_user.id]
    return form


@bp.route("/delegations", methods=["GET", "POST"])
@require("eservice.case.handle")
def delegations():
    """Delegations (委托) of a post's case steps: the ones I granted or received, and a form
    to delegate a post I hold (or a post of a department I head) to a colleague."""
    form = _delegation_form(DelegationForm() if request.method == "POST" else None)
    status, error = 200, None
    if request.method == "POST":
        status = 422
        if form.validate():
            try:
                row = delegation.grant(
                    current_user, post_id=form.post_id.data, delegate_id=form.delegate_id.data,
                    valid_from=form.valid_from.data, valid_until=form.valid_until.data,
                    reason=form.reason.data or "")
            except AccessDenied as exc:
                status, error = 403, exc.message
            except FieldError as exc:
                if exc.field in form:
                    form[exc.field].errors = [exc.message]
                else:
                    error = exc.message
            else:
                flash(_("Delegation recorded: %(user)s may complete the steps of %(post)s "
                        "from %(a)s to %(b)s.", user=row.delegate.username,
                        post=row.post.title, a=row.valid_from, b=row.valid_until), "success")
                return redirect(url_for("eservice.delegations"), 303)
    return render_template("eservice/delegations.html", form=form, error=error,
                           rows=delegation.mine(current_user), today=today()), status


@bp.route("/delegations/<int:delegation_id>/revoke", methods=["POST"])
@require("eservice.case.handle")
def revoke_delegation(delegation_id: int):
    """End a delegation at once (grantor, delegate or head of the department)."""
    row = get_scoped(StepDelegation.select().where(StepDelegation.id == delegation_id),
                     StepDelegation.region, "eservice.case.handle")
    try:
        delegation.revoke(current_user, row)
    except FieldError as exc:
        flash(exc.message, "error")
        return redirect(url_for("eservice.delegations"), 303)
    flash(_("Delegation revoked."), "success")
    return redirect(url_for("eservice.delegations"), 303)


def _contact_rows(forms: dict | None = None) -> list[tuple]:
    """(region, its own contact, the form) for every region the user manages."""
    regions = list(regions_in_scope(current_user, contact.PERMISSION))
    own = {c.region_id: c for c in HallContact.select().where(
        HallContact.region.in_([r.id for r in regions] or [0]))}
    rows = []
    for region in regions:
        form = (forms or {}).get(region.id)
        if form is None:
            form = HallContactForm(formdata=None, obj=own.get(region.id),
                                   prefix=f"r{region.id}")
        rows.append((region, own.get(region.id), form))
    return rows


@bp.route("/hall-contacts")
@require(contact.PERMISSION)
def hall_contacts():
    """The hall's address and contact of each region the user manages (on the receipt)."""
    return render_template("eservice/hall_contacts.html", rows=_contact_rows())


@bp.route("/hall-contacts/<int:region_id>", methods=["POST"])
@require(contact.PERMISSION)
def set_hall_contact(region_id: int):
    """Set one region's hall address and contact: the grant must cover that region."""
    region = Region.get_or_none(Region.id == region_id)
    if region is None:
        abort(404)
    require_level(current_user, contact.PERMISSION, region)  # a county grant: its county only
    form = HallContactForm(prefix=f"r{region.id}")
    if form.validate():
        try:
            contact.set_contact(current_user, region, address=form.address.data,
                                phone=form.phone.data, hours=form.hours.data or "")
        except FieldError as exc:
            if exc.field in form:
                form[exc.field].errors = [exc.message]
        else:
            flash(_("The hall's address and contact for %(r)s are saved.", r=region.name),
                  "success")
            return redirect(url_for("eservice.hall_contacts"), 303)
    return render_template("eservice/hall_contacts.html",
                           rows=_contact_rows({region.id: form}), failed=region.id), 422


@bp.app_template_filter("eservice_state")
def _state_filter(code):
    return timeline.state_label(code)


@bp.app_template_filter("eservice_details")
def _details_filter(raw):
    return timeline.details(raw)


@bp.app_template_filter("eservice_urgency")
def _urgency_filter(case, days, on):
    return cases.urgency(case, days, on)

