"""Service hall jobs: purge the public lookup counters once their minute is long past, and
raise the alerts of overdue bad-rating rectifications."""
from __future__ import annotations

import datetime as dt

from huey import crontab

from core.api import _l, db, periodic, utcnow


def purge_lookup_counters(older_than_minutes: int = 10) -> int:
    """Delete rate-limit counters of finished windows (set-based, idempotent)."""
    from plugins.eservice.models import LookupCounter
    cutoff = utcnow() - dt.timedelta(minutes=older_than_minutes)
    with db.atomic():
        return LookupCounter.delete().where(LookupCounter.window < cutoff).execute()


def register(huey) -> None:
    @periodic(crontab(minute="*/10"), name="eservice.purge_lookup_counters",
              label=_l("Purge of public lookup counters"))
    def purge_job():
        purge_lookup_counters()

    @periodic(crontab(minute="5"), name="eservice.rectifications_overdue",
              label=_l("Alerts of overdue rectifications"))
    def overdue_job():
        from plugins.eservice.rectification import raise_overdue_rectifications
        raise_overdue_rectifications()
