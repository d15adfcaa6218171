"""Periodic jobs of e-supervision: the minute sweep (under a lease: one worker at a time)."""
from __future__ import annotations

from huey import crontab

from core.api import _l, periodic, today

SWEEP_LOCK = "esupervision.sweep"
EVALUATION_LOCK = "esupervision.evaluation"


def register_periodic(huey):
    @periodic(crontab(minute="*"), name=SWEEP_LOCK, label=_l("E-supervision sweep"))
    def sweep_job():
        from plugins.esupervision.sweep import sweep
        result = sweep()
        return {"yellow": result.yellow, "red": result.red, "alerted": len(result.alerted)}

    @periodic(crontab(day="1", hour="1", minute="5"), name=EVALUATION_LOCK,
              label=_l("Monthly efficiency evaluation"))
    def evaluation_job():
        from plugins.esupervision.evaluation import scheduled
        run = scheduled(today())
        return None if run is None else {"month": run.month, "version": run.version}
    return sweep_job
