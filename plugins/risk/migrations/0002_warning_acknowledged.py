"""Warnings remember who took them in hand (受理) and when: a warning is open →
acknowledged → handled."""
from peewee import CharField, DateTimeField
from playhouse.migrate import migrate


def up(migrator, db):
    migrate(
        migrator.add_column("risk_warning", "acknowledged_by", CharField(max_length=64,
                                                                         default="")),
        migrator.add_column("risk_warning", "acknowledged_at", DateTimeField(null=True)),
    )
