"""The encrypted file store's index: one row per stored file (core.pii.files)."""
import datetime

from peewee import BigIntegerField, CharField, DateTimeField, ForeignKeyField, Model


def up(migrator, db):
    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class User(Base):
        class Meta:
            table_name = "user"

    class StoredFile(Base):
        blob = CharField(max_length=32, unique=True)
        purpose = CharField(max_length=64)
        filename = CharField(max_length=200)
        kind = CharField(max_length=16)
        size = BigIntegerField()
        sha256 = CharField(max_length=64, index=True)
        key_id = CharField(max_length=16)
        created_at = DateTimeField(default=datetime.datetime.utcnow)
        created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")

        class Meta:
            table_name = "stored_file"
            indexes = ((("key_id",), False), (("purpose", "created_at"), False))

    db.create_tables([StoredFile])
