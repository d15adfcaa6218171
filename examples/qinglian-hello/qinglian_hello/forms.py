"""The board's one form, on the core's checked fields."""
from __future__ import annotations

from wtforms import SelectField

from core.api import Form, TextField, _l, coerce_id
from qinglian_hello.services import MAX_TEXT


class GreetingForm(Form):
    region = SelectField(_l("Region"), coerce=coerce_id)
    text = TextField(_l("Greeting"), max_length=MAX_TEXT)
