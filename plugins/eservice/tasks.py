"""Service hall jobs: raise the alerts of overdue bad-rating rectifications (the public
lookup's rate counters are the core's, purged by the core)."""
from __future__ import annotations

from huey import crontab

from core.api import _l, periodic


def register(huey) -> None:
    @periodic(crontab(minute="5"), name="eservice.rectifications_overdue",
              label=_l("Alerts of overdue rectifications"))
    def overdue_job():
        from plugins.eservice.rectification import raise_overdue_rectifications
        raise_overdue_rectifications()
