"""Problem leads (问题线索) and their four ways of disposal (四种处置方式).

The supervision and inspection office takes an accepted item up as a lead; case
management holds every lead centrally (no one keeps, holds back or leaks one). The
handler proposes one way — 谈话函询, 初步核实, 暂存待查, 予以了结 — with its reason and the
record of the collective decision (集体研究); an approver of the level the person
concerned requires approves it (for a head of a lower-level Party committee, the
commission head), never the proposer. Then:

* 谈话函询: the written answer is due within 15 working days (a clock);
* 初步核实: a case opens at its first stage (``casework.open_case``);
* 暂存待查: the lead comes back for review after ``REVIEW_MONTHS`` months (a clock);
* 予以了结: the lead and its item are closed (a named reporter is owed the result).
"""
from __future__ import annotations

import calendar
import datetime as dt

from core.api import (
    AccessDenied,
    FieldError,
    _,
    add_workdays,
    clean_text,
    covers,
    db,
    format_number,
    next_number,
    publish,
    record,
    today,
    utcnow,
)
from plugins.cases import access, clocks, intake
from plugins.cases.models import Item, Lead, Member
from plugins.cases.vocab import ANSWER_DAYS, REVIEW_MONTHS, WAYS

SUPERVISE = "cases.supervise"


def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return day.replace(year=year, month=month,
                       day=min(day.day, calendar.monthrange(year, month)[1]))


def take_up(user, item: Item) -> Lead:
    """The supervision and inspection office takes an accepted item up as a lead; its
    repeats are linked to the same lead, not counted twice."""
    if not covers(user, SUPERVISE, item.region_id):
        raise AccessDenied(_("Only the supervision and inspection office takes up leads."))
    if item.status != "accepted":
        raise FieldError("item", _("Only an accepted item can become a problem lead."))
    day = today()
    with db.atomic():
        n = next_number("cases.lead", item.region_id, day.year)
        lead = Lead.create(region=item.region_id, year=day.year,
                           number=format_number(intake.region_prefix(item.region, "线"),
                                                day.year, n),
                           item=item, source="item", subject_name=item.subject_name,
                           subject_post=item.subject_post, subject_hash=item.subject_hash,
                           subject_rank=item.subject_rank, summary=item.text, handler=user)
        Member.create(lead=lead, user=user, role="handler", granted_by=user.username,
                      reason=item.number)
        item.status = "lead"
        item.save()
        Item.update(status="lead").where((Item.repeat_of == item.id)
                                         & (Item.status == "accepted")).execute()
        record("cases.lead.register", object_type="cases_lead", object_id=lead.id,
               summary=f"{lead.number} ← {item.number}", region_id=lead.region_id,
               user=user)
        publish("cases.lead.registered", {"number": lead.number,
                                          "region_code": item.region.code,
                                          "source": "item"})
    return lead


def propose(user, lead: Lead, way: str, reason: str, meeting_ref: str) -> Lead:
    """The handler proposes a way of disposal, with its reason and the collective
    decision's record."""
    if "handler" not in access.member_roles(user, lead=lead):
        raise AccessDenied(_("Only the lead's handler proposes its disposal."))
    if lead.status not in ("open",):
        raise FieldError("way", _("This lead has a proposal or a decision already."))
    if way not in WAYS:
        raise FieldError("way", _("Choose one of the four ways of disposal."))
    reason = clean_text(reason, "reason", max_length=2000, multiline=True, required=True)
    meeting_ref = clean_text(meeting_ref, "meeting_ref", max_length=100, required=True)
    with db.atomic():
        lead.way, lead.reason, lead.meeting_ref = way, reason, meeting_ref
        lead.status, lead.proposed_by, lead.proposed_at = "proposed", user.id, utcnow()
        lead.save()
        record("cases.lead.propose", object_type="cases_lead", object_id=lead.id,
               summary=f"{lead.number} {way}", region_id=lead.region_id, user=user)
    return lead


def decide(user, lead: Lead, approve: bool, note: str = ""):
    """Approve (or send back) the proposed disposal, at the level the person concerned
    requires; the approver joins the lead's chain. Returns the case opened by 初步核实,
    else None."""
    if lead.status != "proposed":
        raise FieldError("approve", _("Nothing is waiting for approval on this lead."))
    if not access.may_approve(user, lead.region_id, lead.subject_rank):
        raise AccessDenied(_("The person concerned is a head of a lower-level Party "
                             "committee: the commission head approves.")
                           if lead.subject_rank == "head"
                           else _("You may not approve the disposal of this lead."))
    if lead.proposed_by_id == user.id:
        raise AccessDenied(_("The proposer cannot approve their own proposal."))
    note = clean_text(note, "note", max_length=200)
    day = today()
    opened = None
    with db.atomic():
        Member.create(lead=lead, user=user, role="approver", granted_by=user.username,
                      reason=note)
        if not approve:
            lead.status, lead.way = "open", ""
            lead.save()
            record("cases.lead.send_back", object_type="cases_lead", object_id=lead.id,
                   summary=lead.number, region_id=lead.region_id, user=user)
            return None
        lead.status, lead.decided_by, lead.decided_at = "decided", user.id, utcnow()
        if lead.way == "talk":
            lead.answer_due = add_workdays(day, ANSWER_DAYS)
            clocks.start(lead.region_id, "answer", lead.number, day, lead.answer_due)
        elif lead.way == "shelve":
            lead.review_on = add_months(day, REVIEW_MONTHS)
            clocks.start(lead.region_id, "review", lead.number, day, lead.review_on)
        elif lead.way == "close":
            lead.status = "closed"
        lead.save()
        record("cases.lead.approve", object_type="cases_lead", object_id=lead.id,
               summary=f"{lead.number} {lead.way}", region_id=lead.region_id, user=user)
        if lead.way == "verify":
            from plugins.cases import casework
            opened = casework.open_case(user, lead)
        elif lead.way == "close" and lead.item_id:
            intake.close_item(lead.item, day, user)
    return opened


def record_answer(user, lead: Lead, on: dt.date) -> Lead:
    """The written answer of a talk-or-letter inquiry arrived: its clock ends and the
    handler proposes what follows (予以了结, 初步核实, …)."""
    if "handler" not in access.member_roles(user, lead=lead):
        raise AccessDenied(_("Only the lead's handler records the answer."))
    if lead.way != "talk" or lead.status != "decided":
        raise FieldError("on", _("This lead awaits no written answer."))
    if on > today():
        raise FieldError("on", _("The day cannot be in the future."))
    with db.atomic():
        lead.answered_on, lead.status = on, "open"  # then: a new proposal (了结, 初核…)
        lead.save()
        clocks.finish("answer", lead.number, on)
        record("cases.lead.answer", object_type="cases_lead", object_id=lead.id,
               summary=lead.number, region_id=lead.region_id, user=user)
    return lead


def reopen(user, lead: Lead, reason: str) -> Lead:
    """A lead kept pending (暂存待查) is taken up again — at its review, or when new
    evidence appears — for a new proposal."""
    if "handler" not in access.member_roles(user, lead=lead) and not covers(
            user, access.MANAGE, lead.region_id):
        raise AccessDenied(_("Only the handler or case management reopens a lead."))
    if lead.way != "shelve" or lead.status != "decided":
        raise FieldError("reason", _("Only a lead kept pending can be reopened."))
    reason = clean_text(reason, "reason", max_length=200, required=True)
    with db.atomic():
        lead.status, lead.way = "open", ""
        lead.save()
        clocks.finish("review", lead.number, today())
        record("cases.lead.reopen", object_type="cases_lead", object_id=lead.id,
               summary=f"{lead.number} {reason}", region_id=lead.region_id, user=user)
    return lead
