"""Jobs of case supervision: the clock sweep every ten minutes (the clocks of the quarterly
report-back started, then the yellow and red alerts of the time limits). The clock rows
say what is due, so the job is idempotent."""
from __future__ import annotations

from huey import crontab

from core.api import _l, periodic

SWEEP_LOCK = "cases.clocks"


def register_periodic(huey):
    @periodic(crontab(minute="*/10"), name=SWEEP_LOCK,
              label=_l("Case supervision: time limits"))
    def sweep_job():
        return run_sweep()
    return sweep_job


def run_sweep() -> dict:
    """Start the quarter's report-back clocks, then raise the alerts of every clock."""
    from plugins.cases.clocks import sweep
    from plugins.cases.report_back import ensure_clocks
    started = ensure_clocks()
    return {**sweep(), "report_back_started": started}
