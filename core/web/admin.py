"""Deployment settings of the core (系统设置): plugins per region and the working-day
calendar. Plain functions with the acting user; each checks the level it changes."""
from __future__ import annotations

import datetime as dt

from core import calendar
from core.audit.service import record
from core.auth.scope import require_city_wide, require_level
from core.db import db
from core.errors import FieldError
from core.i18n import _
from core.models import PluginSwitch
from core.org.models import Region
from core.parse import clean_text

SETTINGS = "core.settings.manage"
CALENDAR_ACTIONS = ("workday", "restday", "clear")


def switch_plugin(user, name: str, region: Region, on: bool) -> None:
    """Switch plugin ``name`` on or off for ``region`` and the regions below it. Needs a
    grant covering that region (the city's, to switch it for the whole city)."""
    require_level(user, SETTINGS, region)
    state = "on" if on else "off"
    with db.atomic():
        if on:
            PluginSwitch.delete().where((PluginSwitch.plugin == name)
                                        & (PluginSwitch.region == region.id)).execute()
        else:
            PluginSwitch.insert(plugin=name, region=region.id,
                                switched_by=user.username).on_conflict_ignore().execute()
        record("plugin.switch", object_type="plugin", object_id=name, region_id=region.id,
               user=user, summary=f"{name} switched {state} for {region.code}")


SCHEDULE_MAX_BYTES = 64 * 1024


def import_calendar_schedule(user, data: bytes) -> tuple[int, object]:
    """Import a year's published holiday schedule (CSV) for the whole city: all or nothing (``calendar.ScheduleError`` lists every bad
    row), then the calendar is re-numbered. Returns the year and the change made."""
    require_city_wide(user, SETTINGS)
    if not data:
        raise FieldError("schedule", _("schedule: choose the CSV file of the schedule."))
    if len(data) > SCHEDULE_MAX_BYTES:
        raise FieldError("schedule", _("schedule: the file is larger than 64 KB."))
    with db.atomic():
        year, change = calendar.import_schedule(calendar.schedule_text(data), user.username)
        record("calendar.schedule.import", object_type="calendar_schedule", object_id=str(year),
               user=user, summary=f"published {year} schedule imported; "
               + (f"{change.count} working day(s) changed" if change else "no working day changed"))
    return year, change


def override_calendar_day(user, day: dt.date, action: str, note: str = "") -> None:
    """Rule on one day of the working-day calendar (a local holiday, an extra working
    day) or clear the ruling. The calendar holds for the whole city: a city-wide grant."""
    require_city_wide(user, SETTINGS)
    if action not in CALENDAR_ACTIONS:
        raise FieldError("action", _("action: expected workday, restday or clear."))
    note = clean_text(note, "note", max_length=200)
    try:
        with db.atomic():
            if action == "clear":
                calendar.clear_override(day, user.username)
            else:
                calendar.set_override(day, action == "workday", note, user.username)
            record("calendar.override", object_type="calendar_day", object_id=day.isoformat(),
                   user=user, summary=f"{day} {action} {note}".strip())
    except calendar.CalendarError as exc:
        raise FieldError("day", str(exc)) from None
