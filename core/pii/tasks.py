"""The file store's daily sweep: blobs no row names any more (uploads rolled back,
deleted files) are removed once a day old."""
from __future__ import annotations

import logging

from huey import crontab

from core.i18n import _l
from core.pii.files import sweep
from core.queue import periodic

log = logging.getLogger("qinglian.files")


@periodic(crontab(minute="17", hour="3"), name="core.files.sweep",
          label=_l("File store sweep"))
def sweep_job() -> int:
    """Remove the file store's orphaned blobs (see core.pii.files.sweep)."""
    removed = sweep()
    if removed:
        log.info("file store: removed %d blob(s) no stored file names", removed)
    return removed
