"""Staff pages of case supervision: the ledgers (台账) of the offices, registering an item,
an item with its routing, feedback and messages."""
from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user
from jinja2_fragments.flask import render_block

from core.api import (
    FieldError,
    Region,
    User,
    _,
    covers_city,
    file_response,
    has_permission,
    paginate,
    record_view,
    regions_in_scope,
    require,
    today,
)
from plugins.cases import (
    access,
    casework,
    clocks,
    intake,
    leads,
    portal,
    stage_settings,
)
from plugins.cases.forms import (
    AdvanceForm,
    AnswerForm,
    DecideForm,
    DocumentForm,
    FeedbackForm,
    ItemForm,
    MemberForm,
    MessageForm,
    ProposeForm,
    ReasonForm,
    ReportBackForm,
    RouteForm,
    StageSettingForm,
)
from plugins.cases.models import (
    Attachment,
    Case,
    Document,
    Item,
    Lead,
    Member,
    StageLog,
)
from plugins.cases.vocab import (
    CATEGORIES,
    CHANNELS,
    DOCUMENTS,
    ITEM_STATES,
    LEAD_STATES,
    OFFICE_PERMISSION,
    OFFICES,
    OUTCOMES,
    RANKS,
    STAGES,
    WAYS,
    label,
)

bp = Blueprint("cases", __name__, url_prefix="/cases", template_folder="templates",
               static_folder="static", static_url_path="/static/cases")
VIEW = "cases.view"


@bp.app_context_processor
def _vocabulary():
    return {"cs_label": label, "cs_channels": CHANNELS, "cs_categories": CATEGORIES,
            "cs_states": ITEM_STATES, "cs_offices": OFFICES, "cs_ranks": RANKS,
            "cs_clock_label": clocks.label, "cs_ways": WAYS, "cs_stages": STAGES,
            "cs_documents": DOCUMENTS, "cs_outcomes": OUTCOMES, "cs_lead_states": LEAD_STATES}


def _listing(template: str, ctx: dict):
    """A list page, or only its results for an HTMX request (filters, paging)."""
    if request.headers.get("HX-Request") == "true":
        return render_block(template, "results", **ctx)
    return render_template(template, **ctx)


def _offices() -> list[str]:
    return [code for code in ("petition", "supervision", "management")
            if has_permission(current_user, OFFICE_PERMISSION[code])]


# -- ledgers --------------------------------------------------------------------------------
@bp.get("/", endpoint="ledger")
@require(VIEW)
def ledger_page():
    """The ledger (台账) of one office, item by item, filterable by region, state and
    channel."""
    offices = _offices()
    office = request.args.get("office", "")
    if office not in offices:
        office = offices[0] if offices else ""
    if not office:
        return render_template("cases/ledger.html", page=None, offices=offices,
                               office="", regions=[], filters={})
    query = intake.ledger(current_user, office)
    regions = regions_in_scope(current_user, OFFICE_PERMISSION[office])
    filters = {k: request.args.get(k, "") for k in ("region", "status", "channel")}
    if filters["region"].isdigit():
        query = query.where(Item.region == int(filters["region"]))
    if filters["status"] in ITEM_STATES:
        query = query.where(Item.status == filters["status"])
    if filters["channel"] in CHANNELS:
        query = query.where(Item.channel == filters["channel"])
    page = paginate(query, {"received": Item.received_on, "number": Item.id}, "received",
                    target="cs-ledger")
    open_clocks: dict[str, list] = {}
    for c in clocks.open_clocks([i.number for i in page.items]):
        open_clocks.setdefault(c.ref, []).append(c)
    ctx = {"page": page, "offices": offices, "office": office, "regions": regions,
           "filters": filters, "clocks": open_clocks, "today": today(),
           "days_left": clocks.days_left}
    return _listing("cases/ledger.html", ctx)


@bp.route("/items/new", methods=["GET", "POST"])
@require("cases.intake")
def item_new():
    """Register a letter, a visit, a 12388 call or a transferred item (登记)."""
    regions = regions_in_scope(current_user, "cases.intake")
    all_regions = list(Region.select().order_by(Region.sort, Region.id))
    form = ItemForm(regions=regions)
    form.subject_region.choices = [(r.id, r.name) for r in all_regions]
    if request.method == "GET":
        form.received_on.data = today()
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate():
            region = next((r for r in regions if r.id == form.region.data), None)
            try:
                if region is None:
                    raise FieldError("region", _("Choose a region."))
                item = intake.register_by_staff(current_user, region, form.data_dict())
            except FieldError as exc:
                form.apply_error(exc)
            else:
                return redirect(url_for("cases.item", item_id=item.id), 303)
    return render_template("cases/item_new.html", form=form), status


def _item_or_404(item_id: int) -> Item:
    item = intake.get_item(current_user, item_id)
    if item is None:
        abort(404)
    return item


def _item_page(item: Item, *, route_form=None, feedback_form=None, message_form=None,
               status: int = 200, error: str | None = None):
    record_view("cases_item", item.id, item.number, region_id=item.region_id)
    identity = intake.can_read_identity(current_user, item)
    related = list(intake.items_for(current_user).where(
        (Item.subject_hash == item.subject_hash) & (Item.id != item.id))
        .order_by(Item.id))
    route_form = route_form or RouteForm(formdata=None, decision=intake.jurisdiction(item))
    feedback_form = feedback_form or FeedbackForm(formdata=None, on=today())
    message_form = message_form or MessageForm(formdata=None)
    ctx = {"item": item, "identity": identity, "related": related,
           "route_form": route_form, "feedback_form": feedback_form,
           "message_form": message_form, "expected": intake.jurisdiction(item),
           "route_label": intake.route_label,
           "clocks": clocks.open_clocks([item.number], done=True),
           "days_left": clocks.days_left, "can_route": has_permission(
               current_user, "cases.intake", item.region_id),
           "messages": list(item.messages.order_by(portal.Message.id)),
           "attachments": list(item.attachments.order_by(Attachment.id)),
           "feedback": list(item.feedback.order_by(intake.Feedback.id)), "error": error,
           "can_take_up": item.status == "accepted" and has_permission(
               current_user, "cases.supervise", item.region_id),
           "leads": list(item.leads)}
    return render_template("cases/item.html", **ctx), status


@bp.get("/items/<int:item_id>")
@require(VIEW)
def item(item_id: int):
    """An item: what it says, the reporter (for the petitions office), its routing,
    clocks, feedback, messages and files; every view is audited."""
    return _item_page(_item_or_404(item_id))


@bp.post("/items/<int:item_id>/route")
@require("cases.intake")
def item_route(item_id: int):
    item = _item_or_404(item_id)
    form = RouteForm()
    if form.validate():
        try:
            intake.route(current_user, item, form.decision.data, form.note.data)
        except FieldError as exc:
            form.apply_error(exc)
        else:
            return redirect(url_for("cases.item", item_id=item.id), 303)
    return _item_page(item, route_form=form, status=422)


@bp.post("/items/<int:item_id>/feedback")
@require(VIEW)
def item_feedback(item_id: int):
    item = _item_or_404(item_id)
    form = FeedbackForm()
    if form.validate():
        try:
            intake.record_feedback(current_user, item, form.kind.data, form.text.data,
                                   form.on.data)
        except FieldError as exc:
            form.apply_error(exc)
        else:
            return redirect(url_for("cases.item", item_id=item.id) + "#feedback", 303)
    return _item_page(item, feedback_form=form, status=422)


@bp.post("/items/<int:item_id>/messages")
@require(VIEW)
def item_message(item_id: int):
    """The office writes to the reporter of a web report (read through the receipt
    code)."""
    item = _item_or_404(item_id)
    form = MessageForm()
    if form.validate():
        try:
            portal.office_message(current_user, item, form.text.data)
        except FieldError as exc:
            form.apply_error(exc)
        else:
            return redirect(url_for("cases.item", item_id=item.id) + "#messages", 303)
    return _item_page(item, message_form=form, status=422)


@bp.get("/items/<int:item_id>/files/<int:att_id>")
@require(VIEW)
def item_file(item_id: int, att_id: int):
    item = _item_or_404(item_id)
    att = Attachment.get_or_none((Attachment.id == att_id) & (Attachment.item == item.id))
    if att is None:
        abort(404)
    return file_response(att.file, user=current_user)


# -- problem leads --------------------------------------------------------------------------
@bp.post("/items/<int:item_id>/lead")
@require("cases.supervise")
def item_lead(item_id: int):
    """The supervision and inspection office takes an accepted item up as a lead."""
    item = _item_or_404(item_id)
    try:
        lead = leads.take_up(current_user, item)
    except FieldError as exc:
        return _item_page(item, status=422, error=exc.message)
    return redirect(url_for("cases.lead", lead_id=lead.id), 303)


@bp.get("/leads", endpoint="leads")
@require(VIEW)
def lead_list():
    """The problem leads within the user's need to know: case management's regions, the
    leads one handles or approved, those waiting for one's approval."""
    query = access.leads_for(current_user)
    status = request.args.get("status", "")
    if status in LEAD_STATES:
        query = query.where(Lead.status == status)
    page = paginate(query, {"number": Lead.id, "created": Lead.created_at}, "number",
                    target="cs-leads")
    ctx = {"page": page, "status": status, "states": LEAD_STATES}
    return _listing("cases/leads.html", ctx)


def _open_or_404(model, row_id: int, may_open):
    """The row, when the user's need to know covers it; else 404 (its existence is not
    revealed either)."""
    row = model.get_or_none(model.id == row_id)
    if row is None or not may_open(current_user, row):
        abort(404)
    return row


def _lead_or_404(lead_id: int) -> Lead:
    return _open_or_404(Lead, lead_id, access.can_open_lead)


def _lead_page(lead: Lead, *, forms=None, status: int = 200):
    record_view("cases_lead", lead.id, lead.number, region_id=lead.region_id)
    roles = access.member_roles(current_user, lead=lead)
    forms = forms or {}
    ctx = {"lead": lead, "roles": roles,
           "may_decide": lead.status == "proposed" and lead.proposed_by_id != current_user.id
           and access.may_approve(current_user, lead.region_id, lead.subject_rank),
           "propose_form": forms.get("propose") or ProposeForm(formdata=None),
           "decide_form": forms.get("decide") or DecideForm(formdata=None),
           "answer_form": forms.get("answer") or AnswerForm(formdata=None, on=today()),
           "reopen_form": forms.get("reopen") or ReasonForm(formdata=None),
           "clocks": clocks.open_clocks([lead.number], done=True),
           "days_left": clocks.days_left, "error": forms.get("error"),
           "members": list(lead.members.order_by(Member.id)),
           "cases": list(lead.cases)}
    return render_template("cases/lead.html", **ctx), status


@bp.get("/leads/<int:lead_id>")
@require(VIEW)
def lead(lead_id: int):
    return _lead_page(_lead_or_404(lead_id))


def _lead_action(lead_id: int, form_cls, key: str, act):
    lead = _lead_or_404(lead_id)
    form = form_cls()
    if form.validate():
        try:
            act(lead, form)
        except FieldError as exc:
            form.apply_error(exc)
        else:
            return redirect(url_for("cases.lead", lead_id=lead.id), 303)
    return _lead_page(lead, forms={key: form}, status=422)


@bp.post("/leads/<int:lead_id>/propose")
@require("cases.supervise")
def lead_propose(lead_id: int):
    return _lead_action(lead_id, ProposeForm, "propose", lambda lead, f: leads.propose(
        current_user, lead, f.way.data, f.reason.data, f.meeting_ref.data))


@bp.post("/leads/<int:lead_id>/decide")
@require("cases.approve")
def lead_decide(lead_id: int):
    return _lead_action(lead_id, DecideForm, "decide", lambda lead, f: leads.decide(
        current_user, lead, f.approve.data == "yes", f.note.data))


@bp.post("/leads/<int:lead_id>/answer")
@require("cases.supervise")
def lead_answer(lead_id: int):
    return _lead_action(lead_id, AnswerForm, "answer", lambda lead, f: leads.record_answer(
        current_user, lead, f.on.data))


@bp.post("/leads/<int:lead_id>/reopen")
@require(VIEW)
def lead_reopen(lead_id: int):
    return _lead_action(lead_id, ReasonForm, "reopen", lambda lead, f: leads.reopen(
        current_user, lead, f.reason.data))


# -- cases ----------------------------------------------------------------------------------
@bp.get("/cases", endpoint="cases")
@require(VIEW)
def case_list():
    """The cases within the user's need to know, with their stage and its time limit."""
    query = access.cases_for(current_user)
    stage = request.args.get("stage", "")
    if stage in STAGES:
        query = query.where(Case.stage == stage)
    page = paginate(query, {"number": Case.id, "due": Case.stage_due}, "number",
                    target="cs-cases")
    ctx = {"page": page, "stage": stage, "stages": STAGES, "today": today()}
    return _listing("cases/cases.html", ctx)


def _case_or_404(case_id: int) -> Case:
    return _open_or_404(Case, case_id, access.can_open_case)


def _case_page(case: Case, *, forms=None, status: int = 200):
    record_view("cases_case", case.id, case.number, region_id=case.region_id)
    forms = forms or {}
    ctx = {"case": case, "lead": case.lead, "stage": stage_settings.effective(case.stage),
           "roles": access.member_roles(current_user, case=case),
           "missing": [casework.missing_label(m) for m in casework.missing(case)]
           if case.status == "open" else [],
           "documents": list(case.documents.order_by(Document.id)),
           "log": list(case.stage_log.order_by(StageLog.id)),
           "members": list(case.members.order_by(Member.id)),
           "clock": clocks.clock_of("stage", case.number), "days_left": clocks.days_left,
           "document_form": forms.get("document") or DocumentForm(formdata=None),
           "advance_form": forms.get("advance") or AdvanceForm(formdata=None),
           "reason_form": forms.get("reason") or ReasonForm(formdata=None),
           "member_form": forms.get("member") or MemberForm(formdata=None),
           "may_approve": access.may_approve(current_user, case.region_id,
                                             case.lead.subject_rank),
           "manages": has_permission(current_user, "cases.manage", case.region_id),
           "error": forms.get("error")}
    return render_template("cases/case.html", **ctx), status


@bp.get("/cases/<int:case_id>")
@require(VIEW)
def case(case_id: int):
    """A case: its stage with the time limit and the gate's missing items, documents,
    stage log and team. Every view is audited."""
    return _case_page(_case_or_404(case_id))


def _case_action(case_id: int, form_cls, key: str, act, anchor: str = ""):
    case = _case_or_404(case_id)
    form = form_cls()
    if form.validate():
        try:
            act(case, form)
        except FieldError as exc:
            form.apply_error(exc)
        else:
            return redirect(url_for("cases.case", case_id=case.id) + anchor, 303)
    return _case_page(case, forms={key: form}, status=422)


@bp.post("/cases/<int:case_id>/documents")
@require(VIEW)
def case_document(case_id: int):
    return _case_action(case_id, DocumentForm, "document", lambda case, f: casework
                        .add_document(current_user, case, f.kind.data, f.title.data,
                                      request.files.get("file")), "#documents")


@bp.get("/cases/<int:case_id>/documents/<int:doc_id>")
@require(VIEW)
def case_document_file(case_id: int, doc_id: int):
    case = _case_or_404(case_id)
    doc = Document.get_or_none((Document.id == doc_id) & (Document.case == case.id))
    if doc is None or doc.file is None:
        abort(404)
    record_view("cases_document", doc.id, f"{case.number} {doc.kind}",
                region_id=case.region_id)
    return file_response(doc.file, user=current_user)


@bp.post("/cases/<int:case_id>/advance")
@require("cases.approve")
def case_advance(case_id: int):
    return _case_action(case_id, AdvanceForm, "advance", lambda case, f: casework.advance(
        current_user, case, f.note.data, f.outcome.data or ""))


@bp.post("/cases/<int:case_id>/suspend")
@require("cases.investigate")
def case_suspend(case_id: int):
    return _case_action(case_id, ReasonForm, "reason", lambda case, f: casework.suspend(
        current_user, case, f.reason.data))


@bp.post("/cases/<int:case_id>/resume")
@require("cases.investigate")
def case_resume(case_id: int):
    case = _case_or_404(case_id)
    try:
        casework.resume(current_user, case)
    except FieldError as exc:
        return _case_page(case, forms={"error": exc.message}, status=422)
    return redirect(url_for("cases.case", case_id=case.id), 303)


@bp.post("/cases/<int:case_id>/extend")
@require("cases.approve")
def case_extend(case_id: int):
    return _case_action(case_id, ReasonForm, "reason", lambda case, f: casework.extend(
        current_user, case, f.reason.data))


def _user_named(username: str) -> User:
    user = User.get_or_none(User.username == username)
    if user is None:
        raise FieldError("username", _("No such user."))
    return user


@bp.post("/cases/<int:case_id>/members")
@require(VIEW)
def case_member(case_id: int):
    def act(case, f):
        member = _user_named(f.username.data)
        if f.role.data == "granted":
            casework.grant(current_user, case, member, f.reason.data)
        else:
            casework.assign(current_user, case, member, f.role.data, f.reason.data)
    return _case_action(case_id, MemberForm, "member", act, "#team")


@bp.post("/cases/<int:case_id>/members/<int:member_id>/revoke")
@require("cases.manage")
def case_revoke(case_id: int, member_id: int):
    def act(case, f):
        row = Member.get_or_none((Member.id == member_id) & (Member.case == case.id))
        if row is None:
            abort(404)
        casework.revoke(current_user, case, row, f.reason.data)
    return _case_action(case_id, ReasonForm, "reason", act, "#team")


# -- statistics -----------------------------------------------------------------------------
@bp.get("/statistics", endpoint="statistics")
@require(VIEW)
def statistics_page():
    """Aggregate figures per region and period (case management and commission leaders
    only, for the regions their grant covers); ``format=xlsx`` downloads them."""
    import json

    from core.api import export_response
    from plugins.cases import statistics
    regions = statistics.choose_regions(current_user, request.args.get("region"))
    period = statistics.parse_period(request.args.get("period"))
    fmt = request.args.get("format", "")
    if fmt not in ("", "xlsx"):
        raise FieldError("format", _("Choose xlsx or nothing."))
    data = statistics.compute(regions, period)
    if fmt == "xlsx":
        return export_response(f"cases-statistics-{period.code}", [], [], "xlsx",
                               sheets=statistics.sheets(data))
    return render_template("cases/statistics.html", data=data, period=period,
                           all_regions=statistics.stat_regions(current_user),
                           region_arg=request.args.get("region", ""),
                           pct=statistics.pct, clock_kinds=clocks.KINDS,
                           chart=json.dumps(statistics.chart(data), ensure_ascii=False))


# -- quarterly report-back ------------------------------------------------------------------
@bp.get("/report-back", endpoint="report_back")
@require(VIEW)
def report_back_page():
    """Who has and who has not reported back for a quarter (回告): the petitions office and
    case management see every office of their regions, an office its own rows and the
    form to file."""
    from plugins.cases import report_back
    period = report_back.parse_quarter(request.args.get("period"))
    return _report_back_page(period)


def _report_back_page(period, *, errors=None, values=None, status: int = 200):
    from plugins.cases import report_back
    rows = report_back.overview(current_user, period)
    if not report_back.overview_regions(current_user):
        abort(403)
    return render_template("cases/report_back.html", rows=rows, period=period,
                           counts=report_back.counts(rows), quarters=report_back.quarters(),
                           errors=errors or {}, values=values or {}), status


@bp.post("/report-back/<int:region_id>", endpoint="report_back_file")
@require(VIEW)
def report_back_file(region_id: int):
    """An office files its report-back for a region its grant covers (a county's office
    never files for the city, nor for another county)."""
    from plugins.cases import report_back
    from plugins.cases.vocab import REPORT_OFFICES
    region = Region.get_or_none(Region.id == region_id)
    if region is None:
        abort(404)
    if not any(has_permission(current_user, perm, region.id)
               for perm in REPORT_OFFICES.values()):
        abort(403)  # before the form: a region outside one's grant learns nothing of it
    form = ReportBackForm()
    try:
        period = report_back.parse_quarter(form.period.data or None)
    except FieldError:
        period = report_back.previous_quarter(today())
    key = f"{region.id}:{form.office.data}"
    if form.validate():
        try:
            report_back.file(current_user, region, form.office.data, form.period.data,
                             form.note.data)
        except FieldError as exc:
            form.apply_error(exc)
        else:
            return redirect(url_for("cases.report_back", period=period.code), 303)
    return _report_back_page(period, errors={key: form.first_error},
                             values={key: form.note.data or ""}, status=422)


# -- stage settings -------------------------------------------------------------------------
@bp.get("/settings/stages", endpoint="stage_settings")
@require("cases.manage")
def stage_settings_page():
    """This deployment's time limits, extensions and gates of the case stages: case
    management reads them; only a city-wide grant changes them."""
    return _stage_settings_page()


def _stage_settings_page(*, forms=None, status: int = 200):
    stages = stage_settings.all_effective()
    forms = forms or {}
    for code, stage in stages.items():
        forms.setdefault(code, StageSettingForm(formdata=None, data={
            "days": str(stage.days), "extension_days": str(stage.extension_days),
            "gate": list(stage.gate)}, prefix=code))
    return render_template("cases/stage_settings.html", stages=stages, forms=forms,
                           editable=covers_city(current_user, "cases.manage")), status


@bp.post("/settings/stages/<stage>", endpoint="stage_settings_save")
@require("cases.manage", city_wide=True)
def stage_settings_save(stage: str):
    if stage not in STAGES:
        abort(404)
    form = StageSettingForm(prefix=stage)
    if form.validate():
        try:
            stage_settings.save(current_user, stage, form.days.data, form.extension_days.data,
                                form.gate.data)
        except FieldError as exc:
            form.apply_error(exc)
        else:
            return redirect(url_for("cases.stage_settings") + f"#stage-{stage}", 303)
    return _stage_settings_page(forms={stage: form}, status=422)
