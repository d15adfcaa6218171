"""Case supervision's dashboard widget: clocks overdue and near their limit, and open
alerts of skipped procedures or missing gate materials, in the regions whose statistics
the user may see (case management, commission leaders). Figures only."""
from __future__ import annotations

from flask import render_template

from plugins.cases import statistics


def clocks_widget(user, region) -> str:
    """The counts, with links to the statistics and the cases."""
    counts = statistics.widget_counts(user)
    return render_template("cases/_widget.html", counts=counts or {})
