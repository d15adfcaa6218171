"""The audit jobs: every minute, seal the events older than the safety lag and send the
newest seal off-site; the send task a seal or the "send now" button hands to a worker."""
from __future__ import annotations

import logging

from huey import crontab

from core.audit.seal import ChainError, SealResult, seal
from core.i18n import _l
from core.queue import periodic, task

log = logging.getLogger("qinglian.audit")


@periodic(crontab(minute="*"), name="core.audit.seal", label=_l("Audit trail sealing"))
def seal_job() -> SealResult | None:
    """Seal unsealed events (under a lease: one worker at a time), then, the seal committed,
    open the anchor deliveries it made due."""
    try:
        result = seal()
    except ChainError as exc:
        log.error("audit sealing refused: %s", exc)
        return None
    if result.events:
        log.info("audit: sealed %d event(s) into %d block(s)", result.events,
                 len(result.blocks))
    if result.blocks:
        from core.audit.anchor import after_seal
        after_seal()
    return result


@task()
def send_anchor_task(ids=None) -> int:
    """Send the due anchor deliveries (all, or only ``ids``); returns how many were tried."""
    from core.audit.anchor import deliver
    try:
        return len(deliver(ids))
    except ChainError as exc:
        log.error("audit anchor not sent: %s", exc)
        return 0


@periodic(crontab(minute="*"), name="core.audit.anchor",
          label=_l("Audit anchor delivery"))
def anchor_job() -> int:
    """The minute sweep of anchor deliveries (under a lease): open those due (a seal whose own
    hand-over was lost), retry those whose backoff ran out, take back lost claims."""
    from core.audit.anchor import deliver, queue
    try:
        queue()
        return len(deliver())
    except ChainError as exc:
        log.error("audit anchor not sent: %s", exc)
        return 0
