"""Case supervision (案件监督管理) tables: petition and report items (信访举报件), their
messages and attachments, problem leads (问题线索), cases (案件) with their stages, team,
documents, and the clocks (时限) over all of them.

Every table is prefixed ``cases_``. The reporter's identity and contact, the text of a
report, of a message and of a lead, and the name and post of the person concerned are
encrypted at rest (``EncryptedField``); equality look-ups go through blind indexes.
"""
from __future__ import annotations

import peewee as pw

from core.api import BaseModel, EncryptedField, Region, StoredFile, User, utcnow

REPORTER_NAME = "cases.reporter_name"
REPORTER_ID = "cases.reporter_id"
REPORTER_CONTACT = "cases.reporter_contact"
REPORT_TEXT = "cases.text"
SUBJECT = "cases.subject"
MESSAGE = "cases.message"
RECEIPT = "cases.receipt"


class Item(BaseModel):
    """A petition or report (信访举报件) as registered (登记): its channel, the reporter
    (named or anonymous), the person concerned (被反映人) and the level that manages them
    (管理权限), its routing (分办) and its feedback to a named reporter."""

    region = pw.ForeignKeyField(Region, on_delete="RESTRICT")
    year = pw.SmallIntegerField()
    number = pw.CharField(max_length=40, unique=True)
    channel = pw.CharField(max_length=12)  # web | letter | visit | phone | transferred | platform
    transferred_from = pw.CharField(max_length=100, default="")
    anonymous = pw.BooleanField(default=True)
    reporter_name = EncryptedField(REPORTER_NAME, null=True)
    reporter_id = EncryptedField(REPORTER_ID, null=True)
    reporter_id_hash = pw.CharField(max_length=64, null=True, index=True)
    reporter_contact = EncryptedField(REPORTER_CONTACT, null=True)
    subject_name = EncryptedField(SUBJECT)
    subject_post = EncryptedField(SUBJECT, null=True)
    subject_hash = pw.CharField(max_length=64, index=True)
    subject_region = pw.ForeignKeyField(Region, backref="+", on_delete="RESTRICT")
    subject_rank = pw.CharField(max_length=8, default="general")  # general | leader | head
    category = pw.CharField(max_length=16)
    text = EncryptedField(REPORT_TEXT)
    received_on = pw.DateField()
    status = pw.CharField(max_length=12, default="registered")
    office = pw.CharField(max_length=12, default="petition")
    copied_to_management = pw.BooleanField(default=False)
    routed_on = pw.DateField(null=True)
    routed_to = pw.ForeignKeyField(Region, null=True, backref="+", on_delete="RESTRICT")
    route_note = pw.CharField(max_length=200, default="")
    repeat_of = pw.ForeignKeyField("self", null=True, backref="repeats", on_delete="SET NULL")
    receipt_hash = pw.CharField(max_length=64, null=True, unique=True)
    reporter_seen_at = pw.DateTimeField(null=True)
    registered_by = pw.CharField(max_length=64, default="")
    registered_at = pw.DateTimeField(default=utcnow)
    # the event of another platform it came from (``esupervision.signal:4021``): one item each
    source_ref = pw.CharField(max_length=64, null=True, unique=True)

    class Meta:
        table_name = "cases_item"
        indexes = ((("region", "office", "received_on"), False),
                   (("subject_hash", "category"), False))


class Message(BaseModel):
    """A message between the office and the reporter of a web report (through the
    receipt code)."""

    item = pw.ForeignKeyField(Item, backref="messages", on_delete="CASCADE")
    author = pw.CharField(max_length=8)  # office | reporter
    text = EncryptedField(MESSAGE)
    created_by = pw.CharField(max_length=64, default="")
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "cases_message"


class Attachment(BaseModel):
    """A file of a report: given with it, or added later by the reporter or the office."""

    item = pw.ForeignKeyField(Item, backref="attachments", on_delete="CASCADE")
    file = pw.ForeignKeyField(StoredFile, on_delete="RESTRICT")
    added_by = pw.CharField(max_length=64, default="")  # "" = the reporter
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "cases_attachment"


class Feedback(BaseModel):
    """What a named reporter was told (受理告知, 结果反馈) and what they answered
    (意见, 异议)."""

    item = pw.ForeignKeyField(Item, backref="feedback", on_delete="CASCADE")
    kind = pw.CharField(max_length=12)  # acceptance | result | opinion | objection
    text = EncryptedField(MESSAGE)
    on = pw.DateField()
    recorded_by = pw.CharField(max_length=64, default="")
    recorded_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "cases_feedback"


class Lead(BaseModel):
    """A problem lead (问题线索), held centrally by case management: proposed for one of
    the four ways of disposal by its handler, decided collectively and approved at the
    level the person concerned requires."""

    region = pw.ForeignKeyField(Region, on_delete="RESTRICT")
    year = pw.SmallIntegerField()
    number = pw.CharField(max_length=40, unique=True)
    item = pw.ForeignKeyField(Item, null=True, backref="leads", on_delete="RESTRICT")
    source = pw.CharField(max_length=32, default="item")
    subject_name = EncryptedField(SUBJECT)
    subject_post = EncryptedField(SUBJECT, null=True)
    subject_hash = pw.CharField(max_length=64, index=True)
    subject_rank = pw.CharField(max_length=8, default="general")
    summary = EncryptedField(REPORT_TEXT)
    handler = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    status = pw.CharField(max_length=12, default="open")  # open | proposed | decided | closed
    way = pw.CharField(max_length=12, default="")
    reason = EncryptedField(REPORT_TEXT, null=True)
    meeting_ref = pw.CharField(max_length=100, default="")
    proposed_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    proposed_at = pw.DateTimeField(null=True)
    decided_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    decided_at = pw.DateTimeField(null=True)
    review_on = pw.DateField(null=True)
    answer_due = pw.DateField(null=True)
    answered_on = pw.DateField(null=True)
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "cases_lead"
        indexes = ((("region", "status"), False),)


class Case(BaseModel):
    """A case (案件) through its stages, from preliminary verification (初步核实) to the
    decision and any re-examination."""

    region = pw.ForeignKeyField(Region, on_delete="RESTRICT")
    year = pw.SmallIntegerField()
    number = pw.CharField(max_length=40, unique=True)
    lead = pw.ForeignKeyField(Lead, backref="cases", on_delete="RESTRICT")
    stage = pw.CharField(max_length=16)
    stage_started_on = pw.DateField()
    stage_due = pw.DateField()
    suspended_since = pw.DateField(null=True)
    extended = pw.BooleanField(default=False)
    status = pw.CharField(max_length=8, default="open")  # open | closed
    outcome = pw.CharField(max_length=16, default="")
    opened_at = pw.DateTimeField(default=utcnow)
    closed_on = pw.DateField(null=True)

    class Meta:
        table_name = "cases_case"
        indexes = ((("region", "status"), False),)


class Member(BaseModel):
    """Who may open a lead or a case (知悉范围): its team, its approvers, and those granted
    access with a reason; revoked rows stay as the record."""

    lead = pw.ForeignKeyField(Lead, null=True, backref="members", on_delete="CASCADE")
    case = pw.ForeignKeyField(Case, null=True, backref="members", on_delete="CASCADE")
    user = pw.ForeignKeyField(User, backref="+", on_delete="CASCADE")
    role = pw.CharField(max_length=12)  # handler | approver | investigator | reviewer | granted
    reason = pw.CharField(max_length=200, default="")
    granted_by = pw.CharField(max_length=64, default="")
    granted_at = pw.DateTimeField(default=utcnow)
    revoked_at = pw.DateTimeField(null=True)
    revoked_by = pw.CharField(max_length=64, default="")

    class Meta:
        table_name = "cases_member"
        indexes = ((("case", "user"), False), (("lead", "user"), False))


class Document(BaseModel):
    """A document of a case stage (初核报告, 立案决定书, …): the gate checks them."""

    case = pw.ForeignKeyField(Case, backref="documents", on_delete="CASCADE")
    stage = pw.CharField(max_length=16)
    kind = pw.CharField(max_length=24)
    title = pw.CharField(max_length=200)
    file = pw.ForeignKeyField(StoredFile, null=True, on_delete="RESTRICT")
    created_by = pw.CharField(max_length=64, default="")
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "cases_document"


class StageLog(BaseModel):
    """One stage a case went through: when it entered, left, was suspended or extended."""

    case = pw.ForeignKeyField(Case, backref="stage_log", on_delete="CASCADE")
    stage = pw.CharField(max_length=16)
    entered_on = pw.DateField()
    left_on = pw.DateField(null=True)
    action = pw.CharField(max_length=12, default="enter")  # enter | suspend | resume | extend
    note = pw.CharField(max_length=200, default="")
    by = pw.CharField(max_length=64, default="")
    at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "cases_stage_log"


class Clock(BaseModel):
    """A time limit (时限) in working days: routing an item, telling a named reporter,
    a lead's answer or review, a case's stage. Yellow when near, red once passed."""

    region = pw.ForeignKeyField(Region, on_delete="RESTRICT")
    kind = pw.CharField(max_length=16)
    ref = pw.CharField(max_length=40)
    started_on = pw.DateField()
    due_on = pw.DateField()
    stopped_since = pw.DateField(null=True)
    done_on = pw.DateField(null=True)
    yellow_at = pw.DateTimeField(null=True)
    red_at = pw.DateTimeField(null=True)

    class Meta:
        table_name = "cases_clock"
        indexes = ((("kind", "ref"), True), (("done_on", "due_on"), False))


class ReportBack(BaseModel):
    """The quarterly report-back (回告) of the supervision and inspection office or the
    investigation office of a region to its petitions office: what became of the items
    routed to it in the quarter (figures as filed) and its own account (encrypted)."""

    region = pw.ForeignKeyField(Region, on_delete="RESTRICT")
    office = pw.CharField(max_length=16)  # supervision | investigation
    period = pw.CharField(max_length=7)   # 2026-Q3
    due_on = pw.DateField()
    filed_on = pw.DateField()
    received = pw.IntegerField(default=0)
    disposed = pw.IntegerField(default=0)
    pending = pw.IntegerField(default=0)
    note = EncryptedField(REPORT_TEXT)
    filed_by = pw.CharField(max_length=64, default="")
    filed_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "cases_report_back"
        indexes = ((("region", "office", "period"), True), (("period",), False))


class StageSetting(BaseModel):
    """This deployment's time limit, extension and gate of a case stage, set city-wide by
    case management; a stage without a row keeps the defaults of ``vocab.STAGES``."""

    stage = pw.CharField(max_length=16, unique=True)
    days = pw.SmallIntegerField()
    extension_days = pw.SmallIntegerField(default=0)
    gate = pw.CharField(max_length=200)  # document kinds, comma-separated
    updated_by = pw.CharField(max_length=64, default="")
    updated_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "cases_stage_setting"


MODELS = [Item, Message, Attachment, Feedback, Lead, Case, Member, Document, StageLog, Clock,
          ReportBack, StageSetting]
