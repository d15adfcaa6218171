"""Notifications remember when they were last tried (``last_attempt_at``) and how often an
operator sent them back to the outbox by hand (``retries``): the delivery problems page
shows both. Rows tried before this migration get their best known time: when they were
delivered, else when they were last due."""
from peewee import DateTimeField, IntegerField
from playhouse.migrate import migrate


def up(migrator, db):
    migrate(
        migrator.add_column("notification", "last_attempt_at", DateTimeField(null=True)),
        migrator.add_column("notification", "retries", IntegerField(default=0)),
    )
    db.execute_sql('UPDATE "notification" SET "last_attempt_at" = '
                   'COALESCE("sent_at", "next_attempt_at") WHERE "attempts" > 0')
