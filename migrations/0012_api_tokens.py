"""API tokens of machine clients (core.auth.tokens): scope, subject, optional region, the
token's SHA-256 hash."""
from peewee import CharField, DateTimeField, ForeignKeyField, Model


def up(migrator, db):
    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class Region(Base):
        class Meta:
            table_name = "region"

    class ApiToken(Base):
        scope = CharField(max_length=64)
        subject = CharField(max_length=64)
        region = ForeignKeyField(Region, null=True, backref="+", on_delete="CASCADE")
        token_hash = CharField(max_length=64, unique=True)
        hint = CharField(max_length=8, default="")
        created_at = DateTimeField()
        created_by = CharField(max_length=64, default="")
        expires_at = DateTimeField(null=True)
        last_used_at = DateTimeField(null=True)
        revoked_at = DateTimeField(null=True)

        class Meta:
            table_name = "api_token"
            indexes = ((("scope", "subject"), False),)

    db.create_tables([ApiToken])
