"""The core's own dashboard widget."""
from __future__ import annotations

from flask import render_template

from core.auth.scope import region_ids
from core.org.models import Department, Person, Region


def overview_widget(user, region):
    ids = sorted(region_ids(user))
    counts = {
        "regions": Region.select().where(Region.id.in_(ids)).count() if ids else 0,
        "departments": Department.select().where(Department.region.in_(ids)).count() if ids else 0,
        "people": Person.select().where(Person.region.in_(ids)).count() if ids else 0,
    }
    return render_template("web/_overview.html", counts=counts, region=region)
