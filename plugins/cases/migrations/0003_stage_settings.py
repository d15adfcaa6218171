"""This deployment's time limits, extensions and gates of the case stages (city-wide)."""
import datetime

from peewee import CharField, DateTimeField, Model, SmallIntegerField


def up(migrator, db):
    class StageSetting(Model):
        stage = CharField(max_length=16, unique=True)
        days = SmallIntegerField()
        extension_days = SmallIntegerField(default=0)
        gate = CharField(max_length=200)
        updated_by = CharField(max_length=64, default="")
        updated_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            database = db
            legacy_table_names = False
            table_name = "cases_stage_setting"

    db.create_tables([StageSetting])
