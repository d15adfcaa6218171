"""Sample note table."""
from peewee import CharField, IntegerField, Model


def up(migrator, db):
    class SampleNote(Model):
        text = CharField(max_length=100)
        region_id = IntegerField(index=True)

        class Meta:
            database = db
            legacy_table_names = False

    db.create_tables([SampleNote])
