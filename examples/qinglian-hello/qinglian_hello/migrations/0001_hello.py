"""The greetings table. A migration declares what it needs inline and never imports the
live models, so later changes to them cannot rewrite history."""
import datetime

from peewee import CharField, DateTimeField, ForeignKeyField, Model


def up(migrator, db):
    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class Region(Base):
        class Meta:
            table_name = "region"

    class User(Base):
        class Meta:
            table_name = "user"

    class Greeting(Base):
        region = ForeignKeyField(Region, backref="+", on_delete="CASCADE")
        text = CharField(max_length=200)
        author = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
        ref = CharField(max_length=64, default="")
        created_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            table_name = "hello_greeting"
            indexes = ((("region", "created_at"), False),)

    db.create_tables([Greeting])
