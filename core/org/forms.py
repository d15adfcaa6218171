"""Organisation forms: create and inline-edit forms, post holdings, import upload.

The forms check shape (required, length, type); the rules live in core.org.services."""
from __future__ import annotations

from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from core.forms import DateField, Form, IntegerField
from core.i18n import _l

RISK_CHOICES = [SelectChoice(1, _l("1 — low")), SelectChoice(2, _l("2 — medium")),
                SelectChoice(3, _l("3 — high"))]
LEVEL_CHOICES = [SelectChoice("city", _l("City")), SelectChoice("district", _l("District")),
                 SelectChoice("county", _l("County")),
                 SelectChoice("county_city", _l("County-level city"))]


class RegionEditForm(Form):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=6)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=64)])
    level = SelectField(_l("Level"), choices=LEVEL_CHOICES)
    sort = IntegerField(_l("Sort"), default=0, validators=[Optional()])


class RegionForm(RegionEditForm):
    parent_id = SelectField(_l("Part of"), coerce=int, validators=[DataRequired()])


class DepartmentEditForm(Form):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=16)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    short_name = StringField(_l("Short name"), validators=[Length(max=32)])
    is_supervision_office = BooleanField(_l("Supervision office"))
    sort = IntegerField(_l("Sort"), default=0, validators=[Optional()])


class DepartmentForm(DepartmentEditForm):
    region_id = SelectField(_l("Region"), coerce=int, validators=[DataRequired()])


class PostEditForm(Form):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=100)])
    risk_level = SelectField(_l("Risk level"), coerce=int, choices=RISK_CHOICES, default=1)
    is_head = BooleanField(_l("Head of the department"))


class PostForm(PostEditForm):
    department_id = SelectField(_l("Department"), coerce=int, validators=[DataRequired()])


class PersonEditForm(Form):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=64)])
    phone = StringField(_l("Phone"), validators=[Length(max=20)])
    email = StringField(_l("E-mail"), validators=[Length(max=120)])


class PersonForm(PersonEditForm):
    region_id = SelectField(_l("Region"), coerce=int, validators=[DataRequired()])


class HoldingForm(Form):
    post_id = SelectField(_l("Post"), coerce=int, validators=[DataRequired()])
    start = DateField(_l("From"), validators=[DataRequired()])
    end = DateField(_l("Until"), validators=[Optional()])


class EndHoldingForm(Form):
    end = DateField(_l("Ended on"), validators=[DataRequired()])


class ImportForm(Form):
    kind = SelectField(_l("What the file holds"),
                       choices=[SelectChoice("people", _l("People with their posts")),
                                SelectChoice("departments", _l("Departments"))])
    file = FileField(_l("CSV or XLSX file"), validators=[FileRequired()])
