"""E-supervision's dashboard widget: this month's signals and cases in progress."""
from __future__ import annotations

from flask import render_template

from core.api import _, scoped, today, utc_midnight
from plugins.esupervision.models import MonitoredCase, Signal

PERMISSION = "esupervision.view"


def signals_widget(user, region) -> str:
    """Cases in progress, yellow and red signals this month, and the newest red ones."""
    month_start = utc_midnight(today().replace(day=1))
    cases = scoped(MonitoredCase.select(), MonitoredCase.region, PERMISSION, user=user)
    signals = scoped(Signal.select(), Signal.region, PERMISSION, user=user) \
        .where(Signal.raised_at >= month_start)
    counts = {
        "in_progress": cases.where(MonitoredCase.status.not_in(["closed", "not_accepted"]))
        .count(),
        "yellow": signals.where(Signal.level == "yellow").count(),
        "red": signals.where(Signal.level == "red").count(),
    }
    newest = list(signals.where(Signal.level == "red").order_by(Signal.raised_at.desc())
                  .limit(5))
    return render_template("esupervision/_widget.html", counts=counts, newest=newest)


def signal_label(code: str) -> str:
    """The translated description of a signal code (the code itself if unknown)."""
    if code == "DEADLINE_YELLOW":
        return _("Time limit nearly used")
    from plugins.esupervision.detectors import all_detectors
    for det in all_detectors():
        if det.code == code and det.description is not None:
            return str(det.description)
    return code
