"""A case waiting for acceptance has a time limit too (受理时限: accept, refuse or ask for
a supplement within 5 working days of receipt): ``accept_by``. Cases waiting today get it
from their day of receipt (their filing day in QL_TIMEZONE), counted on the working-day
calendar: the day whose working-day number is five more than that day's."""
import datetime
import os
from zoneinfo import ZoneInfo

from peewee import DateField, DateTimeField, Model
from playhouse.migrate import migrate

ACCEPT_DAYS = 5


def up(migrator, db):
    migrate(migrator.add_column("eservice_case", "accept_by", DateField(null=True)))

    class Base(Model):
        class Meta:
            database = db

    class Case(Base):
        submitted_at = DateTimeField()
        accept_by = DateField(null=True)

        class Meta:
            table_name = "eservice_case"

    zone = ZoneInfo(os.environ.get("QL_TIMEZONE") or "Asia/Shanghai")
    waiting = db.execute_sql("SELECT id, submitted_at FROM eservice_case WHERE "
                             "accepted_on IS NULL AND state IN ('submitted', "
                             "'supplement_received')").fetchall()
    for case_id, submitted in waiting:
        if isinstance(submitted, str):
            submitted = datetime.datetime.fromisoformat(submitted)
        day = submitted.replace(tzinfo=datetime.UTC).astimezone(zone).date()
        row = db.execute_sql(
            "SELECT later.day FROM calendar_day later, calendar_day received "
            "WHERE received.day = %s AND later.workday = %s AND later.seq = received.seq + %s "
            "ORDER BY later.day LIMIT 1".replace("%s", db.param),
            (day, True, ACCEPT_DAYS)).fetchone()
        if row is not None:
            Case.update(accept_by=row[0]).where(Case.id == case_id).execute()
