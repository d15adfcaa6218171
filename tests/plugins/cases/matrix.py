"""cases' part of the access matrix (tests/core/test_access_matrix.py)."""
from __future__ import annotations

import datetime as dt

from tests.core.test_access_matrix import SECRET


def build(rec) -> None:
    """A county-A web report with a file and a message."""
    from core.api import store_file
    from plugins.cases.models import Attachment, Item, Message
    region = rec["region"]
    item = Item.create(region=region, year=2026, number="锦纪信〔2026〕9999号", channel="web",
                       anonymous=False, reporter_name=f"{SECRET}举报人",
                       subject_name=f"{SECRET}被反映人", subject_hash="0" * 64,
                       subject_region=region, category="integrity",
                       text=f"{SECRET}举报内容", received_on=dt.date(2026, 9, 21),
                       receipt_hash="1" * 64)
    stored = store_file(f"{SECRET}附件".encode(), purpose="cases.attachment",
                        filename="a.txt", allowed_types={"txt"}, max_bytes=1024)
    att = Attachment.create(item=item, file=stored)
    Message.create(item=item, author="office", text=f"{SECRET}问询")
    rec.update(cs_item=item, cs_attachment=att)


A_RECORDS = {
    "item_id": lambda r: [r["cs_item"].id],
    "att_id": lambda r: [r["cs_attachment"].id],
}
EXPECTED_PREFIXES = ("/cases/items/",)
