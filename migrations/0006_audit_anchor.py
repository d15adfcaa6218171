"""Off-site deliveries of the audit anchor: one row per destination (an e-mail address or
the HTTP receiver) and delivery, with its state, attempts and last error."""
import datetime

from peewee import (
    BigIntegerField,
    CharField,
    DateTimeField,
    IntegerField,
    Model,
    TextField,
)


def up(migrator, db):
    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class AuditAnchorDelivery(Base):
        uid = CharField(max_length=32, unique=True)
        channel = CharField(max_length=16)
        destination = CharField(max_length=500)
        open_key = CharField(max_length=520, null=True, unique=True)
        trigger = CharField(max_length=16, default="seal")
        block_id = IntegerField()
        last_seq = BigIntegerField()
        hash = CharField(max_length=64)
        sealed_at = DateTimeField()
        state = CharField(max_length=16, default="pending")
        attempts = IntegerField(default=0)
        last_error = TextField(default="")
        created_at = DateTimeField(default=datetime.datetime.utcnow)
        next_attempt_at = DateTimeField(default=datetime.datetime.utcnow)
        last_attempt_at = DateTimeField(null=True)
        claimed_until = DateTimeField(null=True)
        claim_token = CharField(max_length=32, null=True)
        sent_at = DateTimeField(null=True)

        class Meta:
            indexes = (
                (("state", "next_attempt_at"), False),
                (("destination", "created_at"), False),
            )

    db.create_tables([AuditAnchorDelivery])
