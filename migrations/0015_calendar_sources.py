"""The calendar knows its holidays and where each year comes from: ``calendar_day.holiday``
(the festival of a holiday or an adjusted working day), the published schedules an
administrator imports (``calendar_schedule``) and the record of each re-numbering
(``calendar_change``). ``db upgrade`` then refreshes the days (years after the package's
become provisional, with the statutory holidays derived from the law)."""
import datetime

from peewee import BooleanField, CharField, DateField, DateTimeField, IntegerField, Model, TextField
from playhouse.migrate import migrate


def up(migrator, db):
    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class CalendarSchedule(Base):
        day = DateField(unique=True)
        workday = BooleanField()
        holiday = CharField(max_length=32, default="")
        imported_by = CharField(max_length=64, default="")
        imported_at = DateTimeField(default=datetime.datetime.utcnow)

    class CalendarChange(Base):
        reason = CharField(max_length=16)
        detail = CharField(max_length=64, default="")
        first_day = DateField()
        last_day = DateField()
        count = IntegerField()
        days = TextField()
        created_by = CharField(max_length=64, default="")
        created_at = DateTimeField(default=datetime.datetime.utcnow)

    migrate(migrator.add_column("calendar_day", "holiday", CharField(max_length=32, default="")))
    db.create_tables([CalendarSchedule, CalendarChange])
