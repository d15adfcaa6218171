"""Staff pages: the purchaser channel (plans, projects and their steps), bid custody, the
auction's supervision page, red flags with their rules, and statistics."""
from __future__ import annotations

import json
from decimal import Decimal

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from jinja2_fragments.flask import render_block

from core.api import (
    Department,
    FieldError,
    Region,
    _,
    covers_city,
    db,
    export_response,
    has_permission,
    paginate,
    parse_id,
    record,
    region_ids,
    require,
    require_city_wide,
    require_level,
    scoped,
    today,
    utcnow,
)
from plugins.procurement import (
    agency_reviews,
    auction,
    bidding,
    clocks,
    complaints,
    contracts,
    inspections,
    projects,
    rules,
    stats,
)
from plugins.procurement.forms import (
    AcceptanceNoticeForm,
    AgencyReviewForm,
    AuctionForm,
    ChangeForm,
    ContractForm,
    EnrolForm,
    FlagForm,
    InspectionForm,
    NoticeForm,
    PassphraseForm,
    PlanForm,
    ProjectForm,
    ReplyForm,
)
from plugins.procurement.methods import (
    ANNOUNCEMENT_KINDS,
    BID_STATES,
    CATEGORIES,
    METHODS,
    PROJECT_STATES,
    RELEASE_TAGS,
    method_label,
    param_label,
)
from plugins.procurement.models import (
    Announcement,
    Auction,
    Bid,
    Clock,
    Complaint,
    Contract,
    ContractChange,
    Flag,
    Plan,
    PlanItem,
    Project,
    Release,
    RuleSetting,
    Supplier,
)

bp = Blueprint("procurement", __name__, url_prefix="/procurement",
               template_folder="templates", static_folder="static",
               static_url_path="/static/procurement")
VIEW, PURCHASE = projects.VIEW, projects.PURCHASE
SUPERVISE, CUSTODY, FINANCE = "procurement.supervise", "procurement.custody", \
    "procurement.finance"


@bp.app_context_processor
def _vocabulary():
    return {"pc_methods": METHODS, "pc_states": PROJECT_STATES, "pc_bid_states": BID_STATES,
            "pc_kinds": ANNOUNCEMENT_KINDS, "pc_categories": CATEGORIES,
            "pc_method_label": method_label, "pc_clock_label": clocks.label,
            "pc_tags": RELEASE_TAGS, "pc_param_label": param_label}


def _back(project_id: int, anchor: str = ""):
    return redirect(url_for("procurement.project", project_id=project_id) + anchor, 303)


# -- projects -------------------------------------------------------------------------------
@bp.get("/", endpoint="projects")
@require(VIEW)
def project_list():
    """Projects in the user's scope, searchable (active search) and filterable."""
    query = scoped(Project.select(Project, Department).join(Department), Project.region, VIEW)
    status = request.args.get("status", "")
    if status in PROJECT_STATES:
        query = query.where(Project.status == status)
    method = request.args.get("method", "")
    if method in METHODS:
        query = query.where(Project.method == method)
    q = request.args.get("q", "").strip()[:100]
    if q:
        query = query.where(Project.number.contains(q) | Project.title.contains(q))
    page = paginate(query, {"number": Project.number, "created": Project.created_at,
                            "deadline": Project.deadline, "budget": Project.budget},
                    "created", target="pc-projects")
    open_flags = scoped(Flag.select(), Flag.region, VIEW).where(Flag.state == "open").count()
    template = "procurement/projects.html"
    ctx = {"page": page, "status": status, "method": method, "q": q, "open_flags": open_flags}
    if request.headers.get("HX-Request") == "true" and request.headers.get("HX-Target") == \
            "pc-projects":
        return render_block(template, "table", **ctx)
    return render_template(template, **ctx)


@bp.get("/projects/<int:project_id>")
@require(VIEW)
def project(project_id: int):
    row = projects.get_project(current_user, project_id)
    return render_template("procurement/project.html", **_project_context(row))


def _project_context(row: Project, **forms) -> dict:
    may_purchase = has_permission(current_user, PURCHASE, row.region_id)
    opened = row.opening_state == "opened" or row.method == "auction"
    bids = list(Bid.select(Bid, Supplier).join(Supplier).where(
        (Bid.project == row.id) & Bid.status.in_(("valid", "disqualified", "unopened")))
        .order_by(Bid.rank.asc(nulls="LAST"), Bid.price, Bid.id)) if opened else []
    awards = list(row.awards.order_by(row.awards.model.id))
    contract = Contract.get_or_none(Contract.project == row.id)
    notice_form = forms.get("notice_form") or NoticeForm(formdata=None)
    notice_form.custodians.choices = [(u.id, u.username) for u in
                                      _custodian_choices(row.region_id)]
    if not notice_form.custodians.data:
        notice_form.custodians.data = [u.id for u in bidding.default_custodians(row.region_id)]
    return {
        "project": row, "may_purchase": may_purchase,
        "may_finance": has_permission(current_user, FINANCE, row.region_id),
        "plan_items": list(PlanItem.select().where(PlanItem.plan == row.plan_id))
        if row.plan_id else [],
        "notices": list(row.announcements.order_by(Announcement.published_at)),
        "bids": bids, "awards": awards, "contract": contract,
        "changes": list(ContractChange.select().where(ContractChange.contract == contract.id)
                        .order_by(ContractChange.day)) if contract else [],
        "committee": list(row.committee),
        "complaints": list(row.complaints.order_by(Complaint.id)),
        "clock_rows": list(row.clocks.order_by(Clock.due_on)),
        "flags": list(Flag.select().where(Flag.project == row.id).order_by(Flag.id)),
        "rules": rules.all_rules(),
        "releases": list(row.releases.select(Release.seq, Release.tag, Release.date,
                                             Release.release_id).order_by(Release.seq)),
        "auction": Auction.get_or_none(Auction.project == row.id),
        "notice_form": notice_form,
        "auction_form": forms.get("auction_form") or AuctionForm(formdata=None),
        "acceptance_form": AcceptanceNoticeForm(formdata=None),
        "contract_form": forms.get("contract_form") or ContractForm(formdata=None),
        "change_form": ChangeForm(formdata=None), "reply_form": ReplyForm(formdata=None),
        "today": today(), "now": utcnow(),
    }


def _custodian_choices(region_id: int):
    from core.api import sealing
    return sealing.custodians_for(CUSTODY, region_id)


def _render_project(row: Project, status: int, **forms):
    return render_template("procurement/project.html", **_project_context(row, **forms)), \
        status


@bp.post("/projects/<int:project_id>/notices")
@require(PURCHASE)
def publish_notice(project_id: int):
    row = projects.get_project(current_user, project_id, PURCHASE)
    form = NoticeForm()
    form.custodians.choices = [(u.id, u.username) for u in _custodian_choices(row.region_id)]
    if not form.validate():
        return _render_project(row, 422, notice_form=form)
    from core.api import User
    chosen = list(User.select().where(User.id.in_(form.custodians.data))) \
        if form.custodians.data else []
    try:
        projects.publish(current_user, row, form.kind.data, title=form.title.data,
                         extra_text=form.extra_text.data, issued_at=form.issued_at.data,
                         deadline=form.deadline.data, new_deadline=form.new_deadline.data,
                         affects_bids=form.affects_bids.data, custodians=chosen)
    except FieldError as exc:
        form.apply_error(exc)
        return _render_project(row, 422, notice_form=form)
    flash(_("The notice is published."), "success")
    return _back(project_id, "#notices")


@bp.post("/projects/<int:project_id>/auction")
@require(PURCHASE)
def setup_auction(project_id: int):
    row = projects.get_project(current_user, project_id, PURCHASE)
    form = AuctionForm()
    if not form.validate():
        return _render_project(row, 422, auction_form=form)
    try:
        auction.setup(current_user, row, starts_at=form.starts_at.data,
                      ends_at=form.ends_at.data, step=form.step.data,
                      extension_seconds=form.extension_seconds.data,
                      max_extension_seconds=form.max_extension_seconds.data)
    except FieldError as exc:
        form.apply_error(exc)
        return _render_project(row, 422, auction_form=form)
    flash(_("The auction is scheduled: publish its notice to open registration."), "success")
    return _back(project_id, "#auction")


@bp.post("/projects/<int:project_id>/committee")
@require(PURCHASE)
def set_committee(project_id: int):
    row = projects.get_project(current_user, project_id, PURCHASE)
    names = request.form.getlist("name")[:21]
    members = [{"name": name, "is_expert": request.form.get(f"expert-{n}") == "on",
                "from_purchaser": request.form.get(f"purchaser-{n}") == "on"}
               for n, name in enumerate(names)]
    projects.set_committee(current_user, row, members)
    flash(_("The committee is recorded."), "success")
    return _back(project_id, "#evaluation")


@bp.post("/projects/<int:project_id>/evaluation")
@require(PURCHASE)
def evaluate(project_id: int):
    from core.api import parse_decimal
    row = projects.get_project(current_user, project_id, PURCHASE)
    results = {}
    for bid in Bid.select().where((Bid.project == row.id)
                                  & Bid.status.in_(("valid", "disqualified"))):
        dq = request.form.get(f"dq-{bid.id}") == "on"
        results[bid.id] = {
            "disqualified": dq, "reason": request.form.get(f"reason-{bid.id}", ""),
            "score": None if dq else parse_decimal(request.form.get(f"score-{bid.id}"),
                                                   f"score-{bid.id}", places=2, min=0,
                                                   max=100)}
    projects.evaluate(current_user, row, results)
    flash(_("The evaluation report is recorded."), "success")
    return _back(project_id, "#evaluation")


@bp.post("/projects/<int:project_id>/winner")
@require(PURCHASE)
def fix_winner(project_id: int):
    row = projects.get_project(current_user, project_id, PURCHASE)
    projects.fix_winner(current_user, row)
    flash(_("The winner is fixed."), "success")
    return _back(project_id, "#award")


@bp.post("/projects/<int:project_id>/result")
@require(PURCHASE)
def announce_result(project_id: int):
    row = projects.get_project(current_user, project_id, PURCHASE)
    projects.announce_result(current_user, row,
                             extra_text=request.form.get("extra_text", ""))
    flash(_("The award notice is issued and the result published."), "success")
    return _back(project_id, "#award")


@bp.post("/projects/<int:project_id>/fail")
@require(PURCHASE)
def fail(project_id: int):
    row = projects.get_project(current_user, project_id, PURCHASE)
    projects.fail(current_user, row, request.form.get("reason", ""))
    flash(_("The project is ended as failed."), "success")
    return _back(project_id)


@bp.post("/projects/<int:project_id>/contract")
@require(PURCHASE)
def sign_contract(project_id: int):
    row = projects.get_project(current_user, project_id, PURCHASE)
    form = ContractForm()
    if not form.validate():
        return _render_project(row, 422, contract_form=form)
    try:
        contracts.sign(current_user, row, number=form.number.data, amount=form.amount.data,
                       signed_on=form.signed_on.data, period_start=form.period_start.data,
                       period_end=form.period_end.data)
    except FieldError as exc:
        form.apply_error(exc)
        return _render_project(row, 422, contract_form=form)
    flash(_("The contract is recorded."), "success")
    return _back(project_id, "#contract")


def _contract(contract_id: int, perm: str) -> Contract:
    row = Contract.get_or_none(Contract.id == contract_id)
    if row is None:
        abort(404)
    projects.get_project(current_user, row.project_id, perm)
    return row


@bp.post("/contracts/<int:contract_id>/publish")
@require(PURCHASE)
def publish_contract(contract_id: int):
    row = _contract(contract_id, PURCHASE)
    contracts.publish(current_user, row)
    flash(_("The contract is published."), "success")
    return _back(row.project_id, "#contract")


@bp.post("/contracts/<int:contract_id>/file")
@require(FINANCE)
def file_contract(contract_id: int):
    row = _contract(contract_id, FINANCE)
    contracts.file(current_user, row)
    flash(_("The filing is recorded."), "success")
    return _back(row.project_id, "#contract")


@bp.post("/contracts/<int:contract_id>/changes")
@require(PURCHASE)
def contract_change(contract_id: int):
    row = _contract(contract_id, PURCHASE)
    form = ChangeForm()
    if not form.validate():
        raise FieldError(next(iter(form.errors)), form.first_error)
    contracts.add_change(current_user, row, kind=form.kind.data, day=form.day.data,
                         title=form.title.data, amount=form.amount.data,
                         passed={"yes": True, "no": False}.get(form.passed.data))
    flash(_("Saved."), "success")
    return _back(row.project_id, "#contract")


@bp.post("/contracts/<int:contract_id>/acceptance")
@require(PURCHASE)
def publish_acceptance(contract_id: int):
    """Publish the acceptance result of a public service project (公共服务项目验收结果公告)."""
    row = _contract(contract_id, PURCHASE)
    form = AcceptanceNoticeForm()
    if not form.validate():
        raise FieldError(next(iter(form.errors)), form.first_error)
    contracts.publish_acceptance(current_user, row, public_service=form.public_service.data,
                                 text=form.extra_text.data or "")
    flash(_("The acceptance result is published."), "success")
    return _back(row.project_id, "#contract")


@bp.post("/complaints/<int:complaint_id>/reply")
@require(VIEW)
def reply_complaint(complaint_id: int):
    row = Complaint.get_or_none(Complaint.id == complaint_id)
    if row is None:
        abort(404)
    projects.get_project(current_user, row.project_id)
    form = ReplyForm()
    if not form.validate():
        raise FieldError("reply", form.first_error)
    complaints.reply(current_user, row, form.reply.data, form.upheld.data)
    flash(_("The answer is recorded."), "success")
    return _back(row.project_id, "#complaints")


@bp.get("/projects/<int:project_id>/bids/<int:bid_id>/files/<int:number>")
@require(PURCHASE)
def bid_file(project_id: int, bid_id: int, number: int):
    row = projects.get_project(current_user, project_id, PURCHASE)
    bid = Bid.get_or_none((Bid.id == bid_id) & (Bid.project == row.id))
    if bid is None:
        abort(404)
    desc, data = bidding.bid_file(bid, number)
    with db.atomic():
        record("procurement.bid.file_read", object_type="procurement_bid", object_id=bid.id,
               region_id=row.region_id, summary=f"{row.number}: file {number} of bid "
                                                f"{bid.id} read")
    resp = make_response(data)
    resp.headers["Content-Type"] = desc.get("type", "application/octet-stream")
    resp.headers["Content-Disposition"] = f"attachment; filename=bid-{bid.id}-{number}"
    return resp


@bp.get("/projects/<int:project_id>/auction")
@require(VIEW)
def auction_watch(project_id: int):
    """The supervisor's live page of an auction (updates without reload)."""
    row = projects.get_project(current_user, project_id)
    auc = Auction.get_or_none(Auction.project == row.id)
    if auc is None:
        abort(404)
    snap = auction.snapshot(auc, reveal=True)
    if request.headers.get("HX-Request") == "true":
        resp = make_response(render_block("procurement/auction_watch.html", "live",
                                          project=row, snap=snap))
        if snap["over"]:
            resp.status_code = 286  # htmx stops polling
        return resp
    return render_template("procurement/auction_watch.html", project=row, snap=snap)


# -- plans ----------------------------------------------------------------------------------
@bp.get("/plans")
@require(PURCHASE)
def plans():
    query = scoped(Plan.select(Plan, Department).join(Department), Plan.region, PURCHASE) \
        .order_by(Plan.created_at.desc())
    page = paginate(query, {"created": Plan.created_at, "budget": Plan.budget}, "created",
                    target="pc-plans")
    return render_template("procurement/plans.html", page=page)


def _plan_form(form: PlanForm | None = None) -> PlanForm:
    form = form or PlanForm()
    ids = sorted(region_ids(current_user, PURCHASE))
    form.department.choices = [(d.id, f"{d.region.name} · {d.name}") for d in
                               Department.select(Department, Region).join(Region)
                               .where(Department.region.in_(ids))
                               .order_by(Region.sort, Department.sort, Department.id)]
    if form.year.data is None:
        form.year.data = today().year
    return form


@bp.route("/plans/new", methods=["GET", "POST"])
@require(PURCHASE)
def plan_new():
    form = _plan_form()
    if request.method == "POST" and form.validate():
        dept = Department.get_or_none(Department.id == form.department.data)
        if dept is None:
            abort(404)
        try:
            plan = projects.create_plan(
                current_user, dept, year=form.year.data, title=form.title.data,
                category=form.category.data, budget=form.budget.data,
                method=form.method.data, method_reason=form.method_reason.data,
                approval_ref=form.approval_ref.data, expected_month=form.expected_month.data,
                items=[{"description": form.item_description.data,
                        "classification": form.item_classification.data,
                        "quantity": form.item_quantity.data or Decimal(1),
                        "unit": form.item_unit.data}])
        except FieldError as exc:
            form.apply_error(exc)
        else:
            flash(_("The plan is filed."), "success")
            return redirect(url_for("procurement.plan", plan_id=plan.id), 303)
    status = 422 if request.method == "POST" else 200
    return render_template("procurement/plan_new.html", form=form), status


@bp.route("/plans/<int:plan_id>", methods=["GET", "POST"])
@require(PURCHASE)
def plan(plan_id: int):
    row = Plan.get_or_none(Plan.id == plan_id)
    if row is None or not has_permission(current_user, PURCHASE, row.region_id):
        abort(404)
    form = ProjectForm()
    form.supplier.choices = [(0, "—")] + [(s.id, f"{s.name} ({s.uscc})") for s in
                                          Supplier.select().where(Supplier.active == True)
                                          .order_by(Supplier.name)]
    if request.method == "POST" and form.validate():
        supplier = Supplier.get_or_none(Supplier.id == form.supplier.data) \
            if form.supplier.data else None
        original = None
        if form.original_contract.data:
            original = _contract(form.original_contract.data, PURCHASE)
        try:
            created = projects.create_project(
                current_user, row, ceiling=form.ceiling.data, title=form.title.data,
                description=form.description.data, agency=form.agency.data,
                single_source_supplier=supplier, original_contract=original)
        except FieldError as exc:
            form.apply_error(exc)
        else:
            flash(_("The project is opened."), "success")
            return redirect(url_for("procurement.project", project_id=created.id), 303)
    status = 422 if request.method == "POST" else 200
    return render_template("procurement/plan.html", plan=row, form=form,
                           items=list(row.items)), status


# -- custody --------------------------------------------------------------------------------
@bp.route("/custody", methods=["GET", "POST"])
@require(CUSTODY)
def custody():
    """Enrol as a custodian (or change the passphrase), and release shares of openings."""
    from core.api import SealError, sealing
    enrol = EnrolForm(prefix="enrol")
    release = PassphraseForm(prefix="release")
    status = 200
    if request.method == "POST" and request.form.get("action") == "enrol":
        if enrol.validate():
            try:
                if sealing.custodian_key(current_user) is not None and enrol.old.data:
                    sealing.change_passphrase(current_user, enrol.old.data,
                                              enrol.passphrase.data)
                else:
                    sealing.enroll_custodian(current_user, enrol.passphrase.data)
            except SealError as exc:
                enrol.passphrase.errors = [str(exc)]
                status = 422
            else:
                flash(_("Your custody key is ready. Keep the passphrase to yourself: nobody "
                        "can recover it."), "success")
                return redirect(url_for("procurement.custody"), 303)
        else:
            status = 422
    due = [p for p in scoped(Project.select(), Project.region, CUSTODY)
           .where(Project.opening_state == "opening").order_by(Project.deadline)
           if _holds_share(p)]
    if request.method == "POST" and request.form.get("action") == "release":
        if release.validate():
            chosen = [p for p in due if str(p.id) in request.form.getlist("project")]
            if not chosen:
                release.passphrase.errors = [_("Choose the openings to release.")]
                status = 422
            else:
                try:
                    bidding.release(current_user, release.passphrase.data, chosen)
                except FieldError as exc:
                    release.passphrase.errors = [exc.message]
                    status = 422
                else:
                    from plugins.procurement.tasks import open_project
                    open_project(chosen[0].id)
                    flash(_("Your shares are released."), "success")
                    return redirect(url_for("procurement.custody"), 303)
        else:
            status = 422
    upcoming = [p for p in scoped(Project.select(), Project.region, CUSTODY)
                .where(Project.opening_state == "sealed").order_by(Project.deadline)
                .limit(50) if _holds_share(p)]
    return render_template("procurement/custody.html", enrol=enrol, release=release,
                           key=sealing.custodian_key(current_user), due=due,
                           upcoming=upcoming, released=_released_by_me(due)), status


def _holds_share(project: Project) -> bool:
    from core.api import sealing
    seal = sealing.get_seal(bidding.PURPOSE, project.number)
    return seal is not None and any(s.custodian_id == current_user.id for s in seal.shares)


def _released_by_me(projects_due) -> set[int]:
    from core.api import sealing
    out = set()
    for p in projects_due:
        seal = sealing.get_seal(bidding.PURPOSE, p.number)
        if any(s.custodian_id == current_user.id and s.released_at for s in seal.shares):
            out.add(p.id)
    return out


# -- red flags ------------------------------------------------------------------------------
@bp.get("/flags")
@require(SUPERVISE)
def flags():
    query = scoped(Flag.select(), Flag.region, SUPERVISE)
    state = request.args.get("state", "open")
    if state in ("open", "confirmed", "dismissed"):
        query = query.where(Flag.state == state)
    code = request.args.get("code", "")
    all_r = rules.all_rules()
    if code in all_r:
        query = query.where(Flag.code == code)
    page = paginate(query, {"raised": Flag.raised_at, "code": Flag.code}, "raised",
                    target="pc-flags")
    numbers = dict(Project.select(Project.id, Project.number).where(
        Project.id.in_([f.project_id for f in page.items if f.project_id])).tuples()) \
        if page.items else {}
    return render_template("procurement/flags.html", page=page, state=state, code=code,
                           rules=all_r, numbers=numbers, form=FlagForm(formdata=None),
                           subjects=_subjects(page.items), details=_details(page.items))


def _details(items) -> dict:
    all_r = rules.all_rules()
    return {f.id: all_r[f.code].describe(json.loads(f.detail or "{}"))
            if f.code in all_r else "" for f in items}


def _subjects(items) -> dict:
    depts = {f.subject_id for f in items if f.subject == "buyer"}
    sups = {f.subject_id for f in items if f.subject == "tenderer"}
    out = {}
    for d in Department.select().where(Department.id.in_(sorted(depts))) if depts else []:
        out[("buyer", d.id)] = d.name
    for s in Supplier.select().where(Supplier.id.in_(sorted(sups))) if sups else []:
        out[("tenderer", s.id)] = s.name
    return out


def _flag(flag_id: int) -> Flag:
    """The flag, if the user supervises its region (else 404, hiding it)."""
    flag = Flag.get_or_none(Flag.id == flag_id)
    if flag is None or not has_permission(current_user, SUPERVISE, flag.region_id):
        abort(404)
    return flag


@bp.post("/flags/<int:flag_id>")
@require(SUPERVISE)
def handle_flag(flag_id: int):
    flag = _flag(flag_id)
    form = FlagForm()
    if not form.validate():
        raise FieldError("note", form.first_error)
    if flag.state != "open":
        raise FieldError("state", _("This flag is already handled."))
    decision = form.decision.data or ""
    if decision and form.state.data != "confirmed":
        raise FieldError("decision", _("A handling decision is published for a confirmed "
                                       "flag only."))
    with db.atomic():
        Flag.update(state=form.state.data, note=form.note.data,
                    handled_by=current_user.username, handled_at=utcnow()).where(
            Flag.id == flag.id).execute()
        record("procurement.flag.handle", object_type="procurement_flag", object_id=flag.id,
               region_id=flag.region_id, changes={"state": ["open", form.state.data]},
               summary=f"{flag.code}: {form.state.data}")
        if decision:
            inspections.publish_inspection(current_user, Flag.get_by_id(flag.id), decision)
    flash(_("Saved."), "success")
    return redirect(request.referrer if (request.referrer or "").startswith(
        request.host_url) else url_for("procurement.flags"), 303)


@bp.post("/flags/<int:flag_id>/inspection")
@require(SUPERVISE)
def publish_inspection(flag_id: int):
    """Publish the inspection result (监督检查处理结果公告) of a flag confirmed earlier."""
    flag = _flag(flag_id)
    form = InspectionForm()
    if not form.validate():
        raise FieldError("decision", form.first_error)
    inspections.publish_inspection(current_user, flag, form.decision.data)
    flash(_("The inspection result is published."), "success")
    return redirect(url_for("procurement.flags", state="confirmed"), 303)


@bp.route("/rules", methods=["GET", "POST"])
@require(SUPERVISE)
def rule_settings():
    """Rules on or off, and their parameters, for a region (or the city default)."""
    from core.api import parse_decimal
    ids = sorted(region_ids(current_user, SUPERVISE))
    regions = list(Region.select().where(Region.id.in_(ids)).order_by(Region.sort, Region.id))
    city_wide = covers_city(current_user, SUPERVISE)
    rid = request.values.get("region_id", "")
    region = None
    if rid:
        region = next((r for r in regions if r.id == parse_id(rid, "region_id")), None)
        if region is None:
            abort(404)
    elif not city_wide:
        if not regions:
            abort(403)
        region = regions[0]
    all_r = rules.all_rules()
    if request.method == "POST":
        code = request.form.get("code", "")
        if code not in all_r:
            raise FieldError("code", _("Unknown rule."))
        rule = all_r[code]
        params = {}
        for key, default in rule.params.items():
            value = parse_decimal(request.form.get(f"param-{key}", str(default)),
                                  f"param-{key}", places=4, min=0, max=1000000000)
            params[key] = float(value) if isinstance(default, float) else int(value)
        enabled = request.form.get("enabled") == "on"
        if region is None:
            require_city_wide(current_user, SUPERVISE)
        else:
            require_level(current_user, SUPERVISE, region.id)
        with db.atomic():
            _save_setting(region, code, enabled, params)
            record("procurement.rule.set", object_type="procurement_rule", object_id=code,
                   region_id=region.id if region else None,
                   changes={"enabled": [None, enabled], "params": [None, params]},
                   summary=f"{code} {'on' if enabled else 'off'} for "
                           f"{region.code if region else 'the city'}")
        flash(_("Saved."), "success")
        return redirect(url_for("procurement.rule_settings",
                                region_id=region.id if region else None), 303)
    effective = rules.effective_settings([region.id])[region.id] if region else {
        code: _city_effective(rule) for code, rule in all_r.items()}
    return render_template("procurement/rules.html", rules=all_r, effective=effective,
                           regions=regions, region=region, city_wide=city_wide)


def _save_setting(region, code: str, enabled: bool, params: dict) -> None:
    where = (RuleSetting.region.is_null() if region is None
             else RuleSetting.region == region.id) & (RuleSetting.code == code)
    row = RuleSetting.get_or_none(where)
    if row is None:
        RuleSetting.create(region=region, code=code, enabled=enabled,
                           params=json.dumps(params), updated_by=current_user.username)
    else:
        RuleSetting.update(enabled=enabled, params=json.dumps(params),
                           updated_by=current_user.username, updated_at=utcnow()).where(
            RuleSetting.id == row.id).execute()


def _city_effective(rule) -> tuple[bool, dict]:
    row = RuleSetting.get_or_none(RuleSetting.region.is_null() & (RuleSetting.code == rule.code))
    params = dict(rule.params)
    if row is None:
        return True, params
    params.update({k: v for k, v in json.loads(row.params or "{}").items() if k in params})
    return row.enabled, params


# -- assessment of central procurement agencies ----------------------------------------------
@bp.route("/agency-reviews", methods=["GET", "POST"])
@require(FINANCE)
def agency_review_page():
    """The finance department publishes a central procurement agency's assessment result
    (集中采购机构考核结果公告); the ones published in the user's scope."""
    ids = sorted(region_ids(current_user, FINANCE))
    form = AgencyReviewForm()
    form.region.choices = [(r.id, r.name) for r in Region.select().where(Region.id.in_(ids))
                           .order_by(Region.sort, Region.id)] if ids else []
    status = 200
    if request.method == "POST":
        if form.validate():
            try:
                agency_reviews.publish_agency_review(
                    current_user, form.region.data, agency=form.agency.data,
                    period=form.period.data, result=form.result.data)
            except FieldError as exc:
                form.apply_error(exc)
                status = 422
            else:
                flash(_("The assessment result is published."), "success")
                return redirect(url_for("procurement.agency_review_page"), 303)
        else:
            status = 422
    query = scoped(Announcement.select(), Announcement.region, FINANCE).where(
        Announcement.kind == "agency_review")
    page = paginate(query, {"published": Announcement.published_at}, "published",
                    target="pc-reviews")
    return render_template("procurement/agency_reviews.html", form=form, page=page), status


# -- statistics -----------------------------------------------------------------------------
@bp.get("/stats")
@require(VIEW)
def stats_page():
    year = request.args.get("year", "")
    from core.api import parse_int
    year = parse_int(year, "year", min=2000, max=2099) if year else today().year
    data = stats.compute(current_user, year)
    fmt = request.args.get("format", "")
    if fmt == "xlsx":
        return export_response(f"procurement-{year}", *stats.export_rows(data), fmt="xlsx")
    return render_template("procurement/stats.html", data=data, year=year,
                           chart=json.dumps(stats.chart(data), ensure_ascii=False))


@bp.get("/stats/chart.json")
@require(VIEW)
def stats_chart():
    from core.api import parse_int
    year = parse_int(request.args.get("year", ""), "year", min=2000, max=2099,
                     default=today().year)
    resp = make_response(json.dumps(stats.chart(stats.compute(current_user, year)),
                                    ensure_ascii=False))
    resp.headers["Content-Type"] = "application/json"
    return resp

