"""Daily supervision findings (日常监察) and the monthly efficiency evaluation archive."""
import datetime

from peewee import (
    CharField,
    DateField,
    DateTimeField,
    FloatField,
    ForeignKeyField,
    IntegerField,
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

    class Department(Base):
        class Meta:
            table_name = "department"

    class InspectionFinding(Base):
        region = ForeignKeyField(Region, on_delete="RESTRICT")
        department = ForeignKeyField(Department, on_delete="RESTRICT")
        day = DateField()
        category = CharField(max_length=32)
        description = TextField()
        severity = CharField(max_length=8)
        points = IntegerField()
        recorded_by = CharField(max_length=64)
        recorded_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            indexes = ((("department", "day"), False),)

    class EvaluationConfig(Base):
        params = TextField()
        updated_by = CharField(max_length=64, default="")
        updated_at = DateTimeField(default=datetime.datetime.utcnow)

    class EvaluationRun(Base):
        month = CharField(max_length=7)
        version = IntegerField()
        params = TextField()
        created_by = CharField(max_length=64)
        created_at = DateTimeField(default=datetime.datetime.utcnow)
        seconds = FloatField(default=0)

        class Meta:
            indexes = ((("month", "version"), True),)

    class EvaluationScore(Base):
        run = ForeignKeyField(EvaluationRun, on_delete="RESTRICT")
        level = CharField(max_length=16)
        region = ForeignKeyField(Region, on_delete="RESTRICT")
        department = ForeignKeyField(Department, null=True, on_delete="RESTRICT")
        label = CharField(max_length=100)
        cases = IntegerField()
        decided = IntegerField()
        on_time_rate = FloatField(null=True)
        early_rate = FloatField(null=True)
        time_ratio = FloatField(null=True)
        yellow = IntegerField()
        red = IntegerField()
        finding_points = IntegerField()
        satisfaction = FloatField(null=True)
        efficiency = FloatField()
        abnormal = FloatField()
        supervision = FloatField()
        public = FloatField()
        bonus = FloatField()
        total = FloatField()
        rank = IntegerField()
        suggestion = TextField(default="")

        class Meta:
            indexes = ((("run", "level", "rank"), False), (("department", "run"), False))

    db.create_tables([InspectionFinding, EvaluationConfig, EvaluationRun, EvaluationScore])
