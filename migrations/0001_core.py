"""Core schema: organisation, accounts, plugin switches, calendar."""
import datetime

from peewee import (BigIntegerField, BooleanField, CharField, DateField, DateTimeField,
                    ForeignKeyField, IntegerField, Model, SmallIntegerField)


def up(migrator, db):
    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class Region(Base):
        code = CharField(max_length=12, unique=True)
        name = CharField(max_length=64)
        level = CharField(max_length=16, default="county")
        parent = ForeignKeyField("self", null=True, on_delete="RESTRICT")
        sort = IntegerField(default=0)

    class Department(Base):
        region = ForeignKeyField(Region, on_delete="RESTRICT")
        code = CharField(max_length=16)
        name = CharField(max_length=100)
        short_name = CharField(max_length=32, default="")
        is_supervision_office = BooleanField(default=False)
        sort = IntegerField(default=0)

        class Meta:
            indexes = ((("region", "code"), True),)

    class Post(Base):
        department = ForeignKeyField(Department, on_delete="RESTRICT")
        title = CharField(max_length=100)
        risk_level = SmallIntegerField(default=1)
        is_head = BooleanField(default=False)

    class Person(Base):
        name = CharField(max_length=64)
        phone = CharField(max_length=20, default="")
        email = CharField(max_length=120, default="")
        region = ForeignKeyField(Region, on_delete="RESTRICT")
        created_at = DateTimeField(default=datetime.datetime.utcnow)

    class PostHolding(Base):
        person = ForeignKeyField(Person, on_delete="CASCADE")
        post = ForeignKeyField(Post, on_delete="CASCADE")
        start = DateField()
        end = DateField(null=True)

        class Meta:
            indexes = ((("post", "end"), False),)

    class User(Base):
        username = CharField(max_length=64, unique=True)
        person = ForeignKeyField(Person, null=True, on_delete="SET NULL")
        password_hash = CharField(max_length=255)
        must_change_password = BooleanField(default=True)
        active = BooleanField(default=True)
        failed_logins = IntegerField(default=0)
        locked_until = DateTimeField(null=True)
        totp_secret = CharField(max_length=64, default="")
        totp_last_step = BigIntegerField(default=0)
        locale = CharField(max_length=8, default="")
        email = CharField(max_length=120, default="")
        phone = CharField(max_length=20, default="")
        is_demo = BooleanField(default=False)
        password_changed_at = DateTimeField(null=True)
        created_at = DateTimeField(default=datetime.datetime.utcnow)

    class Role(Base):
        code = CharField(max_length=64, unique=True)
        label = CharField(max_length=100)
        builtin = BooleanField(default=False)

    class RolePermission(Base):
        role = ForeignKeyField(Role, on_delete="CASCADE")
        permission = CharField(max_length=100)

        class Meta:
            indexes = ((("role", "permission"), True),)

    class Grant(Base):
        user = ForeignKeyField(User, on_delete="CASCADE")
        role = ForeignKeyField(Role, on_delete="CASCADE")
        region = ForeignKeyField(Region, on_delete="CASCADE")
        granted_by = CharField(max_length=64, default="")
        created_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            indexes = ((("user", "role", "region"), True),)

    class UserSession(Base):
        sid = CharField(max_length=64, unique=True)
        user = ForeignKeyField(User, on_delete="CASCADE")
        created_at = DateTimeField(default=datetime.datetime.utcnow)
        last_seen = DateTimeField(default=datetime.datetime.utcnow)
        ended_at = DateTimeField(null=True)
        ip = CharField(max_length=64, default="")
        user_agent = CharField(max_length=255, default="")
        second_factor_ok = BooleanField(default=False)

    class PluginSwitch(Base):
        plugin = CharField(max_length=64)
        region = ForeignKeyField(Region, on_delete="CASCADE")
        switched_by = CharField(max_length=64, default="")
        created_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            indexes = ((("plugin", "region"), True),)

    class CalendarDay(Base):
        day = DateField(primary_key=True)
        workday = BooleanField()
        seq = IntegerField(index=True)
        source = CharField(max_length=16, default="statutory")

    class CalendarOverride(Base):
        day = DateField(unique=True)
        workday = BooleanField()
        note = CharField(max_length=200, default="")
        created_by = CharField(max_length=64, default="")
        created_at = DateTimeField(default=datetime.datetime.utcnow)

    class WorkerHeartbeat(Base):
        worker = CharField(max_length=128, primary_key=True)
        seen_at = DateTimeField(default=datetime.datetime.utcnow)
        jobs_done = IntegerField(default=0)

    db.create_tables([WorkerHeartbeat, Region, Department, Post, Person, PostHolding, User, Role,
                      RolePermission, Grant, UserSession, PluginSwitch, CalendarDay,
                      CalendarOverride])
