"""Forms of e-supervision settings: detectors and yellow thresholds."""
from __future__ import annotations

from wtforms import (
    BooleanField,
    MultipleFileField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from core.api import DateField, Form, IntegerField, _l

SCOPE_LABELS = {"item_type": _l("Item type"), "item": _l("Item code"),
                "all": _l("All items")}


class ThresholdForm(Form):
    scope = SelectField(_l("Applies to"),
                        choices=[SelectChoice(k, v) for k, v in SCOPE_LABELS.items()])
    key = StringField(_l("Item type or item code (empty for all items)"),
                      validators=[Optional(), Length(max=64)])
    share_percent = IntegerField(_l("Yellow when this share (%) of the limit is used"),
                                 default=80, validators=[NumberRange(1, 100)])
    days_left = IntegerField(_l("… or when this many working days are left"), default=1,
                             validators=[NumberRange(0, 30)])


class DetectorForm(Form):
    enabled = BooleanField(_l("On"))


def detector_form(detector) -> DetectorForm:
    """The detector's switch and one checked whole-number field per parameter
    (``param_<name>``, 0–10000): the parameters differ from detector to detector."""
    fields = {f"param_{key}": IntegerField(key, min=0, max=10000)
              for key in (detector.params or {})}
    return type("DetectorParamsForm", (DetectorForm,), fields)()


class VerifyForm(Form):
    finding = SelectField(_l("Finding"), choices=[
        SelectChoice("confirmed", _l("Signal confirmed")),
        SelectChoice("dismissed", _l("Signal dismissed"))])
    reason = TextAreaField(_l("Reason (required when dismissed)"),
                           validators=[Optional(), Length(max=4000)])


class DemandForm(Form):
    demand = TextAreaField(_l("Rectification demanded"),
                           validators=[DataRequired(), Length(max=4000)])
    days = IntegerField(_l("Deadline in working days"), default=10,
                        validators=[DataRequired(), NumberRange(1, 120)])


FILES_LABEL = _l("Files: what was done, as evidence (PDF, OFD, JPEG, PNG, Word or Excel; "
                 "at most 5 files of 10 MB each)")


class ReportForm(Form):
    report = TextAreaField(_l("Rectification report (回告)"),
                           validators=[DataRequired(), Length(max=8000)])
    files = MultipleFileField(FILES_LABEL)


class ReturnForm(Form):
    reason = TextAreaField(_l("What is still missing (the department is told)"),
                           validators=[DataRequired(), Length(max=2000)])
    days = IntegerField(_l("New deadline in working days"), default=5,
                        validators=[DataRequired(), NumberRange(1, 120)])


class TransferForm(Form):
    reason = TextAreaField(_l("Why this is a problem lead (the case supervision platform is "
                              "told)"), validators=[DataRequired(), Length(max=2000)])


class CloseForm(Form):
    note = TextAreaField(_l("Closing note"), validators=[Optional(), Length(max=4000)])


class AccountabilityForm(Form):
    person = IntegerField(_l("Who (a person of the region)"), min=1,
                          validators=[DataRequired()])
    what = TextAreaField(_l("What"), validators=[DataRequired(), Length(max=4000)])
    outcome = TextAreaField(_l("Outcome"), validators=[DataRequired(), Length(max=4000)])


class FindingForm(Form):
    department = IntegerField(_l("Department"), min=1, validators=[DataRequired()])
    day = DateField(_l("Day"), validators=[DataRequired()])
    category = SelectField(_l("Category"), choices=[
        SelectChoice("process", _l("Process")), SelectChoice("time_limit", _l("Time limits")),
        SelectChoice("fees", _l("Fees")), SelectChoice("conduct", _l("Conduct")),
        SelectChoice("data", _l("Data reporting")), SelectChoice("other", _l("Other"))])
    severity = SelectField(_l("Severity"), choices=[SelectChoice("minor", _l("Minor")),
                                                    SelectChoice("major", _l("Major"))])
    description = TextAreaField(_l("Finding"), validators=[DataRequired(), Length(max=4000)])


class RunForm(Form):
    month = StringField(_l("Month (YYYY-MM)"), validators=[DataRequired(), Length(max=7)])


class WeightsForm(Form):
    weight_efficiency = IntegerField(_l("Weight: efficiency"), validators=[NumberRange(0, 100)])
    weight_abnormal = IntegerField(_l("Weight: abnormal handling"),
                                   validators=[NumberRange(0, 100)])
    weight_supervision = IntegerField(_l("Weight: daily supervision"),
                                      validators=[NumberRange(0, 100)])
    weight_public = IntegerField(_l("Weight: public rating"),
                                 validators=[NumberRange(0, 100)])
    yellow_points = IntegerField(_l("Points per yellow signal (per 100 cases)"),
                                 validators=[NumberRange(0, 100)])
    red_points = IntegerField(_l("Points per red signal (per 100 cases)"),
                              validators=[NumberRange(0, 100)])
    minor_points = IntegerField(_l("Points per minor finding"), validators=[NumberRange(0, 100)])
    major_points = IntegerField(_l("Points per major finding"), validators=[NumberRange(0, 100)])
    accountability_points = IntegerField(_l("Points per accountability record"),
                                         validators=[NumberRange(0, 100)])
    early_bonus_step = IntegerField(
        _l("Bonus: +1 per this many percentage points of early completion"),
                                    validators=[NumberRange(0, 100)])
    bonus_cap = IntegerField(_l("Bonus cap"), validators=[NumberRange(0, 100)])
    suggestion_below = IntegerField(_l("Send a rectification suggestion below this score"),
                                    validators=[NumberRange(0, 100)])


class LetterReplyForm(Form):
    reply = TextAreaField(_l("What the department has done (整改回告)"),
                          validators=[DataRequired(), Length(max=8000)])
    files = MultipleFileField(FILES_LABEL)


class LetterReviewForm(Form):
    decision = SelectField(_l("Decision"), choices=[
        SelectChoice("accept", _l("Accept the report and close the letter")),
        SelectChoice("return", _l("Return it: more is needed"))])
    note = TextAreaField(_l("Note (required when returned)"),
                         validators=[Optional(), Length(max=2000)])
