"""The service hall's address and contact (办事大厅地址、咨询电话), set per region by an
administrator of that region and named on the receipt of an online application. A
district or county without its own shows the city's: a county grant sets the county's,
never the city's."""
from __future__ import annotations

from core.api import (
    FieldError,
    Region,
    _,
    clean_text,
    db,
    normalize_phone,
    record,
    require_level,
    utcnow,
)
from plugins.eservice.models import HallContact

PERMISSION = "eservice.catalogue.manage"


def contact_for(region_id: int) -> HallContact | None:
    """The contact of the region's hall, else of the nearest region above it that has one."""
    seen = set()
    while region_id is not None and region_id not in seen:
        seen.add(region_id)
        row = HallContact.get_or_none(HallContact.region == region_id)
        if row is not None:
            return row
        region_id = Region.select(Region.parent).where(Region.id == region_id).scalar()
    return None


def set_contact(user, region: Region, *, address: str, phone: str,
                hours: str = "") -> HallContact:
    """Set the hall's address, phone (a mobile number or a landline with its area code)
    and opening hours for ``region``; the user's grant must cover the region itself
    (AccessDenied otherwise). Audited with the changes."""
    require_level(user, PERMISSION, region)
    address = clean_text(address or "", "address", max_length=200).strip()
    if not address:
        raise FieldError("address", _("Give the hall's address."))
    phone = normalize_phone(phone, "phone")
    hours = clean_text(hours or "", "hours", max_length=100).strip()
    with db.atomic():
        row = HallContact.get_or_none(HallContact.region == region.id)
        before = {"address": row.address, "phone": row.phone, "hours": row.hours} \
            if row else {"address": None, "phone": None, "hours": None}
        if row is None:
            row = HallContact(region=region.id)
        row.address, row.phone, row.hours = address, phone, hours
        row.updated_at, row.updated_by = utcnow(), user.id
        row.save()
        after = {"address": address, "phone": phone, "hours": hours}
        record("eservice.hall_contact.set", object_type="eservice_hall_contact",
               object_id=row.id, region_id=region.id, user=user,
               summary=f"{region.name}: {address} {phone}",
               changes={k: [before[k], after[k]] for k in after if before[k] != after[k]})
    return row
