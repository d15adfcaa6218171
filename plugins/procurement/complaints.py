"""Challenges (质疑) and complaints (投诉) with their clocks.

A supplier challenges the purchaser within 7 working days of the result (政府采购法第五十二
条); the purchaser replies within 7 working days (第五十三条). A supplier not satisfied, or
not answered, complains to the finance department within 15 working days after the reply
was due (第五十五条), which decides within 30 working days (第五十六条) and publishes its
decision (投诉处理结果公告).
"""
from __future__ import annotations

from core.api import (
    FieldError,
    _,
    add_workdays,
    clean_text,
    db,
    local_day,
    record,
    today,
)
from plugins.procurement import clocks, periods
from plugins.procurement.models import Announcement, Complaint, Project, Supplier
from plugins.procurement.notices import body as announcement_body
from plugins.procurement.notices import title as notice_title
from plugins.procurement.projects import PURCHASE, require

FINANCE = "procurement.finance"


def challenge(supplier: Supplier, project: Project, subject: str) -> Complaint:
    """File a challenge (质疑) against the result, within its window."""
    subject = clean_text(subject, "subject", max_length=4000, multiline=True, required=True)
    if project.result_announced_at is None:
        raise FieldError("subject", _("A challenge concerns a published result."))
    start = local_day(project.result_announced_at)
    day, last = today(), periods.CHALLENGE_WINDOW.earliest_end(start)
    if day > last:
        raise FieldError("subject", _(
            "A challenge is filed within 7 working days of the result (%(basis)s): the last "
            "day was %(last)s.", basis=periods.CHALLENGE_WINDOW.basis, last=last.isoformat()))
    with db.atomic():
        row = Complaint.create(project=project, supplier=supplier, kind="challenge",
                               filed_on=day, subject=subject,
                               reply_due=periods.due("challenge_reply", day))
        clocks.start(project, "challenge_reply", f"complaint:{row.id}", day)
        record("procurement.challenge.file", object_type="procurement_complaint",
               object_id=row.id, region_id=project.region_id,
               summary=f"{project.number}: challenge by supplier {supplier.id}")
    return row


def reply(user, row: Complaint, text: str, upheld: bool) -> Complaint:
    """The purchaser's reply to a challenge, or the finance department's decision on a
    complaint (published as 投诉处理结果公告)."""
    project = Project.get_by_id(row.project_id)
    require(user, PURCHASE if row.kind == "challenge" else FINANCE, project.region_id)
    text = clean_text(text, "reply", max_length=4000, multiline=True, required=True)
    if row.replied_on is not None:
        raise FieldError("reply", _("Already answered."))
    day = today()
    kind = "challenge_reply" if row.kind == "challenge" else "complaint_decision"
    with db.atomic():
        Complaint.update(replied_on=day, reply=text, upheld=upheld).where(
            Complaint.id == row.id).execute()
        clocks.finish(f"complaint:{row.id}", kind, day)
        if row.kind == "complaint":
            Announcement.create(
                region=project.region_id, project=project, kind="complaint_decision",
                title=notice_title("complaint_decision", project),
                body=announcement_body("complaint_decision", project, text=text,
                                       upheld=upheld),
                published_by=user.username)
        record(f"procurement.{row.kind}.answer", object_type="procurement_complaint",
               object_id=row.id, region_id=project.region_id, user=user,
               summary=f"{project.number}: {row.kind} answered, "
                       + ("upheld" if upheld else "rejected"))
    return Complaint.get_by_id(row.id)


def complain(supplier: Supplier, challenge_row: Complaint, subject: str) -> Complaint:
    """Complain (投诉) to the finance department after a challenge, within 15 working days
    after its reply was due."""
    subject = clean_text(subject, "subject", max_length=4000, multiline=True, required=True)
    if challenge_row.kind != "challenge" or challenge_row.supplier_id != supplier.id:
        raise FieldError("subject", _("A complaint follows your own challenge."))
    day = today()
    last = add_workdays(challenge_row.reply_due, periods.COMPLAINT_WINDOW.days)
    if day > last:
        raise FieldError("subject", _(
            "A complaint is filed within 15 working days after the reply was due "
            "(%(basis)s): the last day was %(last)s.", basis=periods.COMPLAINT_WINDOW.basis,
            last=last.isoformat()))
    project = Project.get_by_id(challenge_row.project_id)
    with db.atomic():
        row = Complaint.create(project=project, supplier=supplier, kind="complaint",
                               challenge=challenge_row, filed_on=day, subject=subject,
                               reply_due=periods.due("complaint_decision", day))
        clocks.start(project, "complaint_decision", f"complaint:{row.id}", day)
        record("procurement.complaint.file", object_type="procurement_complaint",
               object_id=row.id, region_id=project.region_id,
               summary=f"{project.number}: complaint by supplier {supplier.id}")
    return row
