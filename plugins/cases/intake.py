"""Intake (信访举报受理), registration (登记) and routing (分办).

Every item is registered with a number per region and year (``锦江纪信〔2026〕7号``); a
repeat — the same person concerned and the same matter — is linked to the first report
and not counted twice; a report about an official managed at this level is accepted and
goes to the supervision and inspection office with a copy to case management, one for a
higher level is sent up and one for a lower level transferred down, each within 5 working
days of receipt (a clock). A named reporter is told of the acceptance within 15 working
days (another clock; not for repeats).

The reporter's identity and contact, the text and the person concerned are encrypted at
rest; only blind indexes are looked up.
"""
from __future__ import annotations

import datetime as dt

from core.api import (
    AccessDenied,
    FieldError,
    Region,
    _,
    blind_index,
    clean_text,
    covers,
    db,
    descendants,
    fold_width,
    format_number,
    has_permission,
    mask_phone,
    next_number,
    normalize_phone,
    publish,
    record,
    region_ids,
    require_level,
    today,
    validate_resident_id,
)
from plugins.cases import clocks
from plugins.cases.models import REPORTER_ID, SUBJECT, Feedback, Item
from plugins.cases.vocab import (
    ACK_DAYS,
    CATEGORIES,
    RANKS,
    RESULT_DAYS,
    ROUTE_DAYS,
    STAFF_CHANNELS,
)

INTAKE, SUPERVISE, MANAGE = "cases.intake", "cases.supervise", "cases.manage"


def region_prefix(region: Region, kind: str) -> str:
    """The issuer's code of a series: the region's name without its 市/区/县 + 纪 + the
    kind (信 items, 线 leads, 案 cases): ``锦江纪信``."""
    name = region.name
    if len(name) > 2 and name[-1] in "市区县":
        name = name[:-1]
    return f"{name}纪{kind}"


def subject_index(name: str, subject_region_id: int) -> str:
    """The blind index of a person concerned: the name without spaces, folded to
    half-width, with the region that manages them."""
    key = "".join(fold_width(name).split())
    return blind_index(f"{key}|{subject_region_id}", SUBJECT)


def _region(value, field: str) -> Region:
    if isinstance(value, Region):
        return value
    try:
        rid = int(value)
    except (TypeError, ValueError):
        raise FieldError(field, _("Choose a region.")) from None
    region = Region.get_or_none(Region.id == rid)
    if region is None:
        raise FieldError(field, _("Choose a region."))
    return region


def clean_report(data: dict, *, staff: bool) -> dict:
    """The checked fields of a report (every bad value a FieldError naming its field)."""
    channel = data.get("channel") or ("letter" if staff else "web")
    if channel not in (STAFF_CHANNELS if staff else ("web",)):
        raise FieldError("channel", _("Choose a channel."))
    category = data.get("category") or ""
    if category not in CATEGORIES:
        raise FieldError("category", _("Choose a category."))
    rank = data.get("subject_rank") or "general"
    if rank not in RANKS:
        raise FieldError("subject_rank", _("Choose a rank."))
    anonymous = bool(data.get("anonymous"))
    out = {
        "channel": channel, "category": category, "subject_rank": rank,
        "anonymous": anonymous,
        "transferred_from": clean_text(data.get("transferred_from"), "transferred_from",
                                       max_length=100,
                                       required=channel == "transferred"),
        "subject_name": clean_text(data.get("subject_name"), "subject_name", max_length=64,
                                   required=True),
        "subject_post": clean_text(data.get("subject_post"), "subject_post",
                                   max_length=120) or None,
        "text": clean_text(data.get("text"), "text", max_length=20000, multiline=True,
                           required=True),
        "reporter_name": None, "reporter_id": None, "reporter_contact": None,
    }
    if not anonymous:
        out["reporter_name"] = clean_text(data.get("reporter_name"), "reporter_name",
                                          max_length=64, required=True)
        contact = clean_text(data.get("reporter_contact"), "reporter_contact", max_length=20)
        out["reporter_contact"] = normalize_phone(contact, "reporter_contact") \
            if contact else None
        number = clean_text(data.get("reporter_id"), "reporter_id", max_length=18, nfkc=True)
        out["reporter_id"] = validate_resident_id(number, "reporter_id") if number else None
        if staff and not out["reporter_contact"]:
            raise FieldError("reporter_contact",
                             _("A named report needs a contact for the feedback."))
    return out


def first_report(subject_hash: str, category: str) -> Item | None:
    """The first registered report about the same person and the same matter."""
    return (Item.select().where((Item.subject_hash == subject_hash)
                                & (Item.category == category) & Item.repeat_of.is_null())
            .order_by(Item.id).first())


def register(region: Region, fields: dict, *, received_on: dt.date, subject_region: Region,
             user=None, receipt_hash: str | None = None,
             source_ref: str | None = None) -> Item:
    """Register an item (登记) in the caller's transaction: its number, the repeat link,
    the routing clock and (named, not a repeat) the acceptance-feedback clock.
    ``source_ref`` names the other platform's event it came from (one item each)."""
    year = received_on.year
    n = next_number("cases.item", region.id, year)
    subject_hash = subject_index(fields["subject_name"], subject_region.id)
    earlier = first_report(subject_hash, fields["category"])
    item = Item.create(
        region=region, year=year, number=format_number(region_prefix(region, "信"), year, n),
        channel=fields["channel"], transferred_from=fields["transferred_from"],
        anonymous=fields["anonymous"], reporter_name=fields["reporter_name"],
        reporter_id=fields["reporter_id"],
        reporter_id_hash=blind_index(fields["reporter_id"], REPORTER_ID)
        if fields["reporter_id"] else None,
        reporter_contact=fields["reporter_contact"], subject_name=fields["subject_name"],
        subject_post=fields["subject_post"], subject_hash=subject_hash,
        subject_region=subject_region, subject_rank=fields["subject_rank"],
        category=fields["category"], text=fields["text"], received_on=received_on,
        repeat_of=earlier.id if earlier else None, receipt_hash=receipt_hash,
        registered_by=user.username if user else "", source_ref=source_ref)
    clocks.start_workdays(region.id, "route", item.number, received_on, ROUTE_DAYS)
    if not item.anonymous and earlier is None:
        clocks.start_workdays(region.id, "ack", item.number, received_on, ACK_DAYS)
    record("cases.item.register", object_type="cases_item", object_id=item.id,
           summary=f"{item.number} {fields['channel']}", region_id=region.id, user=user)
    publish("cases.item.registered", {"number": item.number, "region_code": region.code,
                                      "channel": item.channel,
                                      "repeat": earlier is not None})
    return item


def register_by_staff(user, region: Region, data: dict) -> Item:
    """A letter, visit, phone call (12388) or transferred report entered by the petitions
    office (信访室) of ``region``."""
    require_level(user, INTAKE, region)
    fields = clean_report(data, staff=True)
    received_on = data.get("received_on") or today()
    if not isinstance(received_on, dt.date) or received_on > today():
        raise FieldError("received_on", _("The day of receipt cannot be in the future."))
    subject_region = _region(data.get("subject_region") or region.id, "subject_region")
    with db.atomic():
        return register(region, fields, received_on=received_on,
                        subject_region=subject_region, user=user)


# -- who sees which item --------------------------------------------------------------------
def visible_items(user):
    """The predicate of the items ``user`` may list: the petitions office of their
    regions sees every item; the supervision office those routed to it; case management
    those copied to it (and every other)."""
    cond = None
    for perm, extra in ((INTAKE, None), (MANAGE, None),
                        (SUPERVISE, Item.office == "supervision")):
        ids = region_ids(user, perm)
        if not ids:
            continue
        part = Item.region.in_(sorted(ids))
        if extra is not None:
            part &= extra
        cond = part if cond is None else (cond | part)
    return cond


def items_for(user):
    cond = visible_items(user)
    if cond is None:
        return Item.select().where(Item.id < 0)
    return Item.select().where(cond)


def get_item(user, item_id: int) -> Item | None:
    return items_for(user).where(Item.id == item_id).first()


def ledger(user, office: str, region: Region | None = None):
    """The ledger (台账) of one office: the items it holds, item by item."""
    query = items_for(user)
    if office == "supervision":
        query = query.where(Item.office == "supervision")
    elif office == "management":
        query = query.where(Item.copied_to_management == True)
    if region is not None:
        query = query.where(Item.region == region.id)
    return query


# -- routing (分办) -------------------------------------------------------------------------
def jurisdiction(item: Item) -> str:
    """What the rules ask of this item: ``accept`` (managed at this level), ``send_up``
    (managed above) or ``transfer_down`` (managed below)."""
    if item.subject_region_id == item.region_id:
        return "accept"
    if item.region_id in descendants(item.subject_region_id):
        return "send_up"
    return "transfer_down"


def route(user, item: Item, decision: str, note: str = "") -> Item:
    """Route an item: accept it here (to the supervision and inspection office, a copy to
    case management), send it up to, or transfer it down to, the level that manages the
    person concerned — where it is registered anew as a transferred item."""
    require_level(user, INTAKE, item.region_id)
    if item.status != "registered":
        raise FieldError("decision", _("This item has been routed already."))
    if decision not in ("accept", "send_up", "transfer_down"):
        raise FieldError("decision", _("Choose how to route the item."))
    expected = jurisdiction(item)
    if decision != expected:
        raise FieldError("decision", _("The person concerned is managed by %(region)s: "
                                       "this item must be %(what)s.",
                                       region=item.subject_region.name,
                                       what=route_label(expected)))
    note = clean_text(note, "note", max_length=200)
    day = today()
    with db.atomic():
        item.routed_on, item.route_note = day, note
        if decision == "accept":
            item.status, item.office, item.copied_to_management = \
                "accepted", "supervision", True
        else:
            item.status = "sent_up" if decision == "send_up" else "transferred"
            item.routed_to = item.subject_region_id
            clocks.finish("ack", item.number, day)
        item.save()
        clocks.finish("route", item.number, day)
        record(f"cases.item.{decision}", object_type="cases_item", object_id=item.id,
               summary=f"{item.number} {decision}", region_id=item.region_id, user=user)
        if decision != "accept":
            fields = {"channel": "transferred", "transferred_from": item.region.name,
                      "anonymous": item.anonymous, "reporter_name": item.reporter_name,
                      "reporter_id": item.reporter_id,
                      "reporter_contact": item.reporter_contact,
                      "subject_name": item.subject_name, "subject_post": item.subject_post,
                      "subject_rank": item.subject_rank, "category": item.category,
                      "text": item.text}
            register(item.subject_region, fields, received_on=day,
                     subject_region=item.subject_region, user=user)
    return item


def route_label(decision: str) -> str:
    return {"accept": _("accepted here"), "send_up": _("sent up"),
            "transfer_down": _("transferred down")}[decision]


def record_feedback(user, item: Item, kind: str, text: str, on: dt.date) -> Feedback:
    """What a named reporter was told (acceptance, result) or answered (opinion,
    objection); telling them ends the matching clock."""
    if not (covers(user, INTAKE, item.region_id)
            or (item.office == "supervision" and covers(user, SUPERVISE, item.region_id))):
        raise AccessDenied(_("Only the petitions office records the feedback."))
    if item.anonymous:
        raise FieldError("kind", _("An anonymous reporter cannot be told."))
    if kind not in ("acceptance", "result", "opinion", "objection"):
        raise FieldError("kind", _("Choose what was told or answered."))
    if kind == "acceptance" and item.status == "registered":
        raise FieldError("kind", _("Route the item before telling of its acceptance."))
    if kind == "result" and item.status != "closed":
        raise FieldError("kind", _("The result can be told once the item is closed."))
    text = clean_text(text, "text", max_length=2000, multiline=True, required=True)
    if on > today():
        raise FieldError("on", _("The day cannot be in the future."))
    with db.atomic():
        row = Feedback.create(item=item, kind=kind, text=text, on=on,
                              recorded_by=user.username)
        if kind == "acceptance":
            clocks.finish("ack", item.number, on)
        elif kind == "result":
            clocks.finish("result", item.number, on)
        record(f"cases.feedback.{kind}", object_type="cases_item", object_id=item.id,
               summary=f"{item.number} {kind}", region_id=item.region_id, user=user)
    return row


def close_item(item: Item, day: dt.date, user=None) -> None:
    """An item's handling finished: a named reporter is owed the result in 15 working
    days."""
    item.status = "closed"
    item.save()
    if not item.anonymous:
        clocks.start_workdays(item.region_id, "result", item.number, day, RESULT_DAYS)
    record("cases.item.close", object_type="cases_item", object_id=item.id,
           summary=item.number, region_id=item.region_id, user=user)


def can_read_identity(user, item: Item) -> bool:
    return has_permission(user, INTAKE, item.region_id)


def masked_contact(item: Item) -> str:
    return mask_phone(item.reporter_contact) if item.reporter_contact else ""
