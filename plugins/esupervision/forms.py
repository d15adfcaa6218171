"""Forms of e-supervision settings: detectors and yellow thresholds."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

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


class VerifyForm(FlaskForm):
    finding = SelectField(_l("Finding"), choices=[("confirmed", _l("Signal confirmed")),
                                                  ("dismissed", _l("Signal dismissed"))])
    reason = TextAreaField(_l("Reason (required when dismissed)"),
                           validators=[Optional(), Length(max=4000)])


class DemandForm(FlaskForm):
    demand = TextAreaField(_l("Rectification demanded"),
                           validators=[DataRequired(), Length(max=4000)])
    days = IntegerField(_l("Deadline in working days"), default=10,
                        validators=[DataRequired(), NumberRange(1, 120)])


class ReportForm(FlaskForm):
    report = TextAreaField(_l("Rectification report (回告)"),
                           validators=[DataRequired(), Length(max=4000)])


class CloseForm(FlaskForm):
    note = TextAreaField(_l("Closing note"), validators=[Optional(), Length(max=4000)])


class AccountabilityForm(FlaskForm):
    person_name = StringField(_l("Who"), validators=[DataRequired(), Length(max=64)])
    what = TextAreaField(_l("What"), validators=[DataRequired(), Length(max=4000)])
    outcome = TextAreaField(_l("Outcome"), validators=[DataRequired(), Length(max=4000)])
