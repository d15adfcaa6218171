"""E-supervision schema: source tokens, monitored cases, events, clocks, signals, settings."""
import datetime

from peewee import (
    BooleanField,
    CharField,
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

    class SourceToken(Base):
        source = CharField(max_length=64, unique=True)
        token_hash = CharField(max_length=128)
        created_at = DateTimeField(default=datetime.datetime.utcnow)
        revoked_at = DateTimeField(null=True)

    class MonitoredCase(Base):
        source = CharField(max_length=64)
        serial = CharField(max_length=64)
        region = ForeignKeyField(Region, on_delete="RESTRICT")
        department = ForeignKeyField(Department, null=True, on_delete="SET NULL")
        department_code = CharField(max_length=16)
        department_name = CharField(max_length=100, default="")
        item_code = CharField(max_length=64)
        item_name = CharField(max_length=200, default="")
        item_type = CharField(max_length=8)
        item_version = IntegerField(default=1)
        statutory_limit_days = IntegerField()
        committed_limit_days = IntegerField()
        fee_due = DecimalField(max_digits=12, decimal_places=2)
        channel = CharField(max_length=16, default="window")
        handler_username = CharField(max_length=64, default="")
        handler_post_id = IntegerField(null=True)
        submitted_at = DateTimeField()
        status = CharField(max_length=16, default="received")
        decision = CharField(max_length=16, default="")
        accepted_at = DateTimeField(null=True)
        decided_at = DateTimeField(null=True)
        closed_at = DateTimeField(null=True)
        completion_due = DateField(null=True)
        rating = SmallIntegerField(null=True)
        last_event_at = DateTimeField(null=True)
        created_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            indexes = ((("source", "serial"), True), (("region", "status"), False))

    class CaseEvent(Base):
        source = CharField(max_length=64)
        event_id = CharField(max_length=100)
        name = CharField(max_length=64)
        case = ForeignKeyField(MonitoredCase, on_delete="CASCADE")
        occurred_at = DateTimeField()
        received_at = DateTimeField(default=datetime.datetime.utcnow)
        payload = TextField()

        class Meta:
            indexes = ((("source", "event_id"), True), (("case", "occurred_at"), False))

    class Clock(Base):
        case = ForeignKeyField(MonitoredCase, on_delete="CASCADE")
        kind = CharField(max_length=16)
        step_seq = IntegerField(default=0)
        label = CharField(max_length=100, default="")
        post_id = IntegerField(null=True)
        start_day = DateField()
        limit_days = IntegerField()
        stopped_days = IntegerField(default=0)
        paused_since = DateField(null=True)
        due = DateField()
        yellow_on = DateField(null=True)
        ended_on = DateField(null=True)

        class Meta:
            indexes = ((("case", "kind", "step_seq"), True), (("ended_on", "due"), False),
                       (("ended_on", "yellow_on"), False))

    class Signal(Base):
        case = ForeignKeyField(MonitoredCase, on_delete="CASCADE")
        region = ForeignKeyField(Region, on_delete="RESTRICT")
        level = CharField(max_length=8)
        code = CharField(max_length=40)
        dedupe_key = CharField(max_length=160, unique=True)
        detail = TextField(default="")
        clock = ForeignKeyField(Clock, null=True, on_delete="SET NULL")
        raised_at = DateTimeField(default=datetime.datetime.utcnow)
        alerted_at = DateTimeField(null=True)

        class Meta:
            indexes = ((("alerted_at",), False), (("region", "raised_at"), False))

    class DetectorSetting(Base):
        code = CharField(max_length=40, unique=True)
        enabled = BooleanField(default=True)
        params = TextField(default="{}")
        updated_at = DateTimeField(default=datetime.datetime.utcnow)

    class Threshold(Base):
        scope = CharField(max_length=16)
        key = CharField(max_length=64)
        share_percent = IntegerField()
        days_left = IntegerField()
        updated_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            indexes = ((("scope", "key"), True),)

    db.create_tables([SourceToken, MonitoredCase, CaseEvent, Clock, Signal, DetectorSetting,
                      Threshold])
