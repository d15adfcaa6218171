"""Login, second-factor and password forms."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from core.i18n import _l


class LoginForm(FlaskForm):
    username = StringField(_l("User name"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=128)])


class TotpForm(FlaskForm):
    code = StringField(_l("Six-digit code"), validators=[DataRequired(), Length(min=6, max=7)])


class PasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    new = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=128)])
    confirm = PasswordField(_l("Repeat the new password"),
                            validators=[DataRequired(), EqualTo("new", message=_l(
                                "The two new passwords differ."))])
