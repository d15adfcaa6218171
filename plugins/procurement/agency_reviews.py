"""The finance department's assessment of a central procurement agency (集中采购机构考核结果
公告, type 13 of 财办库〔2020〕50号): a notice of a region, bound to no project, so with no
OCDS release. Level checked: a county finance grant publishes only for its county."""
from __future__ import annotations

from core.api import (
    FieldError,
    Region,
    _,
    clean_text,
    db,
    record,
    require_level,
    utcnow,
)
from plugins.procurement.models import Announcement
from plugins.procurement.notices import agency_review_body, agency_review_title

FINANCE = "procurement.finance"


def publish_agency_review(user, region_id: int | None, *, agency: str, period: str,
                          result: str) -> Announcement:
    """Publish the assessment result of ``agency`` for ``period`` in the region."""
    region = Region.get_or_none(Region.id == region_id) if region_id else None
    if region is None:
        raise FieldError("region", _("Choose the region."))
    require_level(user, FINANCE, region.id)
    agency = clean_text(agency, "agency", max_length=120, required=True)
    period = clean_text(period, "period", max_length=40, required=True)
    result = clean_text(result, "result", max_length=4000, multiline=True, required=True)
    with db.atomic():
        notice = Announcement.create(
            region=region.id, project=None, kind="agency_review",
            title=agency_review_title(agency, period),
            body=agency_review_body(region, agency=agency, period=period, result=result),
            published_at=utcnow(), published_by=user.username)
        record("procurement.agency_review.publish", object_type="procurement_announcement",
               object_id=notice.id, region_id=region.id, user=user,
               summary=f"{agency} {period}: assessment result published")
    return notice
