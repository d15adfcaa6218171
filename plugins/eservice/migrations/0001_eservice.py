"""Service hall schema: catalogue versions, cases, timeline, evaluations, lookup counters."""
import datetime

from peewee import (
    BooleanField,
    CharField,
    Check,
    DateField,
    DateTimeField,
    DecimalField,
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

    class Post(Base):
        class Meta:
            table_name = "post"

    class User(Base):
        class Meta:
            table_name = "user"

    class Item(Base):
        code = CharField(max_length=32)
        version = IntegerField(default=1)
        name = CharField(max_length=200)
        type = CharField(max_length=2)
        department = ForeignKeyField(Department, on_delete="RESTRICT")
        region = ForeignKeyField(Region, on_delete="RESTRICT")
        level = CharField(max_length=16, default="county")
        statutory_days = IntegerField()
        committed_days = IntegerField()
        fee_amount = DecimalField(max_digits=12, decimal_places=2, default=0)
        fee_basis = TextField(default="")
        conditions = TextField(default="")
        visits = SmallIntegerField(default=1)
        consult_phone = CharField(max_length=64, default="")
        complaint_phone = CharField(max_length=64, default="")
        status = CharField(max_length=16, default="active")
        effective_from = DateField()
        effective_to = DateField(null=True)
        created_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            table_name = "eservice_item"
            indexes = ((("code", "version"), True), (("status", "department"), False))
            constraints = (Check("committed_days >= 1"),
                           Check("committed_days <= statutory_days"))

    class ItemBasis(Base):
        item = ForeignKeyField(Item, on_delete="CASCADE")
        seq = SmallIntegerField()
        title = CharField(max_length=200)
        article = TextField(default="")

        class Meta:
            table_name = "eservice_item_basis"

    class ItemMaterial(Base):
        item = ForeignKeyField(Item, on_delete="CASCADE")
        seq = SmallIntegerField()
        name = CharField(max_length=200)
        original = BooleanField(default=True)
        copies = SmallIntegerField(default=1)
        required = BooleanField(default=True)

        class Meta:
            table_name = "eservice_item_material"

    class ItemStep(Base):
        item = ForeignKeyField(Item, on_delete="CASCADE")
        seq = SmallIntegerField()
        code = CharField(max_length=32)
        name = CharField(max_length=64)
        limit_days = SmallIntegerField()
        post_title = CharField(max_length=100, default="")

        class Meta:
            table_name = "eservice_item_step"

    class ItemSpecial(Base):
        item = ForeignKeyField(Item, on_delete="CASCADE")
        kind = CharField(max_length=16)
        name = CharField(max_length=64)
        limit_days = SmallIntegerField(default=0)
        basis = TextField(default="")

        class Meta:
            table_name = "eservice_item_special"

    class Case(Base):
        serial = CharField(max_length=32, unique=True)
        item = ForeignKeyField(Item, on_delete="RESTRICT")
        region = ForeignKeyField(Region, on_delete="RESTRICT")
        department = ForeignKeyField(Department, on_delete="RESTRICT")
        channel = CharField(max_length=8, default="window")
        applicant_name = CharField(max_length=64)
        applicant_phone = CharField(max_length=20, default="")
        id_enc = TextField()
        id_hash = CharField(max_length=64, index=True)
        id_mask = CharField(max_length=24)
        state = CharField(max_length=24, default="submitted")
        step_seq = SmallIntegerField(null=True)
        handler = ForeignKeyField(User, null=True, on_delete="SET NULL")
        submitted_at = DateTimeField(default=datetime.datetime.utcnow)
        accepted_on = DateField(null=True)
        deadline = DateField(null=True)
        stopped_days = IntegerField(default=0)
        stopped_since = DateField(null=True)
        decision = CharField(max_length=8, default="")
        decided_on = DateField(null=True)
        closed_at = DateTimeField(null=True)
        fee_due = DecimalField(max_digits=12, decimal_places=2, default=0)
        fee_charged = DecimalField(max_digits=12, decimal_places=2, default=0)
        created_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")

        class Meta:
            table_name = "eservice_case"
            indexes = ((("department", "state"), False), (("region", "submitted_at"), False))

    class CaseMaterial(Base):
        case = ForeignKeyField(Case, on_delete="CASCADE")
        name = CharField(max_length=200)
        required = BooleanField(default=True)
        received = BooleanField(default=False)

        class Meta:
            table_name = "eservice_case_material"

    class CaseEvent(Base):
        case = ForeignKeyField(Case, on_delete="CASCADE")
        at = DateTimeField(default=datetime.datetime.utcnow)
        event = CharField(max_length=32)
        state_from = CharField(max_length=24, default="")
        state_to = CharField(max_length=24)
        step_seq = SmallIntegerField(null=True)
        step_name = CharField(max_length=64, default="")
        actor = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
        actor_name = CharField(max_length=64, default="")
        post = ForeignKeyField(Post, null=True, backref="+", on_delete="SET NULL")
        post_title = CharField(max_length=100, default="")
        reason = TextField(default="")
        note = TextField(default="")
        data = TextField(default="")
        public = BooleanField(default=True)

        class Meta:
            table_name = "eservice_case_event"
            indexes = ((("case", "at"), False),)

    class Evaluation(Base):
        case = ForeignKeyField(Case, on_delete="CASCADE", unique=True)
        rating = SmallIntegerField()
        comment = TextField(default="")
        at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            table_name = "eservice_evaluation"
            constraints = (Check("rating BETWEEN 1 AND 5"),)

    class Rectification(Base):
        evaluation = ForeignKeyField(Evaluation, on_delete="CASCADE", unique=True)
        department = ForeignKeyField(Department, backref="+", on_delete="RESTRICT")
        region = ForeignKeyField(Region, backref="+", on_delete="RESTRICT")
        due = DateField()
        alert_id = IntegerField(null=True)
        status = CharField(max_length=8, default="open")
        response = TextField(default="")
        closed_at = DateTimeField(null=True)
        closed_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
        created_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            table_name = "eservice_rectification"

    class LookupCounter(Base):
        key = CharField(max_length=96)
        window = DateTimeField()
        count = IntegerField(default=0)

        class Meta:
            table_name = "eservice_lookup_counter"
            indexes = ((("key", "window"), True),)

    db.create_tables([Item, ItemBasis, ItemMaterial, ItemStep, ItemSpecial, Case, CaseMaterial,
                      CaseEvent, Evaluation, Rectification, LookupCounter])
