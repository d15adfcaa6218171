"""Procurement schema: plans, suppliers, projects, notices, sealed bids, auctions,
awards, contracts, complaints, clocks, OCDS releases, rule settings and red flags."""
import datetime

from peewee import (
    BlobField,
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    DecimalField,
    FloatField,
    ForeignKeyField,
    IntegerField,
    Model,
    SmallIntegerField,
    TextField,
)


def up(migrator, db):
    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class Region(Base):
        class Meta:
            table_name = "region"

    class Department(Base):
        class Meta:
            table_name = "department"

    class Plan(Base):
        region = ForeignKeyField(Region, on_delete="RESTRICT")
        department = ForeignKeyField(Department, on_delete="RESTRICT")
        year = SmallIntegerField()
        title = CharField(max_length=200)
        category = CharField(max_length=16)  # goods | works | services
        budget = DecimalField(max_digits=16, decimal_places=2)
        method = CharField(max_length=16)
        method_reason = TextField(default="")
        approval_ref = CharField(max_length=100, default="")
        expected_month = CharField(max_length=7, default="")
        status = CharField(max_length=16, default="draft")  # draft | filed | used
        created_by = CharField(max_length=64, default="")
        created_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            table_name = "procurement_plan"
            indexes = ((("region", "year"), False),)


    class PlanItem(Base):
        plan = ForeignKeyField(Plan, backref="items", on_delete="CASCADE")
        description = CharField(max_length=200)
        classification = CharField(max_length=16)
        quantity = DecimalField(max_digits=14, decimal_places=2, default=1)
        unit = CharField(max_length=16, default="")

        class Meta:
            table_name = "procurement_plan_item"


    class Supplier(Base):
        user_id = IntegerField(unique=True)
        name = CharField(max_length=200)
        uscc = CharField(max_length=18, unique=True)
        contact = CharField(max_length=64, default="")
        phone = CharField(max_length=20, default="")
        email = CharField(max_length=120, default="")
        address = CharField(max_length=200, default="")
        active = BooleanField(default=True)
        created_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            table_name = "procurement_supplier"


    class Project(Base):
        region = ForeignKeyField(Region, on_delete="RESTRICT")
        department = ForeignKeyField(Department, on_delete="RESTRICT")
        plan = ForeignKeyField(Plan, null=True, backref="projects", on_delete="SET NULL")
        number = CharField(max_length=40, unique=True)
        ocid = CharField(max_length=80, unique=True)
        title = CharField(max_length=200)
        description = TextField(default="")
        category = CharField(max_length=16)
        classification = CharField(max_length=16, default="")
        method = CharField(max_length=16)
        method_reason = TextField(default="")
        approval_ref = CharField(max_length=100, default="")
        budget = DecimalField(max_digits=16, decimal_places=2)
        ceiling = DecimalField(max_digits=16, decimal_places=2)
        agency = CharField(max_length=200, default="")
        status = CharField(max_length=16, default="planning")
        docs_issued_at = DateTimeField(null=True)
        deadline = DateTimeField(null=True)
        seal_id = IntegerField(null=True)
        opening_state = CharField(max_length=12, default="")  # sealed | opening | opened
        opened_at = DateTimeField(null=True)
        single_source_supplier = ForeignKeyField(Supplier, null=True, on_delete="RESTRICT")
        original_contract_id = IntegerField(null=True)  # 单一来源 add-on: the contract added to
        report_at = DateTimeField(null=True)
        winner_fixed_at = DateTimeField(null=True)
        award_notice_at = DateTimeField(null=True)
        result_announced_at = DateTimeField(null=True)
        release_seq = IntegerField(default=0)
        created_by = CharField(max_length=64, default="")
        created_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            table_name = "procurement_project"
            indexes = ((("region", "status"), False), (("status", "deadline"), False),
                       (("department", "created_at"), False))


    class CommitteeMember(Base):
        project = ForeignKeyField(Project, backref="committee", on_delete="CASCADE")
        name = CharField(max_length=64)
        is_expert = BooleanField(default=True)
        from_purchaser = BooleanField(default=False)

        class Meta:
            table_name = "procurement_committee_member"


    class Announcement(Base):
        region = ForeignKeyField(Region, on_delete="RESTRICT")
        project = ForeignKeyField(Project, null=True, backref="announcements",
                                     on_delete="CASCADE")
        kind = CharField(max_length=24)
        title = CharField(max_length=200)
        body = TextField()
        published_at = DateTimeField(default=datetime.datetime.utcnow)
        published_by = CharField(max_length=64, default="")
        affects_bids = BooleanField(default=False)

        class Meta:
            table_name = "procurement_announcement"
            indexes = ((("kind", "published_at"), False), (("region", "published_at"), False))


    class Bid(Base):
        project = ForeignKeyField(Project, backref="bids", on_delete="CASCADE")
        supplier = ForeignKeyField(Supplier, backref="bids", on_delete="RESTRICT")
        status = CharField(max_length=16, default="sealed")
        submitted_at = DateTimeField(default=datetime.datetime.utcnow)
        sealed = BlobField()
        receipt = CharField(max_length=64)
        price = DecimalField(null=True, max_digits=16, decimal_places=2)
        disqualify_reason = CharField(max_length=200, default="")
        score = DecimalField(max_digits=6, decimal_places=2, null=True)
        rank = SmallIntegerField(null=True)

        class Meta:
            table_name = "procurement_bid"
            indexes = ((("project", "status"), False), (("supplier", "project"), False))


    class BidFile(Base):
        bid = ForeignKeyField(Bid, backref="files", on_delete="CASCADE")
        number = SmallIntegerField()
        sealed = BlobField()
        receipt = CharField(max_length=64)

        class Meta:
            table_name = "procurement_bid_file"
            indexes = ((("bid", "number"), True),)


    class Auction(Base):
        project = ForeignKeyField(Project, unique=True, backref="auction_row",
                                     on_delete="CASCADE")
        ceiling = DecimalField(max_digits=16, decimal_places=2)
        step = DecimalField(max_digits=16, decimal_places=2)
        starts_at = DateTimeField()
        planned_end = DateTimeField()
        ends_at = DateTimeField()
        extension_seconds = IntegerField(default=120)
        max_extension_seconds = IntegerField(default=1800)
        best_price = DecimalField(null=True, max_digits=16, decimal_places=2)
        best_participant_id = IntegerField(null=True)
        state = CharField(max_length=12, default="scheduled")  # scheduled | ended | awarded
        accepted = IntegerField(default=0)
        attempts = IntegerField(default=0)

        class Meta:
            table_name = "procurement_auction"


    class AuctionParticipant(Base):
        auction = ForeignKeyField(Auction, backref="participants", on_delete="CASCADE")
        supplier = ForeignKeyField(Supplier, on_delete="RESTRICT")
        alias = CharField(max_length=16)

        class Meta:
            table_name = "procurement_auction_participant"
            indexes = ((("auction", "supplier"), True), (("auction", "alias"), True))


    class AuctionBid(Base):
        auction = ForeignKeyField(Auction, backref="log", on_delete="CASCADE")
        participant = ForeignKeyField(AuctionParticipant, on_delete="CASCADE")
        seq = IntegerField()
        price = DecimalField(max_digits=16, decimal_places=2)
        decided_at = DateTimeField()
        accepted = BooleanField()
        reason = CharField(max_length=16, default="")
        ends_at = DateTimeField()

        class Meta:
            table_name = "procurement_auction_bid"
            indexes = ((("auction", "seq"), True),)


    class Award(Base):
        project = ForeignKeyField(Project, backref="awards", on_delete="CASCADE")
        supplier = ForeignKeyField(Supplier, on_delete="RESTRICT")
        bid = ForeignKeyField(Bid, null=True, on_delete="SET NULL")
        amount = DecimalField(max_digits=16, decimal_places=2)
        status = CharField(max_length=12, default="active")
        fixed_at = DateTimeField(default=datetime.datetime.utcnow)
        notice_at = DateTimeField(null=True)

        class Meta:
            table_name = "procurement_award"


    class Contract(Base):
        project = ForeignKeyField(Project, backref="contracts", on_delete="CASCADE")
        award = ForeignKeyField(Award, null=True, on_delete="SET NULL")
        supplier = ForeignKeyField(Supplier, on_delete="RESTRICT")
        number = CharField(max_length=40, default="")
        amount = DecimalField(max_digits=16, decimal_places=2)
        status = CharField(max_length=12, default="pending")
        signed_on = DateField(null=True)
        published_on = DateField(null=True)
        filed_on = DateField(null=True)
        period_start = DateField(null=True)
        period_end = DateField(null=True)
        accepted_on = DateField(null=True)
        acceptance_result = CharField(max_length=12, default="")
        created_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            table_name = "procurement_contract"


    class ContractChange(Base):
        contract = ForeignKeyField(Contract, backref="changes", on_delete="CASCADE")
        kind = CharField(max_length=12)  # amendment | milestone | acceptance | payment
        day = DateField()
        title = CharField(max_length=200)
        amount = DecimalField(null=True, max_digits=16, decimal_places=2)
        due_on = DateField(null=True)
        done = BooleanField(default=True)
        created_by = CharField(max_length=64, default="")
        created_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            table_name = "procurement_contract_change"


    class Complaint(Base):
        project = ForeignKeyField(Project, backref="complaints", on_delete="CASCADE")
        supplier = ForeignKeyField(Supplier, on_delete="RESTRICT")
        kind = CharField(max_length=12)  # challenge | complaint
        challenge = ForeignKeyField("self", null=True, on_delete="SET NULL")
        filed_on = DateField()
        subject = TextField()
        reply_due = DateField()
        replied_on = DateField(null=True)
        reply = TextField(default="")
        upheld = BooleanField(null=True)
        created_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            table_name = "procurement_complaint"


    class Clock(Base):
        region = ForeignKeyField(Region, on_delete="RESTRICT")
        project = ForeignKeyField(Project, backref="clocks", on_delete="CASCADE")
        kind = CharField(max_length=24)
        ref = CharField(max_length=40)
        started_on = DateField()
        due_on = DateField()
        done_on = DateField(null=True)
        alerted_at = DateTimeField(null=True)

        class Meta:
            table_name = "procurement_clock"
            indexes = ((("kind", "ref"), True), (("done_on", "due_on"), False))


    class Release(Base):
        project = ForeignKeyField(Project, backref="releases", on_delete="CASCADE")
        seq = IntegerField()
        release_id = CharField(max_length=100)
        tag = CharField(max_length=64)
        date = DateTimeField()
        data = TextField()

        class Meta:
            table_name = "procurement_release"
            indexes = ((("project", "seq"), True),)


    class RuleSetting(Base):
        region = ForeignKeyField(Region, null=True, on_delete="CASCADE")
        code = CharField(max_length=24)
        enabled = BooleanField(default=True)
        params = TextField(default="{}")
        updated_by = CharField(max_length=64, default="")
        updated_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            table_name = "procurement_rule_setting"
            indexes = ((("region", "code"), True),)


    class Flag(Base):
        region = ForeignKeyField(Region, on_delete="RESTRICT")
        project = ForeignKeyField(Project, null=True, backref="flags", on_delete="CASCADE")
        code = CharField(max_length=24)
        subject = CharField(max_length=12, default="process")  # process | buyer | tenderer
        subject_id = IntegerField()
        dedupe_key = CharField(max_length=120, unique=True)
        value = FloatField(null=True)
        detail = TextField(default="")
        raised_at = DateTimeField(default=datetime.datetime.utcnow)
        state = CharField(max_length=12, default="open")  # open | confirmed | dismissed
        note = TextField(default="")
        handled_by = CharField(max_length=64, default="")
        handled_at = DateTimeField(null=True)

        class Meta:
            table_name = "procurement_flag"
            indexes = ((("region", "state"), False), (("code", "raised_at"), False))

    db.create_tables([Plan, PlanItem, Supplier, Project, CommitteeMember, Announcement, Bid, BidFile, Auction, AuctionParticipant, AuctionBid, Award, Contract, ContractChange, Complaint, Clock, Release, RuleSetting, Flag])
