"""Clocks remember when the sweep raised their yellow and red signals (``yellow_at``,
``red_at``), inside the sweep's indexes, so a sweep over unchanged data reads only the
index."""
from peewee import DateTimeField
from playhouse.migrate import migrate


def up(migrator, db):
    migrate(
        migrator.add_column("clock", "yellow_at", DateTimeField(null=True)),
        migrator.add_column("clock", "red_at", DateTimeField(null=True)),
        migrator.drop_index("clock", "clock_ended_on_due"),
        migrator.drop_index("clock", "clock_ended_on_yellow_on"),
        migrator.add_index("clock", ("ended_on", "due", "red_at"), False),
        migrator.add_index("clock", ("ended_on", "yellow_on", "yellow_at"), False),
    )
