"""cases' part of the access matrix (tests/core/test_access_matrix.py)."""
from __future__ import annotations

import datetime as dt

from tests.core.test_access_matrix import SECRET


def build(rec) -> None:
    """A county-A web report with a file and a message, its lead and its case with a
    document and a member, and the supervision office's report-back of a quarter."""
    from core.api import store_file
    from plugins.cases.models import (
        Attachment,
        Case,
        Document,
        Item,
        Lead,
        Member,
        Message,
        ReportBack,
    )
    region = rec["region"]
    item = Item.create(region=region, year=2026, number="锦江纪信〔2026〕9999号", channel="web",
                       anonymous=False, reporter_name=f"{SECRET}举报人",
                       subject_name=f"{SECRET}被反映人", subject_hash="0" * 64,
                       subject_region=region, category="integrity",
                       text=f"{SECRET}举报内容", received_on=dt.date(2026, 9, 21),
                       receipt_hash="1" * 64)
    stored = store_file(f"{SECRET}附件".encode(), purpose="cases.attachment",
                        filename="a.txt", allowed_types={"txt"}, max_bytes=1024)
    att = Attachment.create(item=item, file=stored)
    Message.create(item=item, author="office", text=f"{SECRET}问询")
    lead = Lead.create(region=region, year=2026, number="锦江纪线〔2026〕9999号", item=item,
                       subject_name=f"{SECRET}被反映人", subject_hash="0" * 64,
                       summary=f"{SECRET}线索", status="proposed", way="verify")
    case = Case.create(region=region, year=2026, number="锦江纪案〔2026〕9999号", lead=lead,
                       stage="investigation", stage_started_on=dt.date(2026, 9, 21),
                       stage_due=dt.date(2027, 3, 1))
    doc_file = store_file(f"{SECRET}报告".encode(), purpose="cases.document",
                          filename="r.txt", allowed_types={"txt"}, max_bytes=1024)
    doc = Document.create(case=case, stage="verify", kind="verify_report",
                          title=f"{SECRET}初核报告", file=doc_file)
    member = Member.create(case=case, user=rec["user"], role="investigator")
    report = ReportBack.create(region=region, office="supervision", period="2026-Q3",
                               due_on=dt.date(2026, 10, 20), filed_on=dt.date(2026, 10, 19),
                               note=f"{SECRET}回告")
    rec.update(cs_report_back=report, cs_item=item, cs_attachment=att, cs_lead=lead, cs_case=case, cs_doc=doc,
               cs_member=member)


A_RECORDS = {
    "item_id": lambda r: [r["cs_item"].id],
    "att_id": lambda r: [r["cs_attachment"].id],
    "lead_id": lambda r: [r["cs_lead"].id],
    "case_id": lambda r: [r["cs_case"].id],
    "doc_id": lambda r: [r["cs_doc"].id],
    "member_id": lambda r: [r["cs_member"].id],
}
# region_id (the core's county A) also fills /cases/report-back/<region_id>
EXPECTED_PREFIXES = ("/cases/items/", "/cases/leads/", "/cases/cases/", "/cases/report-back/")
# endpoint -> (URL arguments, form data) of a valid city-wide submission
CITY_WIDE_FORMS = {
    "cases.stage_settings_save": lambda r: ({"stage": "verify"}, {
        "verify-days": "50", "verify-extension_days": "20", "verify-gate": "verify_report"}),
}
