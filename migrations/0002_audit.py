"""Audit events."""
import datetime

from peewee import BooleanField, CharField, DateTimeField, IntegerField, Model, TextField


def up(migrator, db):
    class AuditEvent(Model):
        ts = DateTimeField(default=datetime.datetime.utcnow, index=True)
        user_id = IntegerField(null=True, index=True)
        username = CharField(max_length=64, default="")
        role = CharField(max_length=200, default="")
        region_id = IntegerField(null=True, index=True)
        ip = CharField(max_length=64, default="")
        user_agent = CharField(max_length=255, default="")
        request_id = CharField(max_length=64, default="")
        action = CharField(max_length=64, index=True)
        object_type = CharField(max_length=64, default="")
        object_id = CharField(max_length=64, default="")
        summary = TextField(default="")
        changes = TextField(default="")
        success = BooleanField(default=True)

        class Meta:
            database = db
            legacy_table_names = False

    db.create_tables([AuditEvent])
