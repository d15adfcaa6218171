"""Online filing (网上申报) by the applicant, limited per connection."""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

from core.api import (
    Department,
    FieldError,
    RateLimited,
    _,
    add_workdays,
    db,
    hit,
    record,
    regions_off,
    store_file,
    today,
)
from plugins.eservice import lookup
from plugins.eservice.cases import file_case, transition
from plugins.eservice.models import Case, CaseEvent, CaseMaterial, Item

APPLY_LIMIT = 5
APPLY_WINDOW_MINUTES = 10
MATERIAL_TYPES = frozenset({"pdf", "ofd", "jpeg", "png"})
MATERIAL_MAX_BYTES = 10 * 1024 * 1024
PLUGIN = "eservice"
# 行政处罚 and 行政强制 are measures the administration takes, not services applied for:
# their items are published in the guide but offer no online application.
NOT_APPLIED_FOR = frozenset({"CF", "QZ"})


def hall_open(region_id: int) -> bool:
    """The service hall runs in this region: the plugin is not switched off for it (or
    an ancestor). Public pages and APIs ask this of the region of what they show."""
    return region_id not in regions_off(PLUGIN)


def closed_regions() -> frozenset[int]:
    """The regions whose public service pages are off (the plugin switched off there)."""
    return regions_off(PLUGIN)


def applied_for_online(item: Item) -> bool:
    """Whether the item takes applications online: not a penalty or enforcement item."""
    return item.type not in NOT_APPLIED_FOR


def item_open_for_application(code: str, on: dt.date | None = None) -> Item | None:
    """The item version in force and already effective on ``on`` (today) that takes
    applications online in a region where the hall runs, or None."""
    day = on or today()
    item = (Item.select(Item, Department).join(Department)
            .where((Item.code == code) & (Item.status == "active")
                   & (Item.effective_from <= day)
                   & (Item.effective_to.is_null(True) | (Item.effective_to > day)))
            .first())
    if item is None or not applied_for_online(item) or not hall_open(item.region_id):
        return None
    return item


def _count_application(client: str) -> int:
    """Count this application against the client's window; return the count."""
    return hit("eservice.apply", f"ip:{client}", APPLY_WINDOW_MINUTES * 60)


def file_online(item: Item, *, applicant_name: str, id_number: str, phone: str = "",
                received: list[int] | None = None, client: str,
                uploads: dict[int, Any] | None = None) -> Case:
    """File a case (网上申报) submitted by the applicant online: the same filing as at the
    window, channel ``online``, no acting user. At most APPLY_LIMIT accepted applications per
    client address in each window of APPLY_WINDOW_MINUTES (the core's rate counters); above
    it RateLimited.

    ``uploads`` maps an item material's id to the file the applicant sent for it (a
    Werkzeug FileStorage): PDF, OFD, JPEG or PNG up to MATERIAL_MAX_BYTES, stored encrypted
    with the case, or the whole application is refused naming ``file_<id>``."""
    if item.status != "active" or item.effective_from > today() \
            or not hall_open(item.region_id):
        raise FieldError("item", _("The item %(c)s is not in force.", c=item.code))
    if not applied_for_online(item):
        raise FieldError("item", _("%(type)s items take no application.",
                                   type=str(item.type_label)))
    limited = False
    with db.atomic() as txn:
        if _count_application(client) > APPLY_LIMIT:
            txn.rollback()
            limited = True
        else:
            case = file_case(item, applicant_name=applicant_name, id_number=id_number,
                             phone=phone, channel="online", received=received, user=None,
                             files=_store_uploads(item, uploads or {}))
    if limited:
        with db.atomic():
            record("eservice.apply.limited", object_type="eservice_item", object_id=item.id,
                   summary=item.code, region_id=item.region_id, success=False)
        raise RateLimited(_("Too many applications from your connection: at most %(n)d in "
                            "%(m)d minutes. Please wait and try again.",
                            n=APPLY_LIMIT, m=APPLY_WINDOW_MINUTES), APPLY_WINDOW_MINUTES * 60)
    return case


def _store(upload, field: str):
    """One file of the applicant's, checked by its content (PDF, OFD, JPEG, PNG) and size,
    stored encrypted in the core's file store (outside the web root)."""
    return store_file(upload.stream, purpose="eservice.material",
                      filename=upload.filename or "", allowed_types=MATERIAL_TYPES,
                      max_bytes=MATERIAL_MAX_BYTES, field=field)


def _store_uploads(item: Item, uploads: dict[int, Any]) -> dict:
    """The applicant's files, stored (in the filing's transaction), by material id."""
    known = {m.id for m in item.materials}
    return {material_id: _store(upload, f"file_{material_id}")
            for material_id, upload in uploads.items() if material_id in known}


def missing_listed(case: Case) -> list[str]:
    """The materials the newest supplement request (补正告知) of the case listed."""
    event = (CaseEvent.select().where((CaseEvent.case == case.id)
                                      & (CaseEvent.event == "supplement_requested"))
             .order_by(CaseEvent.at.desc(), CaseEvent.id.desc()).first())
    if event is None or not event.data:
        return []
    listed = json.loads(event.data).get("missing_materials") or []
    return [str(m) for m in listed if str(m).strip()]


def supplement_online(serial: str, id_number: str, uploads: dict[int, Any],
                      client: str) -> Case:
    """The applicant supplements online (网上补正) what the supplement request listed: one
    file for each listed material (``uploads`` keyed by its place in the list), checked
    like the application's, all or nothing. The case is found by serial + ID number like
    the lookup (the same limits, the one answer for every miss); its supplement is then
    received and its clock runs again, as when the applicant brings the papers."""
    case = lookup.find_case(serial, id_number, client)
    if case is None:
        raise lookup.NoMatch(_("No case matches this serial number and ID number."))
    if case.state != "supplement_requested":
        raise FieldError("serial", _("This application is not waiting for a supplement."),
                         status=409)
    listed = missing_listed(case)
    try:
        return _supplement(case, listed, uploads)
    except FieldError as exc:  # a file refused: the page asks again for the listed files
        exc.listed = listed
        raise


def _supplement(case: Case, listed: list[str], uploads: dict[int, Any]) -> Case:
    for index, name in enumerate(listed):
        if index not in uploads:
            raise FieldError(f"file_{index}", _("Upload “%(m)s”: the request lists it.",
                                                m=name))
    with db.atomic():
        names = {m.name: m for m in CaseMaterial.select().where(CaseMaterial.case == case.id)}
        for index, name in enumerate(listed):
            stored = _store(uploads[index], f"file_{index}")
            row = names.get(name) or CaseMaterial(case=case.id, name=name, required=True)
            row.file, row.received = stored.id, True
            row.save()
        record("eservice.case.supplement_online", object_type="eservice_case",
               object_id=case.id, region_id=case.region_id,
               summary=f"{case.serial}: {len(listed)} file(s)")
        return transition(case, "receive_supplement", user=None)


def committed_by(case: Case) -> dt.date | None:
    """The committed completion date the receipt names: the deadline once accepted, else
    the latest it can be (accepted on the last day allowed for acceptance)."""
    if case.deadline is not None:
        return case.deadline
    if case.accept_by is None:
        return None
    return add_workdays(case.accept_by, case.item.committed_days)
