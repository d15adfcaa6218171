"""The quarterly report-back (回告) of the supervision and investigation offices to the
petitions office, and the source reference of an item that came from another platform's
event (one item per event)."""
import datetime

from peewee import (
    CharField,
    DateField,
    DateTimeField,
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

    class ReportBack(Base):
        region = ForeignKeyField(Region, on_delete="RESTRICT")
        office = CharField(max_length=16)
        period = CharField(max_length=7)
        due_on = DateField()
        filed_on = DateField()
        received = IntegerField(default=0)
        disposed = IntegerField(default=0)
        pending = IntegerField(default=0)
        note = TextField()
        filed_by = CharField(max_length=64, default="")
        filed_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            table_name = "cases_report_back"
            indexes = ((("region", "office", "period"), True), (("period",), False))

    db.create_tables([ReportBack])
    migrate(migrator.add_column("cases_item", "source_ref",
                                CharField(max_length=64, null=True, unique=True)))
