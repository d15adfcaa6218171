"""Rate-limit counters in the database (core.ratelimit)."""
from peewee import CharField, DateTimeField, IntegerField, Model


def up(migrator, db):
    class RateCounter(Model):
        bucket = CharField(max_length=64)
        key = CharField(max_length=128)
        window = DateTimeField()
        count = IntegerField(default=0)

        class Meta:
            database = db
            table_name = "rate_counter"
            indexes = ((("bucket", "key", "window"), True),)

    db.create_tables([RateCounter])
