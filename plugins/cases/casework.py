"""Cases (案件) through their stages: 初步核实 → 立案 → 审查调查 → 案件审理 → 处分/处置, each
with its time limit in working days, suspension and extension where the stage allows
them, and its gate — the documents required before the case may leave it.

Moving on without them is refused naming the missing items, and the attempt is flagged to
case management at once (``cases.gate.irregular``: the 安检门). Investigation and review
are kept apart: nobody on a case's investigation team may review it, and a case cannot
leave investigation without a reviewer. The stage's clock raises yellow and red alerts
through the sweep (``clocks.sweep``).
"""
from __future__ import annotations

from core.api import (
    AccessDenied,
    FieldError,
    User,
    _,
    add_workdays,
    clean_text,
    covers,
    db,
    deployment_language,
    emit,
    format_number,
    has_permission,
    next_number,
    publish,
    record,
    store_file,
    supervision_office,
    today,
    utcnow,
)
from plugins.cases import access, clocks, intake, stage_settings
from plugins.cases.models import Case, Document, Lead, Member, StageLog
from plugins.cases.vocab import DOCUMENTS, OUTCOMES, STAGE_ORDER, STAGES, label

DOC_TYPES = {"pdf", "ofd", "docx", "jpeg", "png"}
DOC_MAX_BYTES = 20 * 1024 * 1024
TEAM_PERMISSION = {"investigator": "cases.investigate", "reviewer": "cases.review"}


def _require_open(case: Case) -> None:
    if case.status != "open":
        raise FieldError("reason", _("The case is closed."))


def _enter(case: Case, stage: str, day, by: str, note: str = "") -> None:
    spec = stage_settings.effective(stage)
    case.stage, case.stage_started_on = stage, day
    case.stage_due = add_workdays(day, spec.days)
    case.suspended_since, case.extended = None, False
    clocks.start(case.region_id, "stage", case.number, day, case.stage_due)
    StageLog.create(case=case, stage=stage, entered_on=day, by=by, note=note)


def open_case(user, lead: Lead) -> Case:
    """初步核实 approved: the case opens at its first stage; the handler joins its
    investigation team."""
    day = today()
    n = next_number("cases.case", lead.region_id, day.year)
    case = Case.create(region=lead.region_id, year=day.year, lead=lead,
                       number=format_number(intake.region_prefix(lead.region, "案"),
                                            day.year, n),
                       stage="verify", stage_started_on=day, stage_due=day)
    _enter(case, "verify", day, user.username)
    case.save()
    if lead.handler_id:
        Member.create(case=case, user=lead.handler_id, role="investigator",
                      granted_by=user.username, reason=lead.number)
    Member.create(case=case, user=user.id, role="approver", granted_by=user.username,
                  reason=lead.number)
    record("cases.case.open", object_type="cases_case", object_id=case.id,
           summary=f"{case.number} ← {lead.number}", region_id=case.region_id, user=user)
    publish("cases.case.opened", {"number": case.number, "lead": lead.number,
                                  "region_code": lead.region.code, "stage": "verify"})
    return case


def _require_team(user, case: Case, roles=("investigator", "reviewer")) -> None:
    if not (access.member_roles(user, case=case) & set(roles)):
        raise AccessDenied(_("Only the case team does this."))


def _require_approver(user, case: Case) -> None:
    """An approver of the level the person concerned requires, in the case's chain (a
    member of the case) or case management's region."""
    if not access.may_approve(user, case.region_id, case.lead.subject_rank):
        raise AccessDenied(_("You may not approve this case's stages."))
    access.require_case(user, case)


def add_document(user, case: Case, kind: str, title: str, upload) -> Document:
    """A document of the current stage (初核报告, 立案决定书, …), its file stored encrypted."""
    access.require_case(user, case)
    _require_team(user, case, ("investigator", "reviewer", "approver"))
    if case.status != "open":
        raise FieldError("kind", _("The case is closed."))
    if kind not in DOCUMENTS:
        raise FieldError("kind", _("Choose the kind of document."))
    title = clean_text(title, "title", max_length=200, required=True)
    with db.atomic():
        stored = store_file(upload.stream if hasattr(upload, "stream") else (upload or b""),
                            purpose="cases.document",
                            filename=getattr(upload, "filename", "") or title,
                            allowed_types=DOC_TYPES, max_bytes=DOC_MAX_BYTES, user=user)
        doc = Document.create(case=case, stage=case.stage, kind=kind, title=title,
                              file=stored, created_by=user.username)
        record("cases.document.add", object_type="cases_case", object_id=case.id,
               summary=f"{case.number} {kind}", region_id=case.region_id, user=user)
    return doc


def missing(case: Case) -> list[str]:
    """What the current stage's gate still lacks: document kinds, and a reviewer before
    a case leaves investigation."""
    have = {d.kind for d in Document.select(Document.kind).where(
        (Document.case == case.id) & (Document.stage == case.stage))}
    out = [k for k in stage_settings.effective(case.stage).gate if k not in have]
    if case.stage == "investigation" and not Member.select().where(
            (Member.case == case.id) & (Member.role == "reviewer")
            & Member.revoked_at.is_null()).exists():
        out.append("reviewer")
    return out


def missing_label(code: str) -> str:
    if code == "reviewer":
        return _("a reviewer assigned (审理)")
    return label(DOCUMENTS, code)


def _flag(case: Case, gaps: list[str], user) -> None:
    """Flag an attempt to pass a gate without its materials to case management."""
    with db.atomic():
        with deployment_language():
            subject = _("%(number)s: attempt to leave the stage %(stage)s without %(items)s",
                        number=case.number, stage=label(STAGES, case.stage),
                        items="、".join(missing_label(g) for g in gaps))
        emit("cases.gate.irregular", case.region, subject,
             target_department=supervision_office(case.region),
             ref=f"cases.case:{case.id}", dedupe_key=f"cases.gate:{case.id}:{case.stage}",
             details={"stage": case.stage, "missing": gaps})
        record("cases.case.gate_refused", object_type="cases_case", object_id=case.id,
               summary=f"{case.number} {case.stage}: {','.join(gaps)}",
               region_id=case.region_id, user=user, success=False)


def advance(user, case: Case, note: str = "", outcome: str = "") -> Case:
    """Leave the current stage for the next, approved at the level the person concerned
    requires. From 初步核实 with an outcome of ``none`` the case is closed (了结); from
    处分/处置 it closes with its outcome (组织处理, 党纪处分, 政务处分, 移送检察机关)."""
    if case.status != "open":
        raise FieldError("note", _("The case is closed."))
    lead = case.lead
    _require_approver(user, case)
    note = clean_text(note, "note", max_length=200)
    closing = case.stage == "decision" or (case.stage == "verify" and outcome == "none")
    if outcome and outcome not in OUTCOMES:
        raise FieldError("outcome", _("Choose an outcome."))
    if case.stage == "decision" and not outcome:
        raise FieldError("outcome", _("The decision stage closes with its outcome."))
    gaps = missing(case)
    if gaps:
        _flag(case, gaps, user)
        raise FieldError("documents", _("The stage %(stage)s cannot be left: missing %(items)s.",
                                        stage=label(STAGES, case.stage),
                                        items="、".join(missing_label(g) for g in gaps)))
    day = today()
    with db.atomic():
        StageLog.update(left_on=day).where((StageLog.case == case.id)
                                           & (StageLog.stage == case.stage)
                                           & StageLog.left_on.is_null()).execute()
        if not Member.select().where((Member.case == case.id) & (Member.user == user.id)
                                     & (Member.role == "approver")).exists():
            Member.create(case=case, user=user.id, role="approver",
                          granted_by=user.username, reason=case.stage)
        if closing:
            clocks.finish("stage", case.number, day)
            case.status, case.outcome, case.closed_on = "closed", outcome, day
            case.save()
            lead.status = "closed"
            lead.save()
            if lead.item_id:
                intake.close_item(lead.item, day, user)
            record("cases.case.close", object_type="cases_case", object_id=case.id,
                   summary=f"{case.number} {outcome}", region_id=case.region_id, user=user)
            publish("cases.case.decided", {
                "number": case.number, "region_code": case.region.code,
                "outcome": outcome, "person": lead.subject_name,
                "post": lead.subject_post or "", "decided_on": day.isoformat()})
        else:
            following = STAGE_ORDER[STAGE_ORDER.index(case.stage) + 1]
            _enter(case, following, day, user.username, note)
            case.save()
            record("cases.case.advance", object_type="cases_case", object_id=case.id,
                   summary=f"{case.number} → {following}", region_id=case.region_id,
                   user=user)
    return case


def suspend(user, case: Case, reason: str) -> Case:
    """Suspend the stage's clock (中止), where the stage allows it."""
    _require_team(user, case, ("investigator",))
    _require_open(case)
    if not STAGES[case.stage].suspendable:
        raise FieldError("reason", _("This stage cannot be suspended."))
    if case.suspended_since is not None:
        raise FieldError("reason", _("The case is suspended already."))
    reason = clean_text(reason, "reason", max_length=200, required=True)
    day = today()
    with db.atomic():
        case.suspended_since = day
        case.save()
        clocks.suspend("stage", case.number, day)
        StageLog.create(case=case, stage=case.stage, entered_on=day, action="suspend",
                        note=reason, by=user.username)
        record("cases.case.suspend", object_type="cases_case", object_id=case.id,
               summary=case.number, region_id=case.region_id, user=user)
    return case


def resume(user, case: Case) -> Case:
    _require_team(user, case, ("investigator",))
    _require_open(case)
    if case.suspended_since is None:
        raise FieldError("reason", _("The case is not suspended."))
    day = today()
    with db.atomic():
        clock = clocks.resume("stage", case.number, day)
        if clock is None:
            raise FieldError("reason", _("This stage has no time limit running."))
        case.suspended_since, case.stage_due = None, clock.due_on
        case.save()
        StageLog.create(case=case, stage=case.stage, entered_on=day, action="resume",
                        by=user.username)
        record("cases.case.resume", object_type="cases_case", object_id=case.id,
               summary=case.number, region_id=case.region_id, user=user)
    return case


def extend(user, case: Case, reason: str) -> Case:
    """Extend the stage's limit once by the days the stage allows, with approval."""
    _require_approver(user, case)
    _require_open(case)
    spec = stage_settings.effective(case.stage)
    if not spec.extension_days:
        raise FieldError("reason", _("This stage cannot be extended."))
    if case.extended:
        raise FieldError("reason", _("This stage has been extended already."))
    reason = clean_text(reason, "reason", max_length=200, required=True)
    with db.atomic():
        clock = clocks.extend("stage", case.number, spec.extension_days)
        if clock is None:
            raise FieldError("reason", _("This stage has no time limit running."))
        case.extended, case.stage_due = True, clock.due_on
        case.save()
        StageLog.create(case=case, stage=case.stage, entered_on=today(), action="extend",
                        note=reason, by=user.username)
        record("cases.case.extend", object_type="cases_case", object_id=case.id,
               summary=f"{case.number} +{spec.extension_days}", region_id=case.region_id,
               user=user)
    return case


def assign(user, case: Case, member: User, role: str, reason: str) -> Member:
    """Case management or an approver assigns an investigator or a reviewer; nobody on
    the investigation team may review the case, nor a reviewer investigate it."""
    if not (covers(user, access.MANAGE, case.region_id)
            or access.may_approve(user, case.region_id, case.lead.subject_rank)):
        raise AccessDenied(_("Only case management or an approver assigns the team."))
    if role not in TEAM_PERMISSION:
        raise FieldError("role", _("Choose investigator or reviewer."))
    if not has_permission(member, TEAM_PERMISSION[role], case.region_id):
        raise FieldError("user", _("This person holds no such role for the case's region."))
    other = "reviewer" if role == "investigator" else "investigator"
    if Member.select().where((Member.case == case.id) & (Member.user == member.id)
                             & (Member.role == other)).exists():
        raise FieldError("user", _("Investigation and review are kept apart: this person "
                                   "is on the other side of the case."))
    reason = clean_text(reason, "reason", max_length=200, required=True)
    with db.atomic():
        row = Member.create(case=case, user=member, role=role, reason=reason,
                            granted_by=user.username)
        record("cases.member.assign", object_type="cases_case", object_id=case.id,
               summary=f"{case.number} {role} {member.username}", region_id=case.region_id,
               user=user)
    return row


def grant(user, case: Case, member: User, reason: str) -> Member:
    """Case management grants someone access to a case's content, with a reason."""
    if not covers(user, access.MANAGE, case.region_id):
        raise AccessDenied(_("Only case management grants access."))
    reason = clean_text(reason, "reason", max_length=200, required=True)
    with db.atomic():
        row = Member.create(case=case, user=member, role="granted", reason=reason,
                            granted_by=user.username)
        record("cases.member.grant", object_type="cases_case", object_id=case.id,
               summary=f"{case.number} {member.username}: {reason}",
               region_id=case.region_id, user=user)
    return row


def revoke(user, case: Case, row: Member, reason: str) -> Member:
    if not covers(user, access.MANAGE, case.region_id):
        raise AccessDenied(_("Only case management revokes access."))
    if row.case_id != case.id or row.revoked_at is not None:
        raise FieldError("reason", _("Nothing to revoke."))
    reason = clean_text(reason, "reason", max_length=200, required=True)
    with db.atomic():
        row.revoked_at, row.revoked_by = utcnow(), user.username
        row.reason = f"{row.reason} / {reason}"[:200]
        row.save()
        record("cases.member.revoke", object_type="cases_case", object_id=case.id,
               summary=f"{case.number} {row.user.username}: {reason}",
               region_id=case.region_id, user=user)
    return row
