"""Alert bus: alerts, the notification outbox, inbox items, channel preferences."""
import datetime

from peewee import (
    BooleanField,
    CharField,
    DateTimeField,
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
        code = CharField(max_length=12, unique=True)

    class Department(Base):
        name = CharField(max_length=100)

    class Post(Base):
        title = CharField(max_length=100)

    class User(Base):
        username = CharField(max_length=64, unique=True)

    class Alert(Base):
        kind = CharField(max_length=100, index=True)
        level = CharField(max_length=16, index=True)
        region = ForeignKeyField(Region, on_delete="RESTRICT")
        subject = CharField(max_length=200)
        details = TextField(default="")
        ref = CharField(max_length=120, default="")
        target_post = ForeignKeyField(Post, null=True, on_delete="SET NULL")
        target_department = ForeignKeyField(Department, null=True, on_delete="SET NULL")
        target_user = ForeignKeyField(User, null=True, on_delete="SET NULL")
        dedupe_key = CharField(max_length=200, null=True)
        open_key = CharField(max_length=310, null=True, unique=True)
        state = CharField(max_length=16, default="open", index=True)
        escalation_level = SmallIntegerField(default=0)
        escalated_to = CharField(max_length=32, default="")
        escalated_at = DateTimeField(null=True)
        escalate_at = DateTimeField(null=True, index=True)
        created_at = DateTimeField(default=datetime.datetime.utcnow, index=True)
        acknowledged_at = DateTimeField(null=True)
        acknowledged_by = ForeignKeyField(User, null=True, on_delete="SET NULL",
                                          backref="acknowledged_alerts")
        resolved_at = DateTimeField(null=True)
        resolved_by = ForeignKeyField(User, null=True, on_delete="SET NULL",
                                      backref="resolved_alerts")
        resolution_note = TextField(default="")

    class Notification(Base):
        uid = CharField(max_length=32, unique=True)
        alert = ForeignKeyField(Alert, on_delete="CASCADE")
        user = ForeignKeyField(User, on_delete="CASCADE")
        channel = CharField(max_length=32)
        escalation_level = SmallIntegerField(default=0)
        state = CharField(max_length=16, default="pending")
        attempts = IntegerField(default=0)
        next_attempt_at = DateTimeField(default=datetime.datetime.utcnow)
        claimed_until = DateTimeField(null=True)
        claim_token = CharField(max_length=32, null=True)
        sent_at = DateTimeField(null=True)
        last_error = TextField(default="")
        created_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            indexes = (
                (("alert", "user", "channel"), True),
                (("state", "next_attempt_at"), False),
            )

    class InboxItem(Base):
        alert = ForeignKeyField(Alert, on_delete="CASCADE")
        user = ForeignKeyField(User, on_delete="CASCADE")
        notification_uid = CharField(max_length=32)
        created_at = DateTimeField(default=datetime.datetime.utcnow)
        read_at = DateTimeField(null=True)

        class Meta:
            indexes = (
                (("alert", "user"), True),
                (("user", "read_at"), False),
            )

    class AlertPreference(Base):
        user = ForeignKeyField(User, on_delete="CASCADE")
        channel = CharField(max_length=32)
        enabled = BooleanField()

        class Meta:
            indexes = ((("user", "channel"), True),)

    db.create_tables([Alert, Notification, InboxItem, AlertPreference])
