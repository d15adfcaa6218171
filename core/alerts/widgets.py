"""The alert bus's dashboard widget: notifications that could not be delivered."""
from __future__ import annotations

from flask import render_template

from core.alerts import deliveries
from core.alerts.models import Alert, Notification
from core.auth.scope import scoped


def deliveries_widget(user, region) -> str:
    """Failed and retrying notifications in the user's scope, linking to the page."""
    query = scoped(Notification.select().join(Alert), Alert.region, deliveries.VIEW, user=user)
    return render_template("alerts/_widget.html", counts=deliveries.counts(query))
