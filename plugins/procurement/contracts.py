"""Contracts and performance (合同备案履约): signing within 30 days of the award notice,
publication within 2 working days and filing with the finance department within 7
working days of signing, amendments, milestones, acceptance (验收) and payments. Each step
stops its clock; each is one release."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from core.api import FieldError, _, clean_text, db, record, today
from plugins.procurement import clocks, ocds
from plugins.procurement.models import (
    Announcement,
    Award,
    Contract,
    ContractChange,
    Project,
)
from plugins.procurement.notices import body as announcement_body
from plugins.procurement.notices import title as notice_title
from plugins.procurement.projects import PURCHASE, require

FINANCE = "procurement.finance"


def _day(value: dt.date, field: str) -> dt.date:
    if value > today():
        raise FieldError(field, _("The day cannot lie in the future."))
    return value


def sign(user, project: Project, *, number: str, amount: Decimal, signed_on: dt.date,
         period_start: dt.date | None = None, period_end: dt.date | None = None) -> Contract:
    """Record the signed contract of the active award."""
    require(user, PURCHASE, project.region_id)
    award = Award.get_or_none((Award.project == project.id) & (Award.status == "active"))
    if award is None or award.notice_at is None:
        raise FieldError("signed_on", _("The contract follows the award notice."))
    if Contract.select().where(Contract.project == project.id).exists():
        raise FieldError("number", _("This project's contract is recorded: amend it "
                                     "instead."))
    number = clean_text(number, "number", max_length=40, nfkc=True, required=True)
    if not isinstance(amount, Decimal) or amount <= 0:
        raise FieldError("amount", _("Expected an amount above 0 yuan."))
    if amount > award.amount:
        raise FieldError("amount", _("The contract may not exceed the awarded amount "
                                     "(%(a)s yuan) without an amendment.", a=award.amount))
    signed_on = _day(signed_on, "signed_on")
    if signed_on < award.notice_at.date():
        raise FieldError("signed_on", _("The contract is signed after the award notice."))
    if period_start and period_end and period_end < period_start:
        raise FieldError("period_end", _("The period ends after it starts."))
    with db.atomic():
        contract = Contract.create(project=project, award=award, supplier=award.supplier_id,
                                   number=number, amount=amount, status="active",
                                   signed_on=signed_on, period_start=period_start,
                                   period_end=period_end)
        clocks.finish(f"award:{award.id}", "contract_sign", signed_on)
        clocks.start(project, "contract_publish", f"contract:{contract.id}", signed_on)
        clocks.start(project, "contract_file", f"contract:{contract.id}", signed_on)
        Project.update(status="contracted").where(Project.id == project.id).execute()
        record("procurement.contract.sign", object_type="procurement_contract",
               object_id=contract.id, region_id=project.region_id, user=user,
               summary=f"{project.number}: contract {number}, {amount} yuan, signed "
                       f"{signed_on}")
        ocds.write_release(Project.get_by_id(project.id), "contract")
    return contract


def publish(user, contract: Contract, on: dt.date | None = None) -> Announcement:
    """Publish the contract (合同公告)."""
    project = Project.get_by_id(contract.project_id)
    require(user, PURCHASE, project.region_id)
    if contract.published_on is not None:
        raise FieldError("published_on", _("The contract is already published."))
    on = _day(on or today(), "published_on")
    with db.atomic():
        Contract.update(published_on=on).where(Contract.id == contract.id).execute()
        notice = Announcement.create(
            region=project.region_id, project=project, kind="contract",
            title=notice_title("contract", project),
            body=announcement_body("contract", project,
                                   contract=Contract.get_by_id(contract.id)),
            published_by=user.username)
        clocks.finish(f"contract:{contract.id}", "contract_publish", on)
        record("procurement.contract.publish", object_type="procurement_contract",
               object_id=contract.id, region_id=project.region_id, user=user,
               summary=f"{project.number}: contract published {on}")
        ocds.write_release(project, "contractUpdate")
    return notice


def file(user, contract: Contract, on: dt.date | None = None) -> Contract:
    """The finance department records the contract's filing (合同备案)."""
    project = Project.get_by_id(contract.project_id)
    require(user, FINANCE, project.region_id)
    if contract.filed_on is not None:
        raise FieldError("filed_on", _("The contract is already filed."))
    on = _day(on or today(), "filed_on")
    with db.atomic():
        Contract.update(filed_on=on).where(Contract.id == contract.id).execute()
        clocks.finish(f"contract:{contract.id}", "contract_file", on)
        record("procurement.contract.file", object_type="procurement_contract",
               object_id=contract.id, region_id=project.region_id, user=user,
               summary=f"{project.number}: contract filed {on}")
        ocds.write_release(project, "contractUpdate")
    return Contract.get_by_id(contract.id)


def add_change(user, contract: Contract, *, kind: str, day: dt.date, title: str,
               amount: Decimal | None = None, due_on: dt.date | None = None,
               done: bool = True, passed: bool | None = None) -> ContractChange:
    """An amendment (补充协议, with its change of amount), a milestone, the acceptance
    (验收, passed or not) or a payment."""
    project = Project.get_by_id(contract.project_id)
    require(user, PURCHASE, project.region_id)
    if kind not in ("amendment", "milestone", "acceptance", "payment"):
        raise FieldError("kind", _("Choose amendment, milestone, acceptance or payment."))
    if contract.status != "active":
        raise FieldError("kind", _("Only an active contract changes."))
    title = clean_text(title, "title", max_length=200, required=True)
    day = _day(day, "day")
    if kind == "payment":
        if not isinstance(amount, Decimal) or amount <= 0:
            raise FieldError("amount", _("Expected an amount above 0 yuan."))
        paid = sum((c.amount for c in contract.changes if c.kind == "payment"), Decimal(0))
        if paid + amount > contract.amount:
            raise FieldError("amount", _("Payments would exceed the contract amount "
                                         "(%(a)s yuan).", a=contract.amount))
    if kind == "amendment" and amount is not None and contract.amount + amount <= 0:
        raise FieldError("amount", _("The amended amount must stay above 0."))
    if kind == "acceptance" and passed is None:
        raise FieldError("passed", _("Say whether the acceptance passed."))
    tag = {"amendment": "contractAmendment"}.get(kind, "implementation")
    with db.atomic():
        change = ContractChange.create(contract=contract, kind=kind, day=day, title=title,
                                       amount=amount, due_on=due_on or day, done=done,
                                       created_by=user.username)
        if kind == "amendment" and amount:
            Contract.update(amount=Contract.amount + amount).where(
                Contract.id == contract.id).execute()
        if kind == "acceptance":
            Contract.update(accepted_on=day, acceptance_result="passed" if passed
                            else "failed").where(Contract.id == contract.id).execute()
            if passed:
                Project.update(status="complete").where(Project.id == project.id).execute()
        record(f"procurement.contract.{kind}", object_type="procurement_contract",
               object_id=contract.id, region_id=project.region_id, user=user,
               summary=f"{project.number}: {kind} {title} {amount or ''}".strip())
        ocds.write_release(Project.get_by_id(project.id), tag)
    return change


def publish_acceptance(user, contract: Contract, *, public_service: bool,
                       text: str = "") -> Announcement:
    """Publish the acceptance result of a public service project (公共服务项目验收结果公告,
    type 9 of 财办库〔2020〕50号): the contract, its supplier, the day and result of its
    recorded acceptance (验收). The law asks it of a service the government provides to
    the public (实施条例第四十五条), which the purchaser confirms (``public_service``).
    Once per recorded acceptance."""
    contract = Contract.get_by_id(contract.id)
    project = Project.get_by_id(contract.project_id)
    require(user, PURCHASE, project.region_id)
    if contract.accepted_on is None:
        raise FieldError("accepted_on", _("No acceptance (验收) of this contract is recorded: "
                                          "record the acceptance first."))
    if not public_service:
        raise FieldError("public_service", _(
            "The acceptance result is published for a public service project "
            "(实施条例第四十五条): confirm that the project provides services to the public."))
    text = clean_text(text, "extra_text", max_length=4000, multiline=True)
    accepted = (ContractChange.select(ContractChange.created_at)
                .where((ContractChange.contract == contract.id)
                       & (ContractChange.kind == "acceptance"))
                .order_by(ContractChange.created_at.desc()).scalar())
    published = Announcement.select().where((Announcement.project == project.id)
                                            & (Announcement.kind == "acceptance"))
    if accepted is not None:
        published = published.where(Announcement.published_at >= accepted)
    if published.exists():
        raise FieldError("accepted_on", _("The result of this acceptance is already "
                                          "published."))
    with db.atomic():
        notice = Announcement.create(
            region=project.region_id, project=project, kind="acceptance",
            title=notice_title("acceptance", project),
            body=announcement_body("acceptance", project, contract=contract, text=text),
            published_by=user.username)
        record("procurement.acceptance.publish", object_type="procurement_announcement",
               object_id=notice.id, region_id=project.region_id, user=user,
               summary=f"{project.number}: acceptance result of contract {contract.number} "
                       f"({contract.acceptance_result} {contract.accepted_on}) published")
        ocds.write_release(project, "implementation")
    return notice
