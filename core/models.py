"""Small core tables that belong to no single part: plugin switches and the calendar."""
from __future__ import annotations

import peewee as pw

from core.db import BaseModel, utcnow
from core.org.models import Region


class PluginSwitch(BaseModel):
    """A plugin switched off for one region (and so for its descendants). Data stays."""

    plugin = pw.CharField(max_length=64)
    region = pw.ForeignKeyField(Region, on_delete="CASCADE")
    switched_by = pw.CharField(max_length=64, default="")
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("plugin", "region"), True),)


class CalendarDay(BaseModel):
    """One calendar day: whether it is a working day, and the running count of working
    days up to and including it (``seq``), so working-day arithmetic is one lookup and
    set-based SQL can count working days with a join."""

    day = pw.DateField(primary_key=True)
    workday = pw.BooleanField()
    seq = pw.IntegerField(index=True)
    # published | statutory | provisional | weekend | override (core.calendar)
    source = pw.CharField(max_length=16, default="statutory")
    holiday = pw.CharField(max_length=32, default="")  # festival code (core.calendar)


class CalendarSchedule(BaseModel):
    """The State Council's published holiday schedule (放假安排) of a year as an
    administrator imported it: its holidays and its adjusted working days (调休上班)."""

    day = pw.DateField(unique=True)
    workday = pw.BooleanField()
    holiday = pw.CharField(max_length=32, default="")
    imported_by = pw.CharField(max_length=64, default="")
    imported_at = pw.DateTimeField(default=utcnow)


class CalendarChange(BaseModel):
    """A re-numbering of the calendar: working days that changed (a newer package, an
    imported schedule, a local ruling), from ``first_day`` to ``last_day``; the plugins
    re-number their clocks from it (event ``core.calendar.changed``)."""

    reason = pw.CharField(max_length=16)  # package | import | ruling | ruling_undone
    detail = pw.CharField(max_length=64, default="")
    first_day = pw.DateField()
    last_day = pw.DateField()
    count = pw.IntegerField()
    days = pw.TextField()  # JSON list of ISO dates
    created_by = pw.CharField(max_length=64, default="")
    created_at = pw.DateTimeField(default=utcnow)


class CalendarOverride(BaseModel):
    """A deployment's own ruling on a day (a local holiday, an extra working day)."""

    day = pw.DateField(unique=True)
    workday = pw.BooleanField()
    note = pw.CharField(max_length=200, default="")
    created_by = pw.CharField(max_length=64, default="")
    created_at = pw.DateTimeField(default=utcnow)


class WorkerHeartbeat(BaseModel):
    """The last time each worker's heartbeat job ran: the admin pages and /healthz?full=1
    show whether background jobs are alive."""

    worker = pw.CharField(max_length=128, primary_key=True)
    seen_at = pw.DateTimeField(default=utcnow)
    jobs_done = pw.IntegerField(default=0)


class PeriodicJob(BaseModel):
    """A periodic job (定时任务) as the workers report it: when it last completed or failed,
    and ``due_by``, the time by which it must complete again before it counts as late (its
    next few scheduled runs missed): ``/healthz``, ``jobs status`` and the admin page read it."""

    name = pw.CharField(max_length=128, primary_key=True)
    label = pw.CharField(max_length=200, default="")
    registered_at = pw.DateTimeField(null=True)
    last_completed_at = pw.DateTimeField(null=True)
    last_duration_ms = pw.IntegerField(null=True)
    last_failed_at = pw.DateTimeField(null=True)
    last_error = pw.CharField(max_length=500, default="")
    runs = pw.IntegerField(default=0)
    due_by = pw.DateTimeField(null=True)
