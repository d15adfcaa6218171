"""The procurement dashboard widget: bidding now, openings today, open red flags."""
from __future__ import annotations

from flask import render_template

from core.api import scoped, utcnow
from plugins.procurement.models import Flag, Project

VIEW = "procurement.view"


def widget(user, region) -> str:
    projects = scoped(Project.select(), Project.region, VIEW, user=user)
    flags = scoped(Flag.select(), Flag.region, VIEW, user=user)
    counts = {
        "bidding": projects.where(Project.status.in_(("tendering", "auction"))).count(),
        "opening": projects.where(Project.status == "opening").count(),
        "flags": flags.where(Flag.state == "open").count(),
    }
    soon = list(projects.where((Project.status == "tendering")
                               & (Project.deadline >= utcnow()))
                .order_by(Project.deadline).limit(5))
    return render_template("procurement/_widget.html", counts=counts, soon=soon)
