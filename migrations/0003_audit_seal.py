"""Audit seals (blocks and seal entries), the append-only triggers of the audit tables, and
leaner audit_event indexes (the viewer filters users and actions by text, so the indexes on
user_id and action only slowed every write down)."""
import datetime

from peewee import (
    BigIntegerField,
    CharField,
    DateTimeField,
    IntegerField,
    Model,
    PostgresqlDatabase,
)

TABLES = ("audit_event", "audit_block", "audit_seal_entry")

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION ql_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit table % is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""


def up(migrator, db):
    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class AuditBlock(Base):
        first_seq = BigIntegerField(unique=True)
        last_seq = BigIntegerField(unique=True)
        count = IntegerField()
        prev_hash = CharField(max_length=64, unique=True)
        hash = CharField(max_length=64, unique=True)
        created_at = DateTimeField(default=datetime.datetime.utcnow)

    class AuditSealEntry(Base):
        event_id = BigIntegerField(unique=True)
        seq = BigIntegerField(unique=True)
        block_id = IntegerField(index=True)

    db.create_tables([AuditBlock, AuditSealEntry])
    for index in ("audit_event_user_id", "audit_event_action"):
        db.execute_sql(f'DROP INDEX IF EXISTS "{index}"')
    if isinstance(db, PostgresqlDatabase):
        db.execute_sql(PG_FUNCTION.replace("%", "%%"))
        for table in TABLES:
            db.execute_sql(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION ql_audit_append_only()")
            db.execute_sql(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION ql_audit_append_only()")
    else:
        for table in TABLES:
            for op in ("UPDATE", "DELETE"):
                db.execute_sql(
                    f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, 'the audit table {table} is append-only: "
                    f"{op} refused'); END")
