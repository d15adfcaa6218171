"""WTForms on the checked parser: fields that cannot carry hostile input into a service.

Every field here parses through ``core.parse`` (bounded integers, decimals written in
digits, dates within range, clean text with a length limit), so a form that validates holds
only values the database and the rules can take. :class:`Form` is the base form of the app:
it cleans every text field (also plain WTForms ``StringField``s, with their ``Length``
limit or a default one) and maps a service's :class:`~core.errors.FieldError` onto the
field it names.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import wtforms
from flask_wtf import FlaskForm
from wtforms import validators as v
from wtforms.widgets import DateInput, MonthInput, NumberInput, TextInput

from core import parse
from core.errors import FieldError

DEFAULT_TEXT_MAX = 2000


def coerce_id(value) -> int:
    """``coerce=`` for a SelectField of record ids: a bounded positive integer (ValueError
    otherwise, which WTForms reports as an invalid choice)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return parse.parse_id(value, "id")
    return parse.parse_id(str(value), "id")


class _Parsed(wtforms.Field):
    """A field whose text is parsed by one ``core.parse`` function."""

    widget = TextInput()

    def _parse(self, text: str):
        raise NotImplementedError

    def process_formdata(self, valuelist):
        if not valuelist or parse._blank(valuelist[0]):
            self.data = None
            return
        try:
            self.data = self._parse(valuelist[0])
        except FieldError as exc:
            self.data = None
            raise ValueError(exc.message) from None

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else self._format(self.data)

    def _format(self, data) -> str:
        return str(data)


class IntegerField(_Parsed):
    """A whole number within [min, max] (default: a signed 64-bit column)."""

    widget = NumberInput()

    def __init__(self, label=None, validators=None, *, min: int | None = None,
                 max: int | None = None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.min, self.max = min, max

    def _parse(self, text):
        return parse.parse_int(text, self.name, min=self.min, max=self.max)


class DecimalField(_Parsed):
    """A decimal written in digits (no ``1E+30``), at most ``places`` decimals."""

    def __init__(self, label=None, validators=None, *, places: int = 2, min=None, max=None,
                 max_digits: int = parse.DECIMAL_MAX_DIGITS, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.places, self.min, self.max, self.max_digits = places, min, max, max_digits

    def _parse(self, text) -> Decimal:
        return parse.parse_decimal(text, self.name, places=self.places, min=self.min,
                                   max=self.max, max_digits=self.max_digits)


class DateField(_Parsed):
    """A date ``YYYY-MM-DD`` within [min, max] (default 1900–2099); ``min``/``max`` may
    be callables (e.g. ``core.api.today``) evaluated when the form is submitted."""

    widget = DateInput()

    def __init__(self, label=None, validators=None, *, min=None, max=None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.min, self.max = min, max

    def _bound(self, value):
        return value() if callable(value) else value

    def _parse(self, text) -> dt.date:
        return parse.parse_date(text, self.name, min=self._bound(self.min),
                                max=self._bound(self.max))

    def _format(self, data) -> str:
        return data.isoformat()


class MonthField(DateField):
    """A month ``YYYY-MM``, its data the first day of the month."""

    widget = MonthInput()

    def _parse(self, text) -> dt.date:
        return parse.parse_month(text, self.name, min=self._bound(self.min),
                                 max=self._bound(self.max))

    def _format(self, data) -> str:
        return data.strftime("%Y-%m")


class TextField(wtforms.StringField):
    """One line of text: control and invisible characters refused, at most
    ``max_length`` characters; ``nfkc`` where the domain's rule is NFKC (codes, names of
    accounts)."""

    def __init__(self, label=None, validators=None, *, max_length: int, nfkc: bool = False,
                 **kwargs):
        validators = list(validators or [])
        validators.append(v.Length(max=max_length))
        super().__init__(label, validators, **kwargs)
        self.max_length, self.nfkc = max_length, nfkc

    multiline = False

    def process_formdata(self, valuelist):
        self.data = ""
        if valuelist:
            try:
                self.data = parse.clean_text(valuelist[0], self.name,
                                             max_length=self.max_length,
                                             multiline=self.multiline, nfkc=self.nfkc)
            except FieldError as exc:
                raise ValueError(exc.message) from None


class TextAreaField(TextField):
    """Several lines of text, with the same checks as :class:`TextField`."""

    widget = wtforms.TextAreaField.widget
    multiline = True


class NextField(wtforms.HiddenField):
    """The page to go back to (``next``): left as sent, because it is checked by
    ``safe_redirect_target``, which replaces a hostile value by the home page rather than
    refusing the whole form."""


def _length_limit(field) -> int:
    for validator in field.validators:
        if isinstance(validator, v.Length) and validator.max and validator.max > 0:
            return validator.max
    return DEFAULT_TEXT_MAX


class Form(FlaskForm):
    """The app's base form: every text field cleaned and limited, services' FieldErrors
    shown on the field they name."""

    def validate(self, extra_validators=None) -> bool:
        ok = True
        for field in self:
            if (isinstance(field, wtforms.StringField)
                    and not isinstance(field, (TextField, NextField, wtforms.PasswordField))
                    and field.raw_data):
                try:
                    field.data = parse.clean_text(
                        field.raw_data[0], field.name, max_length=_length_limit(field),
                        multiline=isinstance(field, wtforms.TextAreaField))
                except FieldError as exc:
                    field.process_errors.append(exc.message)
                    ok = False
        return super().validate(extra_validators) and ok

    def apply_error(self, exc: FieldError) -> None:
        """Show a service's refusal on the field it names (else above the form)."""
        for name, message in exc.errors.items():
            field = self._fields.get(name)
            if field is not None:
                field.errors = [*(field.errors or []), message]
            else:
                self.form_errors.append(message)

    @property
    def first_error(self) -> str:
        """The first error, with the field's label: for answers that do not re-render
        the form (an HTMX fragment, a flash message)."""
        for message in self.form_errors:
            return str(message)
        for name, messages in self.errors.items():
            if name is not None and messages:
                return f"{self[name].label.text}: {messages[0]}"
        return ""
