"""Need-to-know access (知悉范围): who may open a problem lead or a case.

A lead's or a case's content is readable only by its active members (handler, approvers
in its chain, investigators, reviewers, and those granted access with a reason) and by
case management (案件监督管理室) of its region; an approver of the right level may open a
lead waiting for their approval. The system, security and audit administrators hold none
of these permissions and read nothing. Every opening is an audit event."""
from __future__ import annotations

from core.api import AccessDenied, _, covers, region_ids
from plugins.cases.models import Case, Lead, Member

MANAGE, APPROVE, APPROVE_HEAD = "cases.manage", "cases.approve", "cases.approve_head"


def _active(query):
    return query.where(Member.revoked_at.is_null())


def member_roles(user, *, lead: Lead | None = None, case: Case | None = None) -> set[str]:
    query = _active(Member.select(Member.role).where(Member.user == user.id))
    query = query.where(Member.lead == lead.id) if lead is not None else \
        query.where(Member.case == case.id)
    return {m.role for m in query}


def approval_permission(rank: str) -> str:
    """The approver's level the person concerned requires: a head of a lower-level Party
    committee needs the commission head (委主任)."""
    return APPROVE_HEAD if rank == "head" else APPROVE


def may_approve(user, region_id: int, rank: str) -> bool:
    return covers(user, approval_permission(rank), region_id)


def can_open_lead(user, lead: Lead) -> bool:
    if covers(user, MANAGE, lead.region_id):
        return True
    if member_roles(user, lead=lead):
        return True
    return lead.status == "proposed" and may_approve(user, lead.region_id, lead.subject_rank)


def can_open_case(user, case: Case) -> bool:
    if covers(user, MANAGE, case.region_id):
        return True
    return bool(member_roles(user, case=case))


def require_lead(user, lead: Lead) -> None:
    if not can_open_lead(user, lead):
        raise AccessDenied(_("This lead is outside your need to know."))


def require_case(user, case: Case) -> None:
    if not can_open_case(user, case):
        raise AccessDenied(_("This case is outside your need to know."))


def leads_for(user):
    """The leads ``user`` may list: those of case management's regions, those they are
    a member of, and those waiting for their approval."""
    cond = Lead.id.in_(_active(Member.select(Member.lead).where(
        (Member.user == user.id) & Member.lead.is_null(False))))
    managed = region_ids(user, MANAGE)
    if managed:
        cond |= Lead.region.in_(sorted(managed))
    for perm, ranks in ((APPROVE, ("general", "leader")), (APPROVE_HEAD, ("head",))):
        ids = region_ids(user, perm)
        if ids:
            cond |= (Lead.region.in_(sorted(ids)) & (Lead.status == "proposed")
                     & Lead.subject_rank.in_(ranks))
    return Lead.select().where(cond)


def cases_for(user):
    cond = Case.id.in_(_active(Member.select(Member.case).where(
        (Member.user == user.id) & Member.case.is_null(False))))
    managed = region_ids(user, MANAGE)
    if managed:
        cond |= Case.region.in_(sorted(managed))
    return Case.select().where(cond)
