"""Forms of the case supervision pages, on the core's checked fields."""
from __future__ import annotations

import wtforms
from wtforms import validators as v

from core.api import DateField, Form, TextAreaField, TextField, _l, coerce_id
from plugins.cases.vocab import (
    CATEGORIES,
    CHANNELS,
    DOCUMENTS,
    OUTCOMES,
    RANKS,
    STAFF_CHANNELS,
    WAYS,
)


def _choices(mapping, codes=None) -> list[tuple[str, str]]:
    return [(code, str(mapping[code])) for code in (codes or mapping)]


class ReportFields(Form):
    """What a report says, for the staff form and the public one."""

    anonymous = wtforms.BooleanField(_l("Report anonymously"))
    reporter_name = TextField(_l("Your name"), max_length=64)
    reporter_id = TextField(_l("Resident ID number"), max_length=18)
    reporter_contact = TextField(_l("Phone"), max_length=20)
    subject_name = TextField(_l("Name of the person concerned"), [v.InputRequired()],
                             max_length=64)
    subject_post = TextField(_l("Their unit and post"), max_length=120)
    subject_region = wtforms.SelectField(_l("Region where they serve"), coerce=coerce_id)
    subject_rank = wtforms.SelectField(_l("Their rank"), choices=[])
    category = wtforms.SelectField(_l("Kind of problem"), choices=[])
    text = TextAreaField(_l("What happened"), [v.InputRequired()], max_length=20000)

    def __init__(self, *args, regions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.subject_region.choices = [(r.id, r.name) for r in regions]
        self.subject_rank.choices = _choices(RANKS)
        self.category.choices = _choices(CATEGORIES)

    def data_dict(self) -> dict:
        return {name: self[name].data for name in (
            "anonymous", "reporter_name", "reporter_id", "reporter_contact", "subject_name",
            "subject_post", "subject_region", "subject_rank", "category", "text")}


class ItemForm(ReportFields):
    """The petitions office registers a letter, visit, 12388 call or transferred item."""

    region = wtforms.SelectField(_l("Registered by (region)"), coerce=coerce_id)
    channel = wtforms.SelectField(_l("Channel"), choices=[])
    transferred_from = TextField(_l("Transferred from"), max_length=100)
    received_on = DateField(_l("Received on"), [v.InputRequired()])

    def __init__(self, *args, regions=(), **kwargs):
        super().__init__(*args, regions=regions, **kwargs)
        self.region.choices = [(r.id, r.name) for r in regions]
        self.channel.choices = _choices(CHANNELS, STAFF_CHANNELS)

    def data_dict(self) -> dict:
        out = super().data_dict()
        out.update(channel=self.channel.data, transferred_from=self.transferred_from.data,
                   received_on=self.received_on.data)
        return out


class RouteForm(Form):
    decision = wtforms.SelectField(_l("Routing"), choices=[
        ("accept", _l("Accept here")), ("send_up", _l("Send up to the higher level")),
        ("transfer_down", _l("Transfer down to the lower level"))])
    note = TextField(_l("Note"), max_length=200)


class FeedbackForm(Form):
    kind = wtforms.SelectField(_l("Feedback"), choices=[
        ("acceptance", _l("Told of the acceptance")), ("result", _l("Told of the result")),
        ("opinion", _l("The reporter's opinion")), ("objection", _l("The reporter's objection"))])
    on = DateField(_l("On"), [v.InputRequired()])
    text = TextAreaField(_l("What was said"), [v.InputRequired()], max_length=2000)


class MessageForm(Form):
    text = TextAreaField(_l("Message"), [v.InputRequired()], max_length=5000)


class PublicReportForm(ReportFields):
    """A citizen's web report: to the commission of a region."""

    region = wtforms.SelectField(_l("Report to the commission of"), coerce=coerce_id)

    def __init__(self, *args, regions=(), **kwargs):
        super().__init__(*args, regions=regions, **kwargs)
        self.region.choices = [(r.id, r.name) for r in regions]


class ReceiptForm(Form):
    code = TextField(_l("Receipt code"), [v.InputRequired()], max_length=40)


class ProposeForm(Form):
    way = wtforms.SelectField(_l("Way of disposal"), choices=[])
    reason = TextAreaField(_l("Reason"), [v.InputRequired()], max_length=2000)
    meeting_ref = TextField(_l("Record of the collective decision"), [v.InputRequired()],
                            max_length=100)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.way.choices = _choices(WAYS)


class DecideForm(Form):
    approve = wtforms.SelectField(_l("Decision"), choices=[
        ("yes", _l("Approve")), ("no", _l("Send back"))])
    note = TextField(_l("Note"), max_length=200)


class AnswerForm(Form):
    on = DateField(_l("Written answer received on"), [v.InputRequired()])


class ReasonForm(Form):
    reason = TextField(_l("Reason"), [v.InputRequired()], max_length=200)


class DocumentForm(Form):
    kind = wtforms.SelectField(_l("Document"), choices=[])
    title = TextField(_l("Title"), [v.InputRequired()], max_length=200)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = _choices(DOCUMENTS)


class AdvanceForm(Form):
    outcome = wtforms.SelectField(_l("Outcome (when the case closes)"), choices=[])
    note = TextField(_l("Note"), max_length=200)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.outcome.choices = [("", "—"), *_choices(OUTCOMES)]


class MemberForm(Form):
    username = TextField(_l("User name"), [v.InputRequired()], max_length=64)
    role = wtforms.SelectField(_l("Role"), choices=[
        ("investigator", _l("Investigator")), ("reviewer", _l("Reviewer")),
        ("granted", _l("Access granted"))])
    reason = TextField(_l("Reason"), [v.InputRequired()], max_length=200)


class ReportBackForm(Form):
    """An office's quarterly report-back (回告) to the petitions office."""

    office = wtforms.SelectField(_l("Office"), choices=[
        ("supervision", _l("Supervision and inspection office")),
        ("investigation", _l("Investigation office"))])
    period = TextField(_l("Quarter"), [v.InputRequired()], max_length=7)
    note = TextAreaField(_l("What became of the items routed to the office"),
                         [v.InputRequired()], max_length=4000)


class StageSettingForm(Form):
    """A case stage's time limit, extension and gate, for this deployment (city-wide)."""

    days = TextField(_l("Time limit (working days)"), [v.InputRequired()], max_length=4)
    extension_days = TextField(_l("Extension (working days, 0: none)"), [v.InputRequired()],
                               max_length=4)
    gate = wtforms.SelectMultipleField(_l("Gate: documents required before leaving"),
                                       choices=[])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.gate.choices = _choices(DOCUMENTS)
