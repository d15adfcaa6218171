"""A step assigned to a post is completed by a holder of that post or under a recorded,
time-bounded delegation (委托): ``eservice_step_delegation``. The receipt names the hall's
address and a contact, set per region: ``eservice_hall_contact``."""
import datetime

from peewee import (
    CharField,
    Check,
    DateField,
    DateTimeField,
    ForeignKeyField,
    Model,
    TextField,
)


def up(migrator, db):
    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class Region(Base):
        class Meta:
            table_name = "region"

    class Post(Base):
        class Meta:
            table_name = "post"

    class User(Base):
        class Meta:
            table_name = "user"

    class StepDelegation(Base):
        post = ForeignKeyField(Post, backref="+", on_delete="CASCADE")
        region = ForeignKeyField(Region, backref="+", on_delete="RESTRICT")
        delegator = ForeignKeyField(User, backref="+", on_delete="CASCADE")
        delegate = ForeignKeyField(User, backref="+", on_delete="CASCADE")
        valid_from = DateField()
        valid_until = DateField()
        reason = TextField()
        created_at = DateTimeField(default=datetime.datetime.utcnow)
        revoked_at = DateTimeField(null=True)
        revoked_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")

        class Meta:
            table_name = "eservice_step_delegation"
            indexes = ((("delegate", "valid_until"), False),)
            constraints = (Check("valid_from <= valid_until"),)

    class HallContact(Base):
        region = ForeignKeyField(Region, backref="+", on_delete="CASCADE", unique=True)
        address = CharField(max_length=200)
        phone = CharField(max_length=32)
        hours = CharField(max_length=100, default="")
        updated_at = DateTimeField(default=datetime.datetime.utcnow)
        updated_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")

        class Meta:
            table_name = "eservice_hall_contact"

    db.create_tables([StepDelegation, HallContact])
