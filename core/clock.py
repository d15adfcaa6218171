"""The deployment's clock: "today" and "now" in QL_TIMEZONE.

Stored times are naive UTC (``core.db.utcnow``); working days, due dates and "today" are
local days in QL_TIMEZONE, whatever the server's own time zone is. Every part of the
application asks here, never ``date.today()``.
"""
from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

DEFAULT_TIMEZONE = "Asia/Shanghai"


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def timezone() -> ZoneInfo:
    """QL_TIMEZONE of the running app (Asia/Shanghai outside an app)."""
    name = current_app.config["QL_SETTINGS"].timezone if has_app_context() else DEFAULT_TIMEZONE
    return _zone(name)


def now() -> dt.datetime:
    """The current time, aware, in QL_TIMEZONE."""
    return dt.datetime.now(timezone())


def today() -> dt.date:
    """Today's date in QL_TIMEZONE."""
    return now().date()


def local_time(stored: dt.datetime) -> dt.datetime:
    """A stored naive-UTC time as an aware time in QL_TIMEZONE."""
    return stored.replace(tzinfo=dt.UTC).astimezone(timezone())


def local_day(stored: dt.datetime) -> dt.date:
    """The local day (QL_TIMEZONE) of a stored naive-UTC time."""
    return local_time(stored).date()


def utc_midnight(day: dt.date) -> dt.datetime:
    """The stored (naive UTC) moment at which local ``day`` begins in QL_TIMEZONE."""
    local = dt.datetime.combine(day, dt.time(), tzinfo=timezone())
    return local.astimezone(dt.UTC).replace(tzinfo=None)
