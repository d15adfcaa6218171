"""Forms of the alert pages: filters, resolution note, channel preferences, delivery
problems."""
from __future__ import annotations

from wtforms import (
    BooleanField,
    SelectField,
    SelectMultipleField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from core.forms import Form, IntegerField, coerce_id
from core.i18n import _l

LEVEL_CHOICES = [SelectChoice("", _l("All levels")), SelectChoice("reminder", _l("Reminder")),
                 SelectChoice("yellow", _l("Yellow")), SelectChoice("red", _l("Red"))]
STATE_CHOICES = [SelectChoice("", _l("All states")), SelectChoice("open", _l("Open")),
                 SelectChoice("acknowledged", _l("Acknowledged")),
                 SelectChoice("resolved", _l("Resolved")),
                 SelectChoice("unresolved", _l("Not resolved"))]


class QueryForm(Form):
    """Filters read from the query string (GET: no CSRF)."""

    class Meta:
        csrf = False

    level = SelectField(_l("Level"), choices=LEVEL_CHOICES, default="")
    state = SelectField(_l("State"), choices=STATE_CHOICES, default="")


PERIOD_CHOICES = [SelectChoice("", _l("All time")), SelectChoice("month", _l("This month")),
                  SelectChoice("30d", _l("Last 30 days"))]


class BoardForm(QueryForm):
    """The board's filters; kind and region choices are filled in by the view."""

    kind = SelectField(_l("Kind"), choices=[], default="")
    region = SelectField(_l("Region"), choices=[], default="")
    period = SelectField(_l("Raised"), choices=PERIOD_CHOICES, default="")
    older_than = IntegerField(_l("Older than (days)"),
                              validators=[Optional(), NumberRange(min=0, max=3650)])


class ResolveForm(Form):
    """The resolution note (CSRF comes from the X-CSRFToken header, checked app-wide)."""

    class Meta:
        csrf = False

    note = TextAreaField(_l("Resolution note"),
                         validators=[DataRequired(message=_l("A resolution note is required.")),
                                     Length(max=2000)])


DELIVERY_STATE_CHOICES = [SelectChoice("failed", _l("Failed")),
                          SelectChoice("retrying", _l("Retrying or overdue")),
                          SelectChoice("all", _l("Failed, retrying or overdue"))]


class DeliveryFilterForm(Form):
    """Filters of the delivery problems page (GET: no CSRF); channel and region choices
    are filled in by the view."""

    class Meta:
        csrf = False

    state = SelectField(_l("State"), choices=DELIVERY_STATE_CHOICES, default="failed")
    channel = SelectField(_l("Channel"), choices=[], default="")
    region = SelectField(_l("Region"), choices=[], default="")


def preferences_form(channels: dict) -> Form:
    """One checkbox per installed delivery channel (the channels are known only at run
    time: the core's and the plugins')."""
    fields = {code: BooleanField(channel.label) for code, channel in channels.items()}
    return type("PreferencesForm", (Form,), fields)()


class RetrySelectedForm(Form):
    """The notifications ticked on the delivery-problems page."""

    id = SelectMultipleField(coerce=coerce_id, validate_choice=False)
