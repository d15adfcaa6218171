"""Procurement (政府采购) tables: plans, projects, announcements, suppliers, sealed bids,
reverse auctions, awards, contracts, complaints, clocks, OCDS releases and red flags.

Every table is prefixed ``procurement_``. Money is in yuan (CNY) with two decimals.
"""
from __future__ import annotations

import peewee as pw

from core.api import BaseModel, Department, Region, utcnow

MONEY = {"max_digits": 16, "decimal_places": 2}


class Plan(BaseModel):
    """A buying unit's procurement plan line (采购计划), with its intention (采购意向):
    budget, items, the method chosen and, where the law asks, its reason and approval."""

    region = pw.ForeignKeyField(Region, on_delete="RESTRICT")
    department = pw.ForeignKeyField(Department, on_delete="RESTRICT")
    year = pw.SmallIntegerField()
    title = pw.CharField(max_length=200)
    category = pw.CharField(max_length=16)  # goods | works | services
    budget = pw.DecimalField(**MONEY)
    method = pw.CharField(max_length=16)
    method_reason = pw.TextField(default="")
    approval_ref = pw.CharField(max_length=100, default="")
    expected_month = pw.CharField(max_length=7, default="")
    status = pw.CharField(max_length=16, default="draft")  # draft | filed | used
    created_by = pw.CharField(max_length=64, default="")
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "procurement_plan"
        indexes = ((("region", "year"), False),)


class PlanItem(BaseModel):
    """One item of a plan, classified by the 政府采购品目分类目录 code."""

    plan = pw.ForeignKeyField(Plan, backref="items", on_delete="CASCADE")
    description = pw.CharField(max_length=200)
    classification = pw.CharField(max_length=16)
    quantity = pw.DecimalField(max_digits=14, decimal_places=2, default=1)
    unit = pw.CharField(max_length=16, default="")

    class Meta:
        table_name = "procurement_plan_item"


class Supplier(BaseModel):
    """A supplier (供应商) registered with its unified social credit code (统一社会信用代码)
    and its own account (kind ``supplier``)."""

    user_id = pw.IntegerField(unique=True)
    name = pw.CharField(max_length=200)
    uscc = pw.CharField(max_length=18, unique=True)
    contact = pw.CharField(max_length=64, default="")
    phone = pw.CharField(max_length=20, default="")
    email = pw.CharField(max_length=120, default="")
    address = pw.CharField(max_length=200, default="")
    active = pw.BooleanField(default=True)
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "procurement_supplier"


class Project(BaseModel):
    """A procurement project (采购项目): one OCDS contracting process (``ocid``)."""

    region = pw.ForeignKeyField(Region, on_delete="RESTRICT")
    department = pw.ForeignKeyField(Department, on_delete="RESTRICT")
    plan = pw.ForeignKeyField(Plan, null=True, backref="projects", on_delete="SET NULL")
    number = pw.CharField(max_length=40, unique=True)
    ocid = pw.CharField(max_length=80, unique=True)
    title = pw.CharField(max_length=200)
    description = pw.TextField(default="")
    category = pw.CharField(max_length=16)
    classification = pw.CharField(max_length=16, default="")
    method = pw.CharField(max_length=16)
    method_reason = pw.TextField(default="")
    approval_ref = pw.CharField(max_length=100, default="")
    budget = pw.DecimalField(**MONEY)
    ceiling = pw.DecimalField(**MONEY)
    agency = pw.CharField(max_length=200, default="")
    status = pw.CharField(max_length=16, default="planning")
    docs_issued_at = pw.DateTimeField(null=True)
    deadline = pw.DateTimeField(null=True)
    seal_id = pw.IntegerField(null=True)
    opening_state = pw.CharField(max_length=12, default="")  # sealed | opening | opened
    opened_at = pw.DateTimeField(null=True)
    single_source_supplier = pw.ForeignKeyField(Supplier, null=True, on_delete="RESTRICT")
    original_contract_id = pw.IntegerField(null=True)  # 单一来源 add-on: the contract added to
    report_at = pw.DateTimeField(null=True)
    winner_fixed_at = pw.DateTimeField(null=True)
    award_notice_at = pw.DateTimeField(null=True)
    result_announced_at = pw.DateTimeField(null=True)
    release_seq = pw.IntegerField(default=0)
    created_by = pw.CharField(max_length=64, default="")
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "procurement_project"
        indexes = ((("region", "status"), False), (("status", "deadline"), False),
                   (("department", "created_at"), False))


class CommitteeMember(BaseModel):
    """A member of the evaluation committee (评标委员会) or 谈判/磋商/询价小组."""

    project = pw.ForeignKeyField(Project, backref="committee", on_delete="CASCADE")
    name = pw.CharField(max_length=64)
    is_expert = pw.BooleanField(default=True)
    from_purchaser = pw.BooleanField(default=False)

    class Meta:
        table_name = "procurement_committee_member"


class Announcement(BaseModel):
    """A notice (公告) of one of the 13 types of 财办库〔2020〕50号, published on the
    public pages."""

    region = pw.ForeignKeyField(Region, on_delete="RESTRICT")
    project = pw.ForeignKeyField(Project, null=True, backref="announcements",
                                 on_delete="CASCADE")
    kind = pw.CharField(max_length=24)
    title = pw.CharField(max_length=200)
    body = pw.TextField()
    published_at = pw.DateTimeField(default=utcnow)
    published_by = pw.CharField(max_length=64, default="")
    affects_bids = pw.BooleanField(default=False)

    class Meta:
        table_name = "procurement_announcement"
        indexes = ((("kind", "published_at"), False), (("region", "published_at"), False))


class Bid(BaseModel):
    """A bid (投标): sealed until the opening; its price known only after it."""

    project = pw.ForeignKeyField(Project, backref="bids", on_delete="CASCADE")
    supplier = pw.ForeignKeyField(Supplier, backref="bids", on_delete="RESTRICT")
    status = pw.CharField(max_length=16, default="sealed")
    submitted_at = pw.DateTimeField(default=utcnow)
    sealed = pw.BlobField()
    receipt = pw.CharField(max_length=64)
    price = pw.DecimalField(null=True, **MONEY)
    disqualify_reason = pw.CharField(max_length=200, default="")
    score = pw.DecimalField(max_digits=6, decimal_places=2, null=True)
    rank = pw.SmallIntegerField(null=True)

    class Meta:
        table_name = "procurement_bid"
        indexes = ((("project", "status"), False), (("supplier", "project"), False),
                   (("supplier", "status"), False))  # R038 per tenderer: index-only


class BidFile(BaseModel):
    """A file of a bid, sealed with it (its name and content alike)."""

    bid = pw.ForeignKeyField(Bid, backref="files", on_delete="CASCADE")
    number = pw.SmallIntegerField()
    sealed = pw.BlobField()
    receipt = pw.CharField(max_length=64)

    class Meta:
        table_name = "procurement_bid_file"
        indexes = ((("bid", "number"), True),)


class Auction(BaseModel):
    """An online reverse auction (网上竞价): lowest price wins; each valid bid lowers the
    best price by a whole multiple of ``step``; a new best price in the last
    ``extension_seconds`` extends the end by as much, up to ``max_extension_seconds``."""

    project = pw.ForeignKeyField(Project, unique=True, backref="auction_row",
                                 on_delete="CASCADE")
    ceiling = pw.DecimalField(**MONEY)
    step = pw.DecimalField(**MONEY)
    starts_at = pw.DateTimeField()
    planned_end = pw.DateTimeField()
    ends_at = pw.DateTimeField()
    extension_seconds = pw.IntegerField(default=120)
    max_extension_seconds = pw.IntegerField(default=1800)
    best_price = pw.DecimalField(null=True, **MONEY)
    best_participant_id = pw.IntegerField(null=True)
    state = pw.CharField(max_length=12, default="scheduled")  # scheduled | ended | awarded
    accepted = pw.IntegerField(default=0)
    attempts = pw.IntegerField(default=0)

    class Meta:
        table_name = "procurement_auction"


class AuctionParticipant(BaseModel):
    """A supplier admitted to an auction, known to the others only by its alias."""

    auction = pw.ForeignKeyField(Auction, backref="participants", on_delete="CASCADE")
    supplier = pw.ForeignKeyField(Supplier, on_delete="RESTRICT")
    alias = pw.CharField(max_length=16)

    class Meta:
        table_name = "procurement_auction_participant"
        indexes = ((("auction", "supplier"), True), (("auction", "alias"), True))


class AuctionBid(BaseModel):
    """Every bid attempt in an auction, accepted or refused, in the order decided."""

    auction = pw.ForeignKeyField(Auction, backref="log", on_delete="CASCADE")
    participant = pw.ForeignKeyField(AuctionParticipant, on_delete="CASCADE")
    seq = pw.IntegerField()
    price = pw.DecimalField(**MONEY)
    decided_at = pw.DateTimeField()
    accepted = pw.BooleanField()
    reason = pw.CharField(max_length=16, default="")
    ends_at = pw.DateTimeField()

    class Meta:
        table_name = "procurement_auction_bid"
        indexes = ((("auction", "seq"), True),)


class Award(BaseModel):
    """The award (中标/成交): the winner fixed, then its award notice (中标通知书)."""

    project = pw.ForeignKeyField(Project, backref="awards", on_delete="CASCADE")
    supplier = pw.ForeignKeyField(Supplier, on_delete="RESTRICT")
    bid = pw.ForeignKeyField(Bid, null=True, on_delete="SET NULL")
    amount = pw.DecimalField(**MONEY)
    status = pw.CharField(max_length=12, default="active")
    fixed_at = pw.DateTimeField(default=utcnow)
    notice_at = pw.DateTimeField(null=True)

    class Meta:
        table_name = "procurement_award"


class Contract(BaseModel):
    """A contract (采购合同): signed, published and filed (合同备案) within the law's days."""

    project = pw.ForeignKeyField(Project, backref="contracts", on_delete="CASCADE")
    award = pw.ForeignKeyField(Award, null=True, on_delete="SET NULL")
    supplier = pw.ForeignKeyField(Supplier, on_delete="RESTRICT")
    number = pw.CharField(max_length=40, default="")
    amount = pw.DecimalField(**MONEY)
    status = pw.CharField(max_length=12, default="pending")
    signed_on = pw.DateField(null=True)
    published_on = pw.DateField(null=True)
    filed_on = pw.DateField(null=True)
    period_start = pw.DateField(null=True)
    period_end = pw.DateField(null=True)
    accepted_on = pw.DateField(null=True)
    acceptance_result = pw.CharField(max_length=12, default="")
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "procurement_contract"


class ContractChange(BaseModel):
    """An amendment (补充协议), milestone, acceptance (验收) or payment of a contract."""

    contract = pw.ForeignKeyField(Contract, backref="changes", on_delete="CASCADE")
    kind = pw.CharField(max_length=12)  # amendment | milestone | acceptance | payment
    day = pw.DateField()
    title = pw.CharField(max_length=200)
    amount = pw.DecimalField(null=True, **MONEY)
    due_on = pw.DateField(null=True)
    done = pw.BooleanField(default=True)
    created_by = pw.CharField(max_length=64, default="")
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "procurement_contract_change"


class Complaint(BaseModel):
    """A challenge (质疑) to the purchaser or a complaint (投诉) to the finance department."""

    project = pw.ForeignKeyField(Project, backref="complaints", on_delete="CASCADE")
    supplier = pw.ForeignKeyField(Supplier, on_delete="RESTRICT")
    kind = pw.CharField(max_length=12)  # challenge | complaint
    challenge = pw.ForeignKeyField("self", null=True, on_delete="SET NULL")
    filed_on = pw.DateField()
    subject = pw.TextField()
    reply_due = pw.DateField()
    replied_on = pw.DateField(null=True)
    reply = pw.TextField(default="")
    upheld = pw.BooleanField(null=True)
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "procurement_complaint"


class Clock(BaseModel):
    """A statutory clock (法定时限) on one step: due on ``due_on``; raises its alert and
    flag once when the step is late."""

    region = pw.ForeignKeyField(Region, on_delete="RESTRICT")
    project = pw.ForeignKeyField(Project, backref="clocks", on_delete="CASCADE")
    kind = pw.CharField(max_length=24)
    ref = pw.CharField(max_length=40)
    started_on = pw.DateField()
    due_on = pw.DateField()
    done_on = pw.DateField(null=True)
    alerted_at = pw.DateTimeField(null=True)

    class Meta:
        table_name = "procurement_clock"
        indexes = ((("kind", "ref"), True), (("done_on", "due_on"), False))


class Release(BaseModel):
    """One immutable OCDS release of a project, written with the change it records."""

    project = pw.ForeignKeyField(Project, backref="releases", on_delete="CASCADE")
    seq = pw.IntegerField()
    release_id = pw.CharField(max_length=100)
    tag = pw.CharField(max_length=64)
    date = pw.DateTimeField()
    data = pw.TextField()

    class Meta:
        table_name = "procurement_release"
        indexes = ((("project", "seq"), True),)


class RuleSetting(BaseModel):
    """A red-flag rule switched on or off, or given parameters, for a region (or, with no
    region, the city default)."""

    region = pw.ForeignKeyField(Region, null=True, on_delete="CASCADE")
    code = pw.CharField(max_length=24)
    enabled = pw.BooleanField(default=True)
    params = pw.TextField(default="{}")
    updated_by = pw.CharField(max_length=64, default="")
    updated_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "procurement_rule_setting"
        indexes = ((("region", "code"), True),)


class Flag(BaseModel):
    """A red flag (风险预警) raised by a rule: a supervision item (监督检查事项) until a
    supervisor closes it."""

    region = pw.ForeignKeyField(Region, on_delete="RESTRICT")
    project = pw.ForeignKeyField(Project, null=True, backref="flags", on_delete="CASCADE")
    code = pw.CharField(max_length=24)
    subject = pw.CharField(max_length=12, default="process")  # process | buyer | tenderer
    subject_id = pw.IntegerField()
    dedupe_key = pw.CharField(max_length=120, unique=True)
    value = pw.FloatField(null=True)
    detail = pw.TextField(default="")
    raised_at = pw.DateTimeField(default=utcnow)
    state = pw.CharField(max_length=12, default="open")  # open | confirmed | dismissed
    note = pw.TextField(default="")
    handled_by = pw.CharField(max_length=64, default="")
    handled_at = pw.DateTimeField(null=True)

    class Meta:
        table_name = "procurement_flag"
        indexes = ((("region", "state"), False), (("code", "raised_at"), False))


MODELS = [Plan, PlanItem, Supplier, Project, CommitteeMember, Announcement, Bid, BidFile,
          Auction, AuctionParticipant, AuctionBid, Award, Contract, ContractChange, Complaint,
          Clock, Release, RuleSetting, Flag]
