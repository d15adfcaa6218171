"""Key rotations (keys rotate) with their durable progress per encrypted column."""
import datetime

from peewee import (
    BigIntegerField,
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    SmallIntegerField,
)


def up(migrator, db):
    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class KeyRotation(Base):
        target_key = CharField(max_length=16)
        state = CharField(max_length=16, default="running")
        batch_size = IntegerField()
        rows_done = BigIntegerField(default=0)
        passes = SmallIntegerField(default=1)
        owner = CharField(max_length=96)
        heartbeat_at = DateTimeField(default=datetime.datetime.utcnow)
        started_at = DateTimeField(default=datetime.datetime.utcnow)
        finished_at = DateTimeField(null=True)

        class Meta:
            table_name = "key_rotation"
            indexes = ((("state",), False),)

    class KeyRotationStep(Base):
        rotation = ForeignKeyField(KeyRotation, on_delete="CASCADE")
        target = CharField(max_length=128)
        last_id = BigIntegerField(default=0)
        rows_done = BigIntegerField(default=0)
        finished = BooleanField(default=False)

        class Meta:
            table_name = "key_rotation_step"
            indexes = ((("rotation", "target"), True),)

    db.create_tables([KeyRotation, KeyRotationStep])
