"""Jobs of case supervision: the clock sweep every ten minutes (yellow and red alerts of
the time limits). The clock rows say what is due, so the job is idempotent."""
from __future__ import annotations

from huey import crontab

from core.api import _l, periodic

SWEEP_LOCK = "cases.clocks"


def register_periodic(huey):
    @periodic(crontab(minute="*/10"), name=SWEEP_LOCK,
              label=_l("Case supervision: time limits"))
    def sweep_job():
        from plugins.cases.clocks import sweep
        return sweep()
    return sweep_job
