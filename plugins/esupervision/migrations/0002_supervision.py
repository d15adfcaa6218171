"""Supervision cases (督办) for red signals and accountability records (问责)."""
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

    class MonitoredCase(Base):
        class Meta:
            table_name = "monitored_case"

    class Signal(Base):
        class Meta:
            table_name = "signal"

    class SupervisionCase(Base):
        signal = ForeignKeyField(Signal, unique=True, on_delete="RESTRICT")
        case = ForeignKeyField(MonitoredCase, on_delete="RESTRICT")
        region = ForeignKeyField(Region, on_delete="RESTRICT")
        department = ForeignKeyField(Department, null=True, on_delete="SET NULL")
        state = CharField(max_length=16, default="opened")
        opened_by = CharField(max_length=64)
        opened_at = DateTimeField(default=datetime.datetime.utcnow)
        finding = CharField(max_length=16, default="")
        finding_reason = TextField(default="")
        verified_by = CharField(max_length=64, default="")
        verified_at = DateTimeField(null=True)
        rectification_demand = TextField(default="")
        rectification_days = IntegerField(null=True)
        rectification_due = DateField(null=True)
        report_text = TextField(default="")
        reported_at = DateTimeField(null=True)
        closed_at = DateTimeField(null=True)
        closing_note = TextField(default="")
        escalated_at = DateTimeField(null=True)

        class Meta:
            indexes = ((("state", "rectification_due"), False), (("region", "state"), False))

    class Accountability(Base):
        supervision = ForeignKeyField(SupervisionCase, on_delete="RESTRICT")
        region = ForeignKeyField(Region, on_delete="RESTRICT")
        person_name = CharField(max_length=64)
        what = TextField()
        outcome = TextField()
        recorded_by = CharField(max_length=64)
        recorded_at = DateTimeField(default=datetime.datetime.utcnow)

    db.create_tables([SupervisionCase, Accountability])
