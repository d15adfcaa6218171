"""Sealing service (core.sealing): custodian keys, seals and their shares."""
import datetime

from peewee import (BlobField, CharField, DateTimeField, ForeignKeyField, Model,
                    SmallIntegerField)


def up(migrator, db):
    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class Region(Base):
        class Meta:
            table_name = "region"

    class User(Base):
        class Meta:
            table_name = "user"

    class CustodianKey(Base):
        user = ForeignKeyField(User, on_delete="CASCADE")
        public_key = BlobField()
        wrapped_private = BlobField()
        kdf = CharField(max_length=64)
        created_at = DateTimeField(default=datetime.datetime.utcnow)
        retired_at = DateTimeField(null=True)

        class Meta:
            indexes = ((("user", "retired_at"), False),)

    class Seal(Base):
        purpose = CharField(max_length=64)
        ref = CharField(max_length=64)
        region = ForeignKeyField(Region, null=True, on_delete="RESTRICT")
        opens_at = DateTimeField()
        threshold = SmallIntegerField()
        public_key = BlobField()
        wrapped_private = BlobField()
        created_by = CharField(max_length=64, default="")
        created_at = DateTimeField(default=datetime.datetime.utcnow)
        opened_at = DateTimeField(null=True)

        class Meta:
            indexes = ((("purpose", "ref"), True),)

    class SealShare(Base):
        seal = ForeignKeyField(Seal, on_delete="CASCADE")
        custodian = ForeignKeyField(User, on_delete="RESTRICT")
        key = ForeignKeyField(CustodianKey, on_delete="RESTRICT")
        number = SmallIntegerField()
        sealed_share = BlobField()
        released_share = BlobField(null=True)
        released_at = DateTimeField(null=True)

        class Meta:
            indexes = ((("seal", "custodian"), True),)

    db.create_tables([CustodianKey, Seal, SealShare])
