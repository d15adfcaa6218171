"""Periodic jobs of e-supervision: the minute sweep (locked: one worker at a time)."""
from __future__ import annotations

from huey import crontab

from core.queue import periodic

SWEEP_LOCK = "esupervision.sweep"


def register_periodic(huey):
    @periodic(crontab(minute="*"), name=SWEEP_LOCK)
    def sweep_job():
        from plugins.esupervision.sweep import sweep
        result = sweep()
        return {"yellow": result.yellow, "red": result.red, "alerted": len(result.alerted)}
    return sweep_job
