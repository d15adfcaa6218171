"""Forms of the service hall: filing a case, moving it, the public lookup and rating."""
from __future__ import annotations

from flask_wtf.file import FileField
from wtforms import (
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from core.api import DateField, Form, IntegerField, MonthField, _l, coerce_id
from plugins.eservice.models import RATINGS, SPECIAL_KINDS

RIGHTS_NOTICE = _l("If you disagree, you may apply for administrative review within 60 days "
                   "or bring an administrative lawsuit within 6 months of receiving this "
                   "notice.")


class MultiCheckbox(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class FileCaseForm(Form):
    """A walk-in application taken at the window (收件)."""

    applicant_name = StringField(_l("Applicant's name"),
                                 validators=[DataRequired(), Length(max=64)])
    id_number = StringField(_l("Resident ID number"),
                            validators=[DataRequired(), Length(max=24)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=20)])
    received = MultiCheckbox(_l("Materials received"), coerce=int, validate_choice=False)
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])


class ApplyForm(Form):
    """An application filed online by the applicant (网上申报)."""

    applicant_name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=64)])
    id_number = StringField(_l("Resident ID number"),
                            validators=[DataRequired(), Length(max=24)])
    phone = StringField(_l("Phone"), validators=[DataRequired(), Length(max=20)])
    received = MultiCheckbox(_l("Materials I will provide"), coerce=int,
                             validate_choice=False)


class TransitionForm(Form):
    """Every input a transition may need; the service decides which are required."""

    note = TextAreaField(_l("Internal note"), validators=[Optional(), Length(max=2000)])
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=2000)])
    legal_basis = StringField(_l("Legal basis"), validators=[Optional(), Length(max=500)])
    rights_notice = TextAreaField(_l("Rights to review and litigation"),
                                  validators=[Optional(), Length(max=1000)])
    missing = MultiCheckbox(_l("Missing materials"), validate_choice=False)
    missing_other = TextAreaField(_l("Other missing items (one a line)"),
                                  validators=[Optional(), Length(max=2000)])
    decision = RadioField(_l("Decision"), choices=[SelectChoice("approved", _l("Approved")),
                                                   SelectChoice("denied", _l("Denied"))],
                          validators=[Optional()], validate_choice=False)
    procedure = SelectField(_l("Special procedure"),
                            choices=[SelectChoice("", "—")]
                            + [SelectChoice(k, v) for k, v in SPECIAL_KINDS.items()],
                            validate_choice=False)
    expected_days = IntegerField(_l("Expected length (working days)"),
                                 validators=[Optional()])
    amount = StringField(_l("Amount charged (yuan)"), validators=[Optional(), Length(max=16)])

    def missing_list(self) -> list[str]:
        extra = [line.strip() for line in (self.missing_other.data or "").splitlines()]
        return [m for m in (self.missing.data or []) if m] + [m for m in extra if m]


class LookupForm(Form):
    """Public progress lookup: serial number and ID number, nothing else.

    The app-wide CSRFProtect checks the token of every POST before the view runs; the
    form does not check it a second time (the lookup is the hottest public page)."""

    class Meta:
        csrf = False

    serial = StringField(_l("Serial number"), validators=[DataRequired(), Length(max=32)])
    id_number = StringField(_l("Resident ID number"),
                            validators=[DataRequired(), Length(max=24)])


class RatingForm(LookupForm):
    """The applicant's rating (好差评) of a closed case."""

    rating = RadioField(_l("Rating"), choices=[SelectChoice(str(k), v)
                                               for k, v in RATINGS.items()],
                        validators=[DataRequired()])
    comment = TextAreaField(_l("Comment (optional)"), validators=[Optional(), Length(max=1000)])


class DelegationForm(Form):
    """A delegation (委托) of a post's case steps to a colleague, for a bounded period."""

    post_id = SelectField(_l("Post delegated"), choices=[], validators=[DataRequired()])
    delegate_id = SelectField(_l("Delegated to"), choices=[], validators=[DataRequired()])
    valid_from = DateField(_l("From"), validators=[DataRequired()])
    valid_until = DateField(_l("Until (inclusive)"), validators=[DataRequired()])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=500)])


class SupplementForm(LookupForm):
    """The online supplement (网上补正): serial and ID number again, the files come with it."""


class HallContactForm(Form):
    """The hall's address and contact for a region (named on the receipt)."""

    address = StringField(_l("Hall address"), validators=[DataRequired(), Length(max=200)])
    phone = StringField(_l("Contact phone"), validators=[DataRequired(), Length(max=32)])
    hours = StringField(_l("Opening hours"), validators=[Optional(), Length(max=100)])


class ImportForm(Form):
    """Catalogue import: a CSV or XLSX file in the documented layout."""

    file = FileField(_l("CSV or XLSX file"))
    token = HiddenField()


class RectifyForm(Form):
    response = TextAreaField(_l("Follow-up and rectification"),
                             validators=[DataRequired(), Length(max=4000)])


class StatsFilterForm(Form):
    """The public statistics' filter: a region (and the regions below it), one of its
    departments, one month — each optional."""

    class Meta:
        csrf = False

    region = SelectField(_l("Region"), choices=[], default="")
    department = SelectField(_l("Department"), choices=[], default="")
    month = MonthField(_l("Month"), validators=[Optional()])

    def department_id(self) -> int | None:
        return coerce_id(self.department.data) if self.department.data else None
