"""Suggestion letters (监察建议书) become documents of their own, and a supervision case
records who reported its rectification (the department itself, or on paper)."""
import datetime

from peewee import (
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    FloatField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)
from playhouse.migrate import migrate


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

    class EvaluationRun(Base):
        class Meta:
            table_name = "esupervision_evaluation_run"

    class SuggestionLetter(Base):
        number = CharField(max_length=64, unique=True)
        issuer_region = ForeignKeyField(Region, on_delete="RESTRICT")
        region = ForeignKeyField(Region, index=False, on_delete="RESTRICT")
        department = ForeignKeyField(Department, on_delete="RESTRICT")
        level = CharField(max_length=16, default="department")
        addressee = CharField(max_length=100, default="")
        run = ForeignKeyField(EvaluationRun, on_delete="RESTRICT")
        month = CharField(max_length=7)
        total = FloatField()
        rank = IntegerField()
        body = TextField()
        issued_at = DateTimeField(default=datetime.datetime.utcnow)
        issued_by = CharField(max_length=64)
        reply_due = DateField()
        state = CharField(max_length=16, default="issued")
        reply_text = TextField(default="")
        replied_by = CharField(max_length=64, default="")
        replied_at = DateTimeField(null=True)
        review_note = TextField(default="")
        reviewed_by = CharField(max_length=64, default="")
        reviewed_at = DateTimeField(null=True)
        escalated_at = DateTimeField(null=True)

        class Meta:
            table_name = "esupervision_suggestion_letter"
            indexes = ((("region", "issued_at"), False), (("state", "reply_due"), False))

    db.create_tables([SuggestionLetter])
    migrate(migrator.add_column("esupervision_supervision_case", "reported_by",
                                CharField(max_length=64, default="")),
            migrator.add_column("esupervision_supervision_case", "reported_on_paper",
                                BooleanField(default=False)))
