"""Online filing (网上申报) by the applicant, limited per connection."""
from __future__ import annotations

import datetime as dt

from core.api import Department, _, db, hit, record, today
from plugins.eservice.cases import file_case
from plugins.eservice.errors import RateLimited, ServiceError
from plugins.eservice.models import Case, Item

APPLY_LIMIT = 5


APPLY_WINDOW_MINUTES = 10


def item_open_for_application(code: str, on: dt.date | None = None) -> Item | None:
    """The item version in force and already effective on ``on`` (today), or None."""
    day = on or today()
    return (Item.select(Item, Department).join(Department)
            .where((Item.code == code) & (Item.status == "active")
                   & (Item.effective_from <= day)
                   & (Item.effective_to.is_null(True) | (Item.effective_to > day)))
            .first())


def _count_application(client: str) -> int:
    """Count this application against the client's window; return the count."""
    return hit("eservice.apply", f"ip:{client}", APPLY_WINDOW_MINUTES * 60)


def file_online(item: Item, *, applicant_name: str, id_number: str, phone: str = "",
                received: list[int] | None = None, client: str) -> Case:
    """File a case (网上申报) submitted by the applicant online: the same filing as at the
    window, channel ``online``, no acting user. At most APPLY_LIMIT accepted applications per
    client address in each window of APPLY_WINDOW_MINUTES (the core's rate counters); above
    it RateLimited."""
    if item.status != "active" or item.effective_from > today():
        raise ServiceError(_("The item %(c)s is not in force.", c=item.code), "item")
    limited = False
    with db.atomic() as txn:
        if _count_application(client) > APPLY_LIMIT:
            txn.rollback()
            limited = True
        else:
            case = file_case(item, applicant_name=applicant_name, id_number=id_number,
                             phone=phone, channel="online", received=received, user=None)
    if limited:
        with db.atomic():
            record("eservice.apply.limited", object_type="eservice_item", object_id=item.id,
                   summary=item.code, region_id=item.region_id, success=False)
        raise RateLimited(_("Too many applications from your connection: at most %(n)d in "
                            "%(m)d minutes. Please wait and try again.",
                            n=APPLY_LIMIT, m=APPLY_WINDOW_MINUTES))
    return case
