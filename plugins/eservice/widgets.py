"""The service hall's dashboard widget: open cases in the user's scope by urgency."""
from __future__ import annotations

from flask import render_template
from peewee import fn

from core.api import scoped, today, utc_midnight
from plugins.eservice.cases import due_soon_condition, is_overdue, overdue_condition
from plugins.eservice.models import Case

PERMISSION = "eservice.case.read"


def worklist_widget(user, region) -> str:
    """Open, due within two working days, overdue (the cases' own rule: a stopped clock
    is not overdue while it stands before its deadline), and closed this month."""
    day = today()
    base = scoped(Case.select(), Case.region, PERMISSION, user=user)
    open_ = base.where(Case.state != "closed")
    month_start = utc_midnight(day.replace(day=1))
    counts = {
        "open": open_.count(),
        "due_soon": open_.where(due_soon_condition(day)).count(),
        "overdue": open_.where(overdue_condition(day)).count(),
        "closed_month": base.where((Case.state == "closed")
                                   & (Case.closed_at >= month_start)).count(),
        "online": open_.where(Case.channel == "online").count(),
    }
    newest = list(open_.order_by(fn.COALESCE(Case.deadline, day).asc()).limit(5))
    late = {c.id for c in newest if is_overdue(c, day)}
    return render_template("eservice/_widget.html", counts=counts, newest=newest, late=late)
