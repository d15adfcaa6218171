"""procurement's part of the access matrix (tests/core/test_access_matrix.py)."""
from __future__ import annotations

from decimal import Decimal

from tests.core.test_access_matrix import SECRET


def build(rec) -> None:
    """A county-A plan and project with an opened bid, an award, a contract, a challenge,
    two red flags (open, confirmed) and an agency assessment (a notice of no project)."""
    from core.api import utcnow
    from plugins.procurement.models import (
        Announcement,
        Award,
        Bid,
        Complaint,
        Contract,
        Flag,
        Plan,
        Project,
        Supplier,
    )
    region, dept = rec["region"], rec["department"]
    plan = Plan.create(region=region, department=dept, year=2026, title=f"{SECRET}采购计划",
                       category="goods", budget=Decimal(500000), method="open_tender",
                       status="used")
    project = Project.create(region=region, department=dept, plan=plan,
                             number="CG-MATRIX-0001", ocid="ocds-000000-CG-MATRIX-0001",
                             title=f"{SECRET}采购项目", category="goods", method="open_tender",
                             budget=Decimal(500000), ceiling=Decimal(500000),
                             status="awarded", opening_state="opened", opened_at=utcnow())
    supplier = Supplier.create(user_id=rec["user"].id, name=f"{SECRET}供应商",
                               uscc="91510100MATRIX0001")
    bid = Bid.create(project=project, supplier=supplier, status="valid", sealed=b"",
                     receipt="", price=Decimal(450000))
    award = Award.create(project=project, supplier=supplier, bid=bid, amount=bid.price,
                         notice_at=utcnow())
    contract = Contract.create(project=project, award=award, supplier=supplier,
                               number="HT-MATRIX", amount=bid.price, status="active",
                               accepted_on=utcnow().date(), acceptance_result="passed")
    complaint = Complaint.create(project=project, supplier=supplier, kind="challenge",
                                 filed_on=utcnow().date(), subject=f"{SECRET}质疑",
                                 reply_due=utcnow().date())
    flag = Flag.create(region=region, project=project, code="R018", subject="process",
                       subject_id=project.id, dedupe_key="matrix:R018",
                       detail='{"tenderers": 1}')
    # a confirmed flag: its inspection result (POST /procurement/flags/<id>/inspection)
    confirmed = Flag.create(region=region, project=project, code="R024", subject="process",
                            subject_id=project.id, dedupe_key="matrix:R024",
                            state="confirmed", note=f"{SECRET}核实")
    Announcement.create(region=region, project=None, kind="agency_review",
                        title=f"{SECRET}集中采购机构考核结果公告", body=f"{SECRET}考核结果")
    rec.update(pc_plan=plan, pc_project=project, pc_bid=bid, pc_contract=contract,
               pc_complaint=complaint, pc_flag=flag, pc_flag_confirmed=confirmed)


A_RECORDS = {
    "plan_id": lambda r: [r["pc_plan"].id],
    "project_id": lambda r: [r["pc_project"].id],
    "bid_id": lambda r: [r["pc_bid"].id],
    "contract_id": lambda r: [r["pc_contract"].id],
    "complaint_id": lambda r: [r["pc_complaint"].id],
    "flag_id": lambda r: [r["pc_flag"].id, r["pc_flag_confirmed"].id],
}
EXPECTED_PREFIXES = ("/procurement/projects/", "/procurement/plans/",
                     "/procurement/contracts/", "/procurement/flags/",
                     "/procurement/complaints/", "/supplier/tenders/")
