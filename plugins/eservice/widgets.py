"""The service hall's dashboard widget: open cases in the user's scope by urgency."""
from __future__ import annotations

import datetime as dt

from flask import render_template
from peewee import fn

from core.api import add_workdays, scoped
from plugins.eservice.models import Case

PERMISSION = "eservice.case.read"


def worklist_widget(user, region) -> str:
    """Open, due within two working days, overdue, and closed this month."""
    today = dt.date.today()
    soon = add_workdays(today, 2)
    base = scoped(Case.select(), Case.region, PERMISSION, user=user)
    open_ = base.where(Case.state != "closed")
    month_start = dt.datetime(today.year, today.month, 1)
    counts = {
        "open": open_.count(),
        "due_soon": open_.where(Case.deadline.between(today, soon)).count(),
        "overdue": open_.where(Case.deadline < today).count(),
        "closed_month": base.where((Case.state == "closed")
                                   & (Case.closed_at >= month_start)).count(),
        "online": open_.where(Case.channel == "online").count(),
    }
    newest = list(open_.order_by(fn.COALESCE(Case.deadline, today).asc()).limit(5))
    return render_template("eservice/_widget.html", counts=counts, newest=newest,
                           today=today)
