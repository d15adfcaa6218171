"""Jobs of the procurement plugin: the opening at each deadline, the end of each auction,
the statutory clocks, and the nightly red-flag pass. The project and auction rows say what
is due, so every job is idempotent and the minute sweep finds whatever a lost task left."""
from __future__ import annotations

from huey import crontab

from core.api import periodic, task

MINUTE_LOCK = "procurement.minute"
NIGHTLY_LOCK = "procurement.flags"


def minute() -> dict:
    """Remind the custodians of the day's openings, close due biddings, open those whose
    custodians have released, end due auctions, raise the alerts of late steps."""
    from plugins.procurement import auction, bidding, clocks
    return {"reminded": bidding.remind_custodians(), "closed": len(bidding.close_due()), "opened": len(bidding.complete_ready()),
            "auctions": len(auction.end_due()), "clocks": clocks.sweep()}


@task(retries=3, retry_delay=5)
def open_project(project_id: int) -> dict:
    """Scheduled at a project's deadline (and run again after each custodian's release)."""
    return minute()


def register_periodic(huey):
    @periodic(crontab(minute="*"), name=MINUTE_LOCK)
    def minute_job():
        return minute()

    @periodic(crontab(hour="2", minute="15"), name=NIGHTLY_LOCK)
    def flags_job():
        from plugins.procurement.rules import full_pass
        result = full_pass()
        return {"processes": result.processes, "hits": result.rows, "new": len(result.new)}
    return minute_job
