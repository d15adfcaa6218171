"""eservice's part of the access matrix (tests/core/test_access_matrix.py): county-A
records, the route arguments that name them, and the URLs the walk must reach."""
from __future__ import annotations

import datetime as dt

from tests.core.test_access_matrix import SECRET


def build(rec) -> None:
    """An eservice item, a case filed for it, its bad rating and the rectification."""
    from core.api import db, store_file
    from plugins.eservice import cases, catalogue
    from plugins.eservice.models import (
        CaseMaterial,
        ItemMaterial,
        Rating,
        Rectification,
        StepDelegation,
    )
    from tests.plugins.eservice.conftest import VALID_ID, item_spec
    item = catalogue.create_item(item_spec(rec["department"], name=f"{SECRET}许可"))
    first = item.materials.order_by(ItemMaterial.seq).first()
    with db.atomic():
        upload = store_file(b"%PDF-1.7\n" + SECRET.encode() + b"\n%%EOF", purpose="eservice.material",
                            filename=f"{SECRET}.pdf", allowed_types={"pdf"}, max_bytes=10_000)
    case = cases.file_case(item, applicant_name=f"{SECRET}申请人", id_number=VALID_ID,
                           received=[m.id for m in item.materials if m.required],
                           files={first.id: upload})
    rating = Rating.create(case=case, score=1, comment=f"{SECRET}差评")
    rect = Rectification.create(rating=rating, department=case.department_id,
                                region=case.region_id, due=dt.date(2026, 12, 31))
    delegation = StepDelegation.create(
        post=rec["post"], region=rec["region"], delegator=rec["user"], delegate=rec["user"],
        valid_from=dt.date(2026, 1, 1), valid_until=dt.date(2026, 1, 31),
        reason=f"{SECRET}委托")
    rec.update(es_item=item, es_case=case, es_rect=rect, es_delegation=delegation,
               es_material=case.materials.order_by(CaseMaterial.id).first())


A_RECORDS = {
    "case_id": lambda r: [r["es_case"].id],
    "item_id": lambda r: [r["es_item"].id],
    "rect_id": lambda r: [r["es_rect"].id],
    "material_id": lambda r: [r["es_material"].id],
    "delegation_id": lambda r: [r["es_delegation"].id],
}
EXPECTED_PREFIXES = ("/eservice/cases/", "/eservice/file/", "/eservice/rectifications/",
                     "/eservice/delegations/", "/eservice/hall-contacts/")
