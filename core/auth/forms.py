"""Login, second-factor and password forms."""
from __future__ import annotations

from wtforms import (
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from core.forms import Form, IntegerField, NextField
from core.i18n import LOCALES, _l


class LoginForm(Form):
    username = StringField(_l("User name"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=128)])


class TotpForm(Form):
    code = StringField(_l("Six-digit code"), validators=[DataRequired(), Length(min=6, max=7)])


class LocaleForm(Form):
    """The language switch of the page header (``next`` is checked by
    safe_redirect_target, which falls back to the home page)."""

    locale = SelectField(_l("Language"), choices=[(code, code) for code in LOCALES])
    next = NextField()


class RegionForm(Form):
    """The acting-region switch of the page header."""

    region_id = IntegerField(_l("Acting region"), min=1)
    next = NextField()


class PasswordForm(Form):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    new = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=128)])
    confirm = PasswordField(_l("Repeat the new password"),
                            validators=[DataRequired(), EqualTo("new", message=_l(
                                "The two new passwords differ."))])


class AccountForm(Form):
    """A new account for a person (the system administrator's form)."""

    username = StringField(_l("User name"), validators=[DataRequired(), Length(max=64)])
    name = StringField(_l("Person's name"), validators=[DataRequired(), Length(max=64)])
    region_id = SelectField(_l("Region"), coerce=int, validate_choice=True)
    email = StringField(_l("E-mail"), validators=[Optional(), Length(max=120), Regexp(
        r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=_l("Expected an e-mail address."))])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=20)])
    password = PasswordField(_l("Initial password"),
                             validators=[DataRequired(), Length(max=128)])


class ResetPasswordForm(Form):
    password = PasswordField(_l("Temporary password"),
                             validators=[DataRequired(), Length(max=128)])


class RoleForm(Form):
    """A custom role: a code, a label and permissions from the hook registry."""

    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=64)])
    label = StringField(_l("Label"), validators=[DataRequired(), Length(max=100)])
    permissions = SelectMultipleField(_l("Permissions"), validate_choice=True,
                                      widget=ListWidget(prefix_label=False),
                                      option_widget=CheckboxInput())


class GrantForm(Form):
    role_id = SelectField(_l("Role"), coerce=int, validate_choice=True)
    region_id = SelectField(_l("Region"), coerce=int, validate_choice=True)
