"""Case supervision schema: items, messages, attachments, feedback, leads, cases, members,
documents, the stage log and the clocks."""
import datetime

from peewee import (
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    ForeignKeyField,
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

    class User(Base):
        class Meta:
            table_name = "user"

    class StoredFile(Base):
        class Meta:
            table_name = "stored_file"

    class Item(Base):
        region = ForeignKeyField(Region, on_delete="RESTRICT")
        year = SmallIntegerField()
        number = CharField(max_length=40, unique=True)
        channel = CharField(max_length=12)  # web | letter | visit | phone | transferred
        transferred_from = CharField(max_length=100, default="")
        anonymous = BooleanField(default=True)
        reporter_name = TextField(null=True)
        reporter_id = TextField(null=True)
        reporter_id_hash = CharField(max_length=64, null=True, index=True)
        reporter_contact = TextField(null=True)
        subject_name = TextField()
        subject_post = TextField(null=True)
        subject_hash = CharField(max_length=64, index=True)
        subject_region = ForeignKeyField(Region, backref="+", on_delete="RESTRICT")
        subject_rank = CharField(max_length=8, default="general")  # general | leader | head
        category = CharField(max_length=16)
        text = TextField()
        received_on = DateField()
        status = CharField(max_length=12, default="registered")
        office = CharField(max_length=12, default="petition")
        copied_to_management = BooleanField(default=False)
        routed_on = DateField(null=True)
        routed_to = ForeignKeyField(Region, null=True, backref="+", on_delete="RESTRICT")
        route_note = CharField(max_length=200, default="")
        repeat_of = ForeignKeyField("self", null=True, backref="repeats", on_delete="SET NULL")
        receipt_hash = CharField(max_length=64, null=True, unique=True)
        reporter_seen_at = DateTimeField(null=True)
        registered_by = CharField(max_length=64, default="")
        registered_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            table_name = "cases_item"
            indexes = ((("region", "office", "received_on"), False),
                       (("subject_hash", "category"), False))


    class Message(Base):
        item = ForeignKeyField(Item, backref="messages", on_delete="CASCADE")
        author = CharField(max_length=8)  # office | reporter
        text = TextField()
        created_by = CharField(max_length=64, default="")
        created_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            table_name = "cases_message"


    class Attachment(Base):
        item = ForeignKeyField(Item, backref="attachments", on_delete="CASCADE")
        file = ForeignKeyField(StoredFile, on_delete="RESTRICT")
        added_by = CharField(max_length=64, default="")  # "" = the reporter
        created_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            table_name = "cases_attachment"


    class Feedback(Base):
        item = ForeignKeyField(Item, backref="feedback", on_delete="CASCADE")
        kind = CharField(max_length=12)  # acceptance | result | opinion | objection
        text = TextField()
        on = DateField()
        recorded_by = CharField(max_length=64, default="")
        recorded_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            table_name = "cases_feedback"


    class Lead(Base):
        region = ForeignKeyField(Region, on_delete="RESTRICT")
        year = SmallIntegerField()
        number = CharField(max_length=40, unique=True)
        item = ForeignKeyField(Item, null=True, backref="leads", on_delete="RESTRICT")
        source = CharField(max_length=32, default="item")
        subject_name = TextField()
        subject_post = TextField(null=True)
        subject_hash = CharField(max_length=64, index=True)
        subject_rank = CharField(max_length=8, default="general")
        summary = TextField()
        handler = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
        status = CharField(max_length=12, default="open")  # open | proposed | decided | closed
        way = CharField(max_length=12, default="")
        reason = TextField(null=True)
        meeting_ref = CharField(max_length=100, default="")
        proposed_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
        proposed_at = DateTimeField(null=True)
        decided_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
        decided_at = DateTimeField(null=True)
        review_on = DateField(null=True)
        answer_due = DateField(null=True)
        answered_on = DateField(null=True)
        created_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            table_name = "cases_lead"
            indexes = ((("region", "status"), False),)


    class Case(Base):
        region = ForeignKeyField(Region, on_delete="RESTRICT")
        year = SmallIntegerField()
        number = CharField(max_length=40, unique=True)
        lead = ForeignKeyField(Lead, backref="cases", on_delete="RESTRICT")
        stage = CharField(max_length=16)
        stage_started_on = DateField()
        stage_due = DateField()
        suspended_since = DateField(null=True)
        extended = BooleanField(default=False)
        status = CharField(max_length=8, default="open")  # open | closed
        outcome = CharField(max_length=16, default="")
        opened_at = DateTimeField(default=datetime.datetime.utcnow)
        closed_on = DateField(null=True)

        class Meta:
            table_name = "cases_case"
            indexes = ((("region", "status"), False),)


    class Member(Base):
        lead = ForeignKeyField(Lead, null=True, backref="members", on_delete="CASCADE")
        case = ForeignKeyField(Case, null=True, backref="members", on_delete="CASCADE")
        user = ForeignKeyField(User, backref="+", on_delete="CASCADE")
        role = CharField(max_length=12)  # handler | approver | investigator | reviewer | granted
        reason = CharField(max_length=200, default="")
        granted_by = CharField(max_length=64, default="")
        granted_at = DateTimeField(default=datetime.datetime.utcnow)
        revoked_at = DateTimeField(null=True)
        revoked_by = CharField(max_length=64, default="")

        class Meta:
            table_name = "cases_member"
            indexes = ((("case", "user"), False), (("lead", "user"), False))


    class Document(Base):
        case = ForeignKeyField(Case, backref="documents", on_delete="CASCADE")
        stage = CharField(max_length=16)
        kind = CharField(max_length=24)
        title = CharField(max_length=200)
        file = ForeignKeyField(StoredFile, null=True, on_delete="RESTRICT")
        created_by = CharField(max_length=64, default="")
        created_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            table_name = "cases_document"


    class StageLog(Base):
        case = ForeignKeyField(Case, backref="stage_log", on_delete="CASCADE")
        stage = CharField(max_length=16)
        entered_on = DateField()
        left_on = DateField(null=True)
        action = CharField(max_length=12, default="enter")  # enter | suspend | resume | extend
        note = CharField(max_length=200, default="")
        by = CharField(max_length=64, default="")
        at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            table_name = "cases_stage_log"


    class Clock(Base):
        region = ForeignKeyField(Region, on_delete="RESTRICT")
        kind = CharField(max_length=16)
        ref = CharField(max_length=40)
        started_on = DateField()
        due_on = DateField()
        stopped_since = DateField(null=True)
        done_on = DateField(null=True)
        yellow_at = DateTimeField(null=True)
        red_at = DateTimeField(null=True)

        class Meta:
            table_name = "cases_clock"
            indexes = ((("kind", "ref"), True), (("done_on", "due_on"), False))

    db.create_tables([Item, Message, Attachment, Feedback, Lead, Case, Member, Document, StageLog, Clock])
