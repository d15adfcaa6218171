"""Forms of e-supervision settings: detectors and yellow thresholds."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange

from core.i18n import _l


class ThresholdForm(FlaskForm):
    scope = SelectField(_l("Applies to"), choices=[("item_type", _l("Item type")),
                                                    ("item", _l("Item code"))])
    key = StringField(_l("Item type or item code"), validators=[DataRequired(),
                                                                Length(max=64)])
    share_percent = IntegerField(_l("Yellow when this share (%) of the limit is used"),
                                 default=80, validators=[NumberRange(1, 100)])
    days_left = IntegerField(_l("… or when this many working days are left"), default=1,
                             validators=[NumberRange(0, 30)])


class DetectorForm(FlaskForm):
    enabled = BooleanField(_l("On"))
