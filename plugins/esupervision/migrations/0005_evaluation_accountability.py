"""Evaluation scores count the accountability records (问责) of the month."""
from peewee import IntegerField
from playhouse.migrate import migrate


def up(migrator, db):
    migrate(migrator.add_column("evaluation_score", "accountability", IntegerField(default=0)))
