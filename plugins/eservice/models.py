"""Service hall models: the power catalogue (事项, one row per version), cases (办件) with
their timeline, ratings (好差评) with their rectification, and lookup counters."""
from __future__ import annotations

import peewee as pw

from core.api import (
    BaseModel,
    Department,
    EncryptedField,
    Post,
    Region,
    StoredFile,
    User,
    _l,
    utcnow,
)

ID_PURPOSE = "eservice.id_number"
PHONE_PURPOSE = "eservice.applicant_phone"
ITEM_TYPES = {
    "XK": _l("Administrative licensing"), "CF": _l("Administrative penalty"),
    "QZ": _l("Administrative enforcement"), "ZS": _l("Administrative levy"),
    "GF": _l("Administrative benefit"), "JC": _l("Administrative inspection"),
    "QR": _l("Administrative confirmation"), "JL": _l("Administrative reward"),
    "CJ": _l("Administrative adjudication"), "QT": _l("Other administrative power"),
    "GG": _l("Public service"),
}
LEVELS = {"national": _l("National"), "province": _l("Province"), "city": _l("City"),
          "county": _l("County"), "township": _l("Township")}
ITEM_STATUSES = {"active": _l("In force"), "superseded": _l("Superseded"),
                 "retired": _l("Retired")}
# The longest special procedure (特别程序) a clerk may enter, in working days: the range
# of ``procedure.expected_days`` in the case-event contract (docs/events.md), so the hall
# refuses a length on its own — even with e-supervision off — that supervision would refuse.
SPECIAL_MAX_DAYS = 3650
SPECIAL_KINDS = {"hearing": _l("Hearing"), "inspection": _l("Inspection"),
                 "expert_review": _l("Expert review"), "publicity": _l("Publicity"),
                 "other": _l("Other special procedure")}
CASE_STATES = {
    "submitted": _l("Submitted"), "accepted": _l("Accepted"),
    "not_accepted": _l("Not accepted"), "supplement_requested": _l("Supplement requested"),
    "supplement_received": _l("Supplement received"), "in_review": _l("In review"),
    "suspended": _l("Special procedure"), "decided": _l("Decided"),
    "delivered": _l("Delivered"), "closed": _l("Closed"),
}
EVENT_LABELS = {
    "submitted": _l("Application received"), "accepted": _l("Accepted"),
    "not_accepted": _l("Not accepted"), "supplement_requested": _l("Supplement requested"),
    "supplement_received": _l("Supplement received"), "step_started": _l("Step started"),
    "step_completed": _l("Step completed"), "suspended": _l("Special procedure started"),
    "resumed": _l("Special procedure ended"), "decided": _l("Decided"),
    "delivered": _l("Decision delivered"), "closed": _l("Closed"),
    "fee_charged": _l("Fee paid"),
    "deadline_kept": _l("Deadline kept: the calendar changed"),
}
RATINGS = {5: _l("Very satisfied"), 4: _l("Satisfied"), 3: _l("Basically satisfied"),
           2: _l("Dissatisfied"), 1: _l("Very dissatisfied")}


class Item(BaseModel):
    """One version of a power or service item (事项). A change writes a new version row;
    the previous one is superseded with its end date, and cases keep theirs."""

    code = pw.CharField(max_length=32)
    version = pw.IntegerField(default=1)
    name = pw.CharField(max_length=200)
    type = pw.CharField(max_length=2)
    department = pw.ForeignKeyField(Department, backref="eservice_items", on_delete="RESTRICT")
    region = pw.ForeignKeyField(Region, backref="eservice_items", on_delete="RESTRICT")
    level = pw.CharField(max_length=16, default="county")
    statutory_days = pw.IntegerField()
    committed_days = pw.IntegerField()
    fee_amount = pw.DecimalField(max_digits=12, decimal_places=2, default=0)
    fee_basis = pw.TextField(default="")
    conditions = pw.TextField(default="")
    visits = pw.SmallIntegerField(default=1)
    consult_phone = pw.CharField(max_length=64, default="")
    complaint_phone = pw.CharField(max_length=64, default="")
    status = pw.CharField(max_length=16, default="active")
    effective_from = pw.DateField()
    effective_to = pw.DateField(null=True)
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "eservice_item"
        indexes = ((("code", "version"), True), (("status", "department"), False))
        constraints = (pw.Check("committed_days >= 1"),
                       pw.Check("committed_days <= statutory_days"))

    @property
    def type_label(self):
        return ITEM_TYPES.get(self.type, self.type)

    @property
    def free(self) -> bool:
        return not self.fee_amount


class ItemBasis(BaseModel):
    """A legal basis (设定依据) of an item version, with the article text."""

    item = pw.ForeignKeyField(Item, backref="bases", on_delete="CASCADE")
    seq = pw.SmallIntegerField()
    title = pw.CharField(max_length=200)
    article = pw.TextField(default="")

    class Meta:
        table_name = "eservice_item_basis"


class ItemMaterial(BaseModel):
    """A required material (申请材料): original or copy, copies, required or optional."""

    item = pw.ForeignKeyField(Item, backref="materials", on_delete="CASCADE")
    seq = pw.SmallIntegerField()
    name = pw.CharField(max_length=200)
    original = pw.BooleanField(default=True)
    copies = pw.SmallIntegerField(default=1)
    required = pw.BooleanField(default=True)

    class Meta:
        table_name = "eservice_item_material"


class ItemStep(BaseModel):
    """An ordered process step (办理环节) with its own limit and responsible post."""

    item = pw.ForeignKeyField(Item, backref="steps", on_delete="CASCADE")
    seq = pw.SmallIntegerField()
    code = pw.CharField(max_length=32)
    name = pw.CharField(max_length=64)
    limit_days = pw.SmallIntegerField()
    post_title = pw.CharField(max_length=100, default="")

    class Meta:
        table_name = "eservice_item_step"


class ItemSpecial(BaseModel):
    """A special procedure (特殊环节) not counted toward the time limit."""

    item = pw.ForeignKeyField(Item, backref="specials", on_delete="CASCADE")
    kind = pw.CharField(max_length=16)
    name = pw.CharField(max_length=64)
    limit_days = pw.SmallIntegerField(default=0)
    basis = pw.TextField(default="")

    class Meta:
        table_name = "eservice_item_special"


class Case(BaseModel):
    """A case (办件): one application for one item version, from filing to closing.

    The applicant's ID number and phone are stored only encrypted (core.pii), the ID
    number with its blind index for the public lookup (``id_hash``) and the masked form
    shown on pages (``id_mask``)."""

    serial = pw.CharField(max_length=32, unique=True)
    item = pw.ForeignKeyField(Item, backref="cases", on_delete="RESTRICT")
    region = pw.ForeignKeyField(Region, backref="eservice_cases", on_delete="RESTRICT")
    department = pw.ForeignKeyField(Department, backref="eservice_cases", on_delete="RESTRICT")
    channel = pw.CharField(max_length=8, default="window")
    applicant_name = pw.CharField(max_length=64)
    applicant_phone = EncryptedField(PHONE_PURPOSE, column_name="phone_enc", null=True)
    id_number = EncryptedField(ID_PURPOSE, column_name="id_enc")
    id_hash = pw.CharField(max_length=64, index=True)
    id_mask = pw.CharField(max_length=24)
    state = pw.CharField(max_length=24, default="submitted")
    step_seq = pw.SmallIntegerField(null=True)
    handler = pw.ForeignKeyField(User, null=True, backref="eservice_cases",
                                 on_delete="SET NULL")
    submitted_at = pw.DateTimeField(default=utcnow)
    accepted_on = pw.DateField(null=True)
    deadline = pw.DateField(null=True)
    accept_by = pw.DateField(null=True)
    stopped_days = pw.IntegerField(default=0)
    stopped_since = pw.DateField(null=True)
    decision = pw.CharField(max_length=8, default="")
    decided_on = pw.DateField(null=True)
    closed_at = pw.DateTimeField(null=True)
    fee_due = pw.DecimalField(max_digits=12, decimal_places=2, default=0)
    fee_charged = pw.DecimalField(max_digits=12, decimal_places=2, default=0)
    created_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")

    class Meta:
        table_name = "eservice_case"
        indexes = ((("department", "state"), False), (("region", "submitted_at"), False))

    @property
    def state_label(self):
        return CASE_STATES.get(self.state, self.state)


class CaseMaterial(BaseModel):
    """The materials checklist of a case against its item's list; ``file`` is the copy
    the applicant uploaded online (kept encrypted in the core's file store)."""

    case = pw.ForeignKeyField(Case, backref="materials", on_delete="CASCADE")
    name = pw.CharField(max_length=200)
    required = pw.BooleanField(default=True)
    received = pw.BooleanField(default=False)
    file = pw.ForeignKeyField(StoredFile, null=True, backref="+", on_delete="SET NULL")

    class Meta:
        table_name = "eservice_case_material"


class CaseEvent(BaseModel):
    """One entry of a case's timeline: who (user and post) moved it, when, and why.

    ``note`` is internal; ``public`` says whether the applicant's lookup shows the entry."""

    case = pw.ForeignKeyField(Case, backref="events", on_delete="CASCADE")
    at = pw.DateTimeField(default=utcnow)
    event = pw.CharField(max_length=32)
    state_from = pw.CharField(max_length=24, default="")
    state_to = pw.CharField(max_length=24)
    step_seq = pw.SmallIntegerField(null=True)
    step_name = pw.CharField(max_length=64, default="")
    actor = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    actor_name = pw.CharField(max_length=64, default="")
    post = pw.ForeignKeyField(Post, null=True, backref="+", on_delete="SET NULL")
    post_title = pw.CharField(max_length=100, default="")
    reason = pw.TextField(default="")
    note = pw.TextField(default="")
    data = pw.TextField(default="")
    public = pw.BooleanField(default=True)

    class Meta:
        table_name = "eservice_case_event"
        indexes = ((("case", "at"), False),)


class Rating(BaseModel):
    """The applicant's rating (好差评) of a closed case, 1 to 5: once per case (一事一评)."""

    case = pw.ForeignKeyField(Case, backref="ratings", on_delete="CASCADE", unique=True)
    score = pw.SmallIntegerField()
    comment = pw.TextField(default="")
    at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "eservice_rating"
        constraints = (pw.Check("score BETWEEN 1 AND 5"),)


class Rectification(BaseModel):
    """Follow-up of a bad rating (差评整改): the department rectifies within 15 working days."""

    rating = pw.ForeignKeyField(Rating, backref="rectifications", on_delete="CASCADE",
                                unique=True)
    department = pw.ForeignKeyField(Department, backref="+", on_delete="RESTRICT")
    region = pw.ForeignKeyField(Region, backref="+", on_delete="RESTRICT")
    due = pw.DateField()
    alert_id = pw.IntegerField(null=True)
    status = pw.CharField(max_length=8, default="open")
    response = pw.TextField(default="")
    closed_at = pw.DateTimeField(null=True)
    closed_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "eservice_rectification"


class StepDelegation(BaseModel):
    """A delegation (委托): the holder of a post (or the department's head) lets a colleague
    complete the case steps assigned to that post, from ``valid_from`` to ``valid_until`` inclusive.
    Revoked, it stops at once; every use is named on the case's timeline."""

    post = pw.ForeignKeyField(Post, backref="+", on_delete="CASCADE")
    region = pw.ForeignKeyField(Region, backref="+", on_delete="RESTRICT")
    delegator = pw.ForeignKeyField(User, backref="+", on_delete="CASCADE")
    delegate = pw.ForeignKeyField(User, backref="+", on_delete="CASCADE")
    valid_from = pw.DateField()
    valid_until = pw.DateField()
    reason = pw.TextField()
    created_at = pw.DateTimeField(default=utcnow)
    revoked_at = pw.DateTimeField(null=True)
    revoked_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")

    class Meta:
        table_name = "eservice_step_delegation"
        indexes = ((("delegate", "valid_until"), False),)
        constraints = (pw.Check("valid_from <= valid_until"),)


class HallContact(BaseModel):
    """Where a region's service hall is and whom to call (the receipt names them): set by
    an administrator of that region; a county without its own falls back to the city's."""

    region = pw.ForeignKeyField(Region, backref="+", on_delete="CASCADE", unique=True)
    address = pw.CharField(max_length=200)
    phone = pw.CharField(max_length=32)
    hours = pw.CharField(max_length=100, default="")
    updated_at = pw.DateTimeField(default=utcnow)
    updated_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")

    class Meta:
        table_name = "eservice_hall_contact"


MODELS = [Item, ItemBasis, ItemMaterial, ItemStep, ItemSpecial, Case, CaseMaterial, CaseEvent,
          Rating, Rectification, StepDelegation, HallContact]
