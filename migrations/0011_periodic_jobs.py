"""Periodic jobs' record: the last completion and failure of each, and the time by which
it must complete again (``due_by``) before the health check reports it late."""
from peewee import CharField, DateTimeField, IntegerField, Model


def up(migrator, db):
    class PeriodicJob(Model):
        name = CharField(max_length=128, primary_key=True)
        label = CharField(max_length=200, default="")
        registered_at = DateTimeField(null=True)
        last_completed_at = DateTimeField(null=True)
        last_duration_ms = IntegerField(null=True)
        last_failed_at = DateTimeField(null=True)
        last_error = CharField(max_length=500, default="")
        runs = IntegerField(default=0)
        due_by = DateTimeField(null=True)

        class Meta:
            database = db
            legacy_table_names = False

    db.create_tables([PeriodicJob])
