"""Staff pages of case supervision: the ledgers (台账) of the offices, registering an item,
an item with its routing, feedback and messages."""
from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user
from jinja2_fragments.flask import render_block

from core.api import (
    FieldError,
    Region,
    _,
    file_response,
    has_permission,
    paginate,
    record_view,
    regions_in_scope,
    require,
    today,
)
from plugins.cases import clocks, intake, portal
from plugins.cases.forms import FeedbackForm, ItemForm, MessageForm, RouteForm
from plugins.cases.models import Attachment, Item
from plugins.cases.vocab import (
    CATEGORIES,
    CHANNELS,
    ITEM_STATES,
    OFFICE_PERMISSION,
    OFFICES,
    RANKS,
    label,
)

bp = Blueprint("cases", __name__, url_prefix="/cases", template_folder="templates")
VIEW = "cases.view"


@bp.app_context_processor
def _vocabulary():
    return {"cs_label": label, "cs_channels": CHANNELS, "cs_categories": CATEGORIES,
            "cs_states": ITEM_STATES, "cs_offices": OFFICES, "cs_ranks": RANKS,
            "cs_clock_label": clocks.label}


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
    if request.headers.get("HX-Request") == "true":
        return render_block("cases/ledger.html", "results", **ctx)
    return render_template("cases/ledger.html", **ctx)


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
               status: int = 200):
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
           "feedback": list(item.feedback.order_by(intake.Feedback.id))}
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
