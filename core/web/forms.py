"""Forms of the core's administration pages: an on/off switch and a calendar ruling."""
from __future__ import annotations

from wtforms import SelectField

from core.forms import Form, TextField
from core.i18n import _l


class SwitchForm(Form):
    """On or off: a plugin for a region, an administrator's account."""

    state = SelectField(_l("State"), choices=[("on", _l("On")), ("off", _l("Off"))])


class CalendarRulingForm(Form):
    """A ruling on one day of the working-day calendar (or its undoing)."""

    action = SelectField(_l("Ruling"), choices=[("workday", _l("Make working day")),
                                                ("restday", _l("Make rest day")),
                                                ("clear", _l("Undo ruling"))])
    note = TextField(_l("Note"), max_length=200)


def submitted(form: Form, field: str) -> Form:
    """The form when it validates, else FieldError (422) naming the first bad field:
    for buttons that post a form and expect no page of errors back."""
    from core.errors import FieldError
    if not form.validate():
        name = next((n for n, errors in form.errors.items() if errors), field)
        raise FieldError(name, form.first_error)
    return form
