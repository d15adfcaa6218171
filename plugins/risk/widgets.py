"""Risk prevention's dashboard widget: the counter board's four headline figures of the
user's scope."""
from __future__ import annotations

from flask import render_template

from core.api import region_ids
from plugins.risk import evaluation


def counters_widget(user, region) -> str:
    """Risk points, reminders and warnings, talks, people held accountable in the top
    regions of the user's ``risk.view`` scope, added up."""
    allowed = region_ids(user, "risk.view")
    tops = [r for r in allowed if not (evaluation.parent_of(r) in allowed)]
    total: dict = {}
    for rid in tops:
        for key, value in evaluation.counters(rid).items():
            total[key] = total.get(key, 0) + value
    keys = ("points", "reminders", "warnings", "talks", "admonishments", "accountable")
    return render_template("risk/_evaluation_widget.html",
                           c={k: total.get(k, 0) for k in keys})
