"""Huey tasks of the alert bus: dispatch, deliver, and the minute sweep and escalation."""
from __future__ import annotations

from huey import crontab

from core.i18n import _l
from core.queue import periodic, task


@task()
def dispatch_task(ids=None) -> dict:
    """Dispatch due notifications (all, or only ``ids``)."""
    from core.alerts.outbox import dispatch
    return dispatch(ids)


@task()
def deliver_task(nid: int, token: str) -> str:
    """Send one claimed notification."""
    from core.alerts.outbox import deliver
    return deliver(nid, token)


@task()
def sweep_task() -> dict:
    """The outbox sweep, on demand (the periodic job runs the same every minute)."""
    from core.alerts.outbox import sweep
    return sweep()


def register_periodic(huey) -> None:
    """The minute jobs: outbox sweep and escalation (each under a lease: one worker runs it)."""
    @periodic(crontab(minute="*"), name="core.alerts.sweep", label=_l("Alert delivery sweep"))
    def alerts_sweep():
        from core.alerts.outbox import sweep
        sweep()

    @periodic(crontab(minute="*"), name="core.alerts.escalate",
              label=_l("Alert escalation"))
    def alerts_escalate():
        from core.alerts.service import escalate_due
        escalate_due()
