"""The audit viewer's filter form (read from the query string or the export form)."""
from __future__ import annotations

from wtforms import SelectField, StringField
from wtforms.fields import SelectChoice
from wtforms.validators import Length, Optional

from core.forms import DateField, Form
from core.i18n import _l


class AuditFilterForm(Form):
    """Filters of the audit viewer; all optional."""

    class Meta:
        csrf = False

    user = StringField(_l("User"), validators=[Optional(), Length(max=64)])
    action = StringField(_l("Action"), validators=[Optional(), Length(max=64)])
    object_type = StringField(_l("Object type"), validators=[Optional(), Length(max=64)])
    object_id = StringField(_l("Object id"), validators=[Optional(), Length(max=64)])
    region = SelectField(_l("Region"), choices=[], validators=[Optional()])
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])
    outcome = SelectField(_l("Outcome"), validators=[Optional()],
                          choices=[SelectChoice("", _l("Any")),
                                   SelectChoice("success", _l("Succeeded")),
                                   SelectChoice("failure", _l("Failed"))])

    def validate_date_to(self, field) -> None:
        from wtforms.validators import ValidationError
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end date is before the start date."))
