"""Accounts have a kind (``core.auth.kinds``): every existing account is staff."""
from peewee import CharField
from playhouse.migrate import migrate


def up(migrator, db):
    migrate(migrator.add_column("user", "kind", CharField(max_length=16, default="staff")))
