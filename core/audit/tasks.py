"""The sealing job: every minute, seal the audit events older than the safety lag."""
from __future__ import annotations

import logging

from huey import crontab

from core.audit.seal import ChainError, SealResult, seal
from core.queue import periodic

log = logging.getLogger("qinglian.audit")


@periodic(crontab(minute="*"), name="core.audit.seal")
def seal_job() -> SealResult | None:
    """Seal unsealed events (locked: one worker at a time)."""
    try:
        result = seal()
    except ChainError as exc:
        log.error("audit sealing refused: %s", exc)
        return None
    if result.events:
        log.info("audit: sealed %d event(s) into %d block(s)", result.events,
                 len(result.blocks))
    return result
