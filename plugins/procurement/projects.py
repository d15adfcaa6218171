"""The purchaser channel (采购人通道): plans, projects, announcements, the evaluation
committee, scores and the award. Services take the acting user and check that the user's
grant covers the project's region; every write is audited and, for a project, recorded as
one OCDS release in the same transaction."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from werkzeug.exceptions import NotFound

from core.api import (
    Department,
    FieldError,
    Region,
    _,
    clean_text,
    db,
    has_permission,
    local_day,
    next_number,
    record,
    require_level,
    today,
    utcnow,
)
from plugins.procurement import clocks, ocds, periods
from plugins.procurement.methods import (
    ANNOUNCEMENT_KINDS,
    CATEGORIES,
    LARGE_BUDGET,
    METHODS,
    OPEN_TENDER_THRESHOLD,
    OPENING_NOTICE,
)
from plugins.procurement.models import (
    Announcement,
    Award,
    Bid,
    CommitteeMember,
    Contract,
    Plan,
    PlanItem,
    Project,
    Supplier,
)
from plugins.procurement.notices import body as announcement_body
from plugins.procurement.notices import title as notice_title

PURCHASE = "procurement.purchase"
VIEW = "procurement.view"
MONEY_MAX = Decimal("99999999999999.99")


def require(user, perm: str, region_id: int) -> None:
    """403 unless ``user``'s grant for ``perm`` covers the region (its own or above)."""
    require_level(user, perm, region_id)


def get_project(user, project_id: int, perm: str = VIEW) -> Project:
    """The project, if the user's grant covers its region (else 404, hiding it)."""
    project = Project.get_or_none(Project.id == project_id)
    if project is None or not has_permission(user, perm, project.region_id):
        raise NotFound()
    return project


def _money(value, field: str) -> Decimal:
    if not isinstance(value, Decimal) or value <= 0 or value > MONEY_MAX:
        raise FieldError(field, _("Expected an amount above 0 yuan."))
    return value


# -- plans ------------------------------------------------------------------------------
def create_plan(user, department: Department, *, year: int, title: str, category: str,
                budget: Decimal, method: str, method_reason: str = "", approval_ref: str = "",
                expected_month: str = "", items: list[dict]) -> Plan:
    """File a plan line (采购计划/意向) for a buying unit. Methods other than open
    tendering need a reason; at or above the open-tendering threshold they also need the
    finance department's approval number (政府采购法第二十七条)."""
    require(user, PURCHASE, department.region_id)
    title = clean_text(title, "title", max_length=200, required=True)
    if category not in CATEGORIES:
        raise FieldError("category", _("Choose goods, works or services."))
    if method not in METHODS:
        raise FieldError("method", _("Choose a procurement method."))
    _money(budget, "budget")
    method_reason = clean_text(method_reason, "method_reason", max_length=2000, multiline=True)
    approval_ref = clean_text(approval_ref, "approval_ref", max_length=100)
    m = METHODS[method]
    if m.needs_reason and not method_reason:
        raise FieldError("method_reason", _("%(method)s needs its reason (%(basis)s).",
                                            method=m.label, basis=m.basis))
    if (method != "open_tender" and method != "auction"
            and budget >= OPEN_TENDER_THRESHOLD[category] and not approval_ref):
        raise FieldError("approval_ref", _(
            "At or above the open-tendering threshold (%(t)s yuan) another method needs "
            "the finance department's approval before the purchase starts (政府采购法第二十七条): "
            "give its number.", t=OPEN_TENDER_THRESHOLD[category]))
    if not items:
        raise FieldError("items", _("A plan needs at least one item."))
    clean_items = []
    for n, item in enumerate(items, start=1):
        desc = clean_text(item.get("description", ""), f"items-{n}-description",
                          max_length=200, required=True)
        code = clean_text(item.get("classification", ""), f"items-{n}-classification",
                          max_length=16, nfkc=True, required=True).upper()
        if not code[:1].isalpha() or not code[1:].isdigit():
            raise FieldError(f"items-{n}-classification", _(
                "A code of the government procurement catalogue (政府采购品目分类目录), "
                "such as A02010104."))
        qty = item.get("quantity") or Decimal(1)
        unit = clean_text(item.get("unit", ""), f"items-{n}-unit", max_length=16)
        clean_items.append({"description": desc, "classification": code, "quantity": qty,
                            "unit": unit})
    with db.atomic():
        plan = Plan.create(region=department.region_id, department=department, year=year,
                           title=title, category=category, budget=budget, method=method,
                           method_reason=method_reason, approval_ref=approval_ref,
                           expected_month=expected_month, status="filed",
                           created_by=user.username)
        PlanItem.insert_many([dict(i, plan=plan.id) for i in clean_items]).execute()
        record("procurement.plan.file", object_type="procurement_plan", object_id=plan.id,
               region_id=plan.region_id, user=user,
               summary=f"plan {title}: {budget} yuan by {method}",
               changes={"budget": [None, str(budget)], "method": [None, method]})
    return plan


def create_project(user, plan: Plan, *, ceiling: Decimal, title: str = "",
                   description: str = "", agency: str = "",
                   single_source_supplier: Supplier | None = None,
                   original_contract: Contract | None = None) -> Project:
    """Open the project (采购项目) of a plan, with its ceiling price (最高限价) — at most
    the budget — and its ocid; its first release is tagged ``planning``."""
    require(user, PURCHASE, plan.region_id)
    _money(ceiling, "ceiling")
    if ceiling > plan.budget:
        raise FieldError("ceiling", _("The ceiling price may not exceed the budget "
                                      "(%(b)s yuan).", b=plan.budget))
    title = clean_text(title or plan.title, "title", max_length=200, required=True)
    description = clean_text(description, "description", max_length=4000, multiline=True)
    agency = clean_text(agency, "agency", max_length=200)
    if plan.method == "single_source" and single_source_supplier is None:
        raise FieldError("supplier", _("Name the single supplier."))
    if original_contract is not None and plan.method != "single_source":
        raise FieldError("original_contract", _("Only a single-source purchase adds to an "
                                                "earlier contract."))
    first = PlanItem.select().where(PlanItem.plan == plan.id).order_by(PlanItem.id).first()
    region = Region.get_by_id(plan.region_id)
    year = today().year
    with db.atomic():
        n = next_number("procurement.project", region, year)
        number = f"CG-{region.code}-{year}-{n:04d}"
        project = Project.create(
            region=plan.region_id, department=plan.department_id, plan=plan, number=number,
            ocid=f"{ocds.prefix()}-{number}", title=title, description=description,
            category=plan.category, classification=first.classification if first else "",
            method=plan.method, method_reason=plan.method_reason,
            approval_ref=plan.approval_ref, budget=plan.budget, ceiling=ceiling,
            agency=agency, single_source_supplier=single_source_supplier,
            original_contract_id=original_contract.id if original_contract else None,
            created_by=user.username)
        Plan.update(status="used").where(Plan.id == plan.id).execute()
        record("procurement.project.create", object_type="procurement_project",
               object_id=project.id, region_id=project.region_id, user=user,
               summary=f"project {number} ({plan.method}), ceiling {ceiling} yuan")
        ocds.write_release(project, "planning")
    return Project.get_by_id(project.id)


# -- announcements --------------------------------------------------------------------------
def publish(user, project: Project, kind: str, *, title: str = "", extra_text: str = "",
            issued_at: dt.datetime | None = None, deadline: dt.datetime | None = None,
            new_deadline: dt.datetime | None = None, affects_bids: bool = False,
            custodians: list | None = None) -> Announcement:
    """Publish a notice of ``kind`` for ``project``: the opening notice of the method (with
    its bid period checked and its sealed-bid key made), a correction (its period checked,
    the deadline postponed where the law asks), a termination, an intention or the
    single-source publicity. Results and contracts are published by the award and
    contract services."""
    require(user, PURCHASE, project.region_id)
    spec = ANNOUNCEMENT_KINDS.get(kind)
    if spec is None or kind in ("result", "contract", "acceptance", "complaint_decision",
                                "inspection", "agency_review"):
        raise FieldError("kind", _("This notice is published by its own step."))
    extra_text = clean_text(extra_text, "extra_text", max_length=4000, multiline=True)
    title = clean_text(title, "title", max_length=200) or notice_title(kind, project)
    now = utcnow()
    tag = spec.tag
    with db.atomic():
        project = Project.select().where(Project.id == project.id).for_update().get() \
            if _locks() else Project.get_by_id(project.id)
        if kind in ("tender", "competitive", "prequalification"):
            _open_bidding(user, project, kind, issued_at or now, deadline, custodians)
            if project.method == "auction":
                tag = "tender"
        elif kind == "correction":
            if project.status != "tendering":
                raise FieldError("kind", _("Only a project taking bids can be corrected."))
            if affects_bids:
                held = periods.check_amendment(project.method, now, project.deadline,
                                               new_deadline)
                if held != project.deadline:
                    _move_deadline(user, project, held)
            elif new_deadline is not None:
                if new_deadline < project.deadline:
                    raise FieldError("new_deadline", _("A correction may postpone the "
                                                       "deadline, never bring it forward."))
                _move_deadline(user, project, new_deadline)
        elif kind == "termination":
            if project.status in ("contracted", "complete", "cancelled"):
                raise FieldError("kind", _("This project can no longer be terminated."))
            if not extra_text:
                raise FieldError("extra_text", _("Give the reason for the termination."))
            Project.update(status="cancelled").where(Project.id == project.id).execute()
        elif kind == "intention":
            if project.status != "planning":
                raise FieldError("kind", _("The intention is published before the bidding."))
        elif kind == "single_source" and (project.method != "single_source"
                                          or project.status != "planning"):
            raise FieldError("kind", _("Only a single-source project in planning is "
                                       "publicised."))
        project = Project.get_by_id(project.id)
        body = announcement_body(kind, project, text=extra_text)
        notice = Announcement.create(region=project.region_id, project=project, kind=kind,
                                     title=title, body=body, published_at=now,
                                     published_by=user.username, affects_bids=affects_bids)
        record("procurement.notice.publish", object_type="procurement_announcement",
               object_id=notice.id, region_id=project.region_id, user=user,
               summary=f"{project.number}: {kind} notice")
        ocds.write_release(project, tag)
    return notice


def _locks() -> bool:
    from core.api import is_postgres
    return is_postgres()


def _open_bidding(user, project: Project, kind: str, issued_at: dt.datetime,
                  deadline: dt.datetime | None, custodians: list | None) -> None:
    from plugins.procurement import bidding
    if project.status != "planning":
        raise FieldError("kind", _("The bidding of this project is already open."))
    if OPENING_NOTICE.get(project.method) != kind and kind != "prequalification":
        raise FieldError("kind", _("%(method)s opens with another notice.",
                                   method=METHODS[project.method].label))
    if project.method == "auction":
        from plugins.procurement.models import Auction
        if not Auction.select().where(Auction.project == project.id).exists():
            raise FieldError("kind", _("Schedule the auction first."))
        Project.update(status="auction", docs_issued_at=issued_at).where(
            Project.id == project.id).execute()
        return
    if deadline is None:
        raise FieldError("deadline", _("Give the bid deadline (the opening time)."))
    if deadline <= utcnow():
        raise FieldError("deadline", _("The deadline must lie in the future."))
    periods.check_bid_period(project.method, issued_at, deadline)
    seal = bidding.make_seal(user, project, deadline, custodians or [])
    Project.update(status="tendering", docs_issued_at=issued_at, deadline=deadline,
                   seal_id=seal.id, opening_state="sealed").where(
        Project.id == project.id).execute()
    bidding.schedule_opening(project.id, deadline)


def _move_deadline(user, project: Project, deadline: dt.datetime) -> None:
    from plugins.procurement import bidding
    bidding.postpone(user, project, deadline)
    Project.update(deadline=deadline).where(Project.id == project.id).execute()
    record("procurement.deadline.postpone", object_type="procurement_project",
           object_id=project.id, region_id=project.region_id, user=user,
           changes={"deadline": [project.deadline.isoformat(), deadline.isoformat()]},
           summary=f"{project.number}: deadline postponed to {deadline}")


# -- evaluation -----------------------------------------------------------------------------
def set_committee(user, project: Project, members: list[dict]) -> list[CommitteeMember]:
    """Record the evaluation committee (评标委员会) or 谈判/磋商/询价小组 and check its
    make-up: an odd number, at least 5 (7 for a budget of 10 million yuan or more) for
    tenders, at least 3 for the other methods, experts at least two thirds, and no staff of
    the purchaser acting as an expert on its own project (87号令第四十七条; 74号令第七条)."""
    require(user, PURCHASE, project.region_id)
    m = METHODS[project.method]
    if m.committee_min == 0:
        raise FieldError("members", _("An online auction has no evaluation committee."))
    rows = []
    for n, member in enumerate(members, start=1):
        name = clean_text(member.get("name", ""), f"members-{n}-name", max_length=64)
        if not name:
            continue
        expert, purchaser = bool(member.get("is_expert")), bool(member.get("from_purchaser"))
        if expert and purchaser:
            raise FieldError(f"members-{n}-name", _(
                "%(name)s works for the purchaser and may not sit as an expert on its own "
                "project.", name=name))
        rows.append({"name": name, "is_expert": expert, "from_purchaser": purchaser})
    size = len(rows)
    minimum = m.committee_min
    basis = "财政部令第87号第四十七条" if minimum >= 5 else "财政部令第74号第七条"
    if minimum >= 5 and project.budget >= LARGE_BUDGET:
        minimum = 7
    if size < minimum or size % 2 == 0:
        raise FieldError("members", _(
            "The committee needs an odd number of members, at least %(n)d (%(basis)s); "
            "it has %(size)d.", n=minimum, basis=basis, size=size))
    experts = sum(1 for r in rows if r["is_expert"])
    if experts * 3 < size * 2:
        raise FieldError("members", _(
            "Experts must be at least two thirds of the committee (%(basis)s): %(e)d of "
            "%(size)d.", basis=basis, e=experts, size=size))
    with db.atomic():
        CommitteeMember.delete().where(CommitteeMember.project == project.id).execute()
        CommitteeMember.insert_many([dict(r, project=project.id) for r in rows]).execute()
        record("procurement.committee.set", object_type="procurement_project",
               object_id=project.id, region_id=project.region_id, user=user,
               summary=f"{project.number}: committee of {size} ({experts} experts)")
    return list(project.committee)


def evaluate(user, project: Project, results: dict[int, dict]) -> None:
    """Record the committee's findings: for each opened bid, disqualified (with a reason)
    or its score; ranks follow the scores (price breaks ties, then time). The evaluation
    report is then handed to the purchaser, whose 5 working days to fix the winner start
    (实施条例第四十三条)."""
    require(user, PURCHASE, project.region_id)
    if project.status != "evaluation":
        raise FieldError("bids", _("Bids are evaluated after the opening."))
    if not CommitteeMember.select().where(CommitteeMember.project == project.id).exists():
        raise FieldError("bids", _("Record the evaluation committee first."))
    bids = {b.id: b for b in Bid.select().where((Bid.project == project.id)
                                                 & Bid.status.in_(("valid", "disqualified")))}
    if not bids:
        raise FieldError("bids", _("No bid was opened."))
    for bid_id, res in results.items():
        if bid_id not in bids:
            raise FieldError("bids", _("Unknown bid %(id)s.", id=bid_id))
        if res.get("disqualified") and not (res.get("reason") or "").strip():
            raise FieldError(f"reason-{bid_id}", _("Give the reason for the "
                                                   "disqualification."))
        score = res.get("score")
        if not res.get("disqualified") and (score is None or not 0 <= score <= 100):
            raise FieldError(f"score-{bid_id}", _("A score from 0 to 100."))
    with db.atomic():
        for bid_id, res in results.items():
            dq = bool(res.get("disqualified"))
            Bid.update(status="disqualified" if dq else "valid",
                       disqualify_reason=clean_text(res.get("reason", ""), f"reason-{bid_id}",
                                                    max_length=200) if dq else "",
                       score=None if dq else res.get("score"), rank=None) \
                .where(Bid.id == bid_id).execute()
        valid = list(Bid.select().where((Bid.project == project.id) & (Bid.status == "valid")))
        by_price = project.method in ("inquiry",)
        valid.sort(key=lambda b: ((b.price if by_price else -(b.score or 0)), b.price or 0,
                                  b.submitted_at))
        for rank, bid in enumerate(valid, start=1):
            Bid.update(rank=rank).where(Bid.id == bid.id).execute()
        now = utcnow()
        Project.update(report_at=now).where(Project.id == project.id).execute()
        clocks.start(project, "winner", f"project:{project.id}", local_day(now))
        record("procurement.evaluation.report", object_type="procurement_project",
               object_id=project.id, region_id=project.region_id, user=user,
               summary=f"{project.number}: {len(valid)} valid of {len(bids)} bids, "
                       "report handed over")
        ocds.write_release(Project.get_by_id(project.id), "tenderUpdate")


def fix_winner(user, project: Project, bid: Bid | None = None) -> Award:
    """The purchaser fixes the winner (确定中标人): the first-ranked valid bid unless the
    purchaser names another ranked bid; for a single-source purchase, its supplier after
    the publicity period. Starts the 2-working-day clock of the result announcement."""
    require(user, PURCHASE, project.region_id)
    now = utcnow()
    if project.method == "single_source":
        publicity = (Announcement.select().where((Announcement.project == project.id)
                                                 & (Announcement.kind == "single_source"))
                     .order_by(Announcement.published_at).first())
        if publicity is None:
            raise FieldError("supplier", _("Publicise the single-source purchase first "
                                           "(单一来源采购公示)."))
        periods.check_single_source_publicity(publicity.published_at, now)
        supplier, amount = project.single_source_supplier, project.ceiling
    else:
        if project.status != "evaluation" or project.report_at is None:
            raise FieldError("bid", _("The winner is fixed after the evaluation report."))
        ranked = list(Bid.select().where((Bid.project == project.id) & (Bid.status == "valid")
                                         & Bid.rank.is_null(False)).order_by(Bid.rank))
        if not ranked:
            raise FieldError("bid", _("No valid bid: terminate the project instead."))
        chosen = bid or ranked[0]
        if chosen.id not in {b.id for b in ranked}:
            raise FieldError("bid", _("Choose one of the ranked valid bids."))
        if chosen.id != ranked[0].id:
            raise FieldError("bid", _("The winner follows the committee's order "
                                      "(实施条例第四十三条): the first-ranked bid wins."))
        supplier, amount = chosen.supplier, chosen.price
        bid = chosen
    with db.atomic():
        award = Award.create(project=project, supplier=supplier, bid=bid, amount=amount,
                             status="active", fixed_at=now)
        Project.update(status="awarded", winner_fixed_at=now).where(
            Project.id == project.id).execute()
        clocks.finish(f"project:{project.id}", "winner", local_day(now))
        clocks.start(project, "result", f"project:{project.id}", local_day(now))
        record("procurement.award.fix", object_type="procurement_award", object_id=award.id,
               region_id=project.region_id, user=user,
               summary=f"{project.number}: winner {supplier.name}, {amount} yuan")
        ocds.write_release(Project.get_by_id(project.id), "award")
    return award


def announce_result(user, project: Project, *, extra_text: str = "") -> Announcement:
    """Issue the award notice (中标通知书) and publish the result (中标结果公告) together;
    starts the 30-day clock of signing the contract (政府采购法第四十六条)."""
    require(user, PURCHASE, project.region_id)
    award = Award.get_or_none((Award.project == project.id) & (Award.status == "active"))
    if award is None or project.status != "awarded":
        raise FieldError("kind", _("Fix the winner first."))
    if project.result_announced_at is not None:
        raise FieldError("kind", _("The result is already published."))
    extra_text = clean_text(extra_text, "extra_text", max_length=4000, multiline=True)
    now = utcnow()
    with db.atomic():
        Award.update(notice_at=now).where(Award.id == award.id).execute()
        Project.update(award_notice_at=now, result_announced_at=now).where(
            Project.id == project.id).execute()
        project = Project.get_by_id(project.id)
        notice = Announcement.create(
            region=project.region_id, project=project, kind="result",
            title=notice_title("result", project),
            body=announcement_body("result", project, award=Award.get_by_id(award.id),
                                   text=extra_text),
            published_at=now, published_by=user.username)
        clocks.finish(f"project:{project.id}", "result", local_day(now))
        clocks.start(project, "contract_sign", f"award:{award.id}", local_day(now))
        record("procurement.award.announce", object_type="procurement_announcement",
               object_id=notice.id, region_id=project.region_id, user=user,
               summary=f"{project.number}: award notice and result published")
        ocds.write_release(project, "awardUpdate")
    return notice


def fail(user, project: Project, reason: str) -> None:
    """The bidding failed (废标: too few bids, or none valid): the project ends unsuccessful
    and a termination notice is published."""
    require(user, PURCHASE, project.region_id)
    reason = clean_text(reason, "reason", max_length=2000, multiline=True, required=True)
    if project.status not in ("evaluation", "opening", "tendering"):
        raise FieldError("reason", _("Only a project in its bidding can fail."))
    now = utcnow()
    with db.atomic():
        Project.update(status="unsuccessful").where(Project.id == project.id).execute()
        project = Project.get_by_id(project.id)
        Announcement.create(region=project.region_id, project=project, kind="termination",
                            title=notice_title("termination", project),
                            body=announcement_body("termination", project, text=reason),
                            published_at=now, published_by=user.username)
        record("procurement.project.fail", object_type="procurement_project",
               object_id=project.id, region_id=project.region_id, user=user,
               summary=f"{project.number}: failed: {reason[:100]}")
        ocds.write_release(project, "tenderCancellation")
