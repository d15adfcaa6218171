"""Ingestion tokens move onto the core's API tokens (``api_token``, scope
``esupervision.ingest``, the source system as subject): every token a source system holds
keeps working, since both store the same SHA-256 hex digest of the token; revoked ones stay
revoked. Then ``esupervision_source_token`` goes. Runs after the core's chain, which
creates ``api_token`` (migration 0012)."""
from peewee import CharField, DateTimeField, Model

SCOPE = "esupervision.ingest"


def up(migrator, db):
    class ApiToken(Model):
        scope = CharField(max_length=64)
        subject = CharField(max_length=64)
        token_hash = CharField(max_length=64)
        hint = CharField(max_length=8)
        created_at = DateTimeField()
        created_by = CharField(max_length=64)
        revoked_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "api_token"

    rows = db.execute_sql('SELECT source, token_hash, created_at, revoked_at '
                          'FROM "esupervision_source_token" ORDER BY id').fetchall()
    if rows:
        ApiToken.insert_many([
            {"scope": SCOPE, "subject": source, "token_hash": digest, "hint": "",
             "created_at": created, "created_by": "migration", "revoked_at": revoked}
            for source, digest, created, revoked in rows]).execute()
    migrator.migrate(migrator.drop_table("esupervision_source_token"))
