"""Forms of the procurement pages, on the core's checked fields."""
from __future__ import annotations

import datetime as dt

import wtforms
from wtforms import validators as v

from core.api import (
    DateField,
    DecimalField,
    FieldError,
    Form,
    IntegerField,
    TextAreaField,
    TextField,
    _l,
    now,
    parse_datetime,
)
from plugins.procurement.methods import ANNOUNCEMENT_KINDS, CATEGORIES, METHODS

MONEY = {"places": 2, "min": 0, "max": 99999999999999}


class LocalDateTimeField(wtforms.Field):
    """A local date and time (``datetime-local``: ``2026-03-02T09:30``) in QL_TIMEZONE,
    held as naive UTC like every stored time."""

    widget = wtforms.widgets.DateTimeLocalInput()

    def process_formdata(self, valuelist):
        self.data = None
        if not valuelist or not (valuelist[0] or "").strip():
            return
        try:
            naive = parse_datetime(valuelist[0], self.name, require_offset=False)
        except FieldError as exc:
            raise ValueError(exc.message) from None
        zone = now().tzinfo
        self.data = naive.replace(tzinfo=zone).astimezone(dt.UTC).replace(tzinfo=None)

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        local = self.data.replace(tzinfo=dt.UTC).astimezone(now().tzinfo)
        return local.strftime("%Y-%m-%dT%H:%M")


def _choices(mapping) -> list[tuple[str, str]]:
    return [(code, str(getattr(item, "label", item))) for code, item in mapping.items()]


class PlanForm(Form):
    department = wtforms.SelectField(_l("Buying unit"), coerce=int)
    year = IntegerField(_l("Year"), [v.InputRequired()], min=2000, max=2099)
    title = TextField(_l("Title"), [v.InputRequired()], max_length=200)
    category = wtforms.SelectField(_l("Category"), choices=[])
    budget = DecimalField(_l("Budget (yuan)"), [v.InputRequired()], **MONEY)
    method = wtforms.SelectField(_l("Procurement method"), choices=[])
    method_reason = TextAreaField(_l("Reason for the method"), max_length=2000)
    approval_ref = TextField(_l("Approval number of the finance department"), max_length=100)
    expected_month = TextField(_l("Expected month (YYYY-MM)"), max_length=7)
    item_description = TextField(_l("Item"), [v.InputRequired()], max_length=200)
    item_classification = TextField(_l("Catalogue code (品目分类编码)"), [v.InputRequired()],
                                    max_length=16, nfkc=True)
    item_quantity = DecimalField(_l("Quantity"), places=2, min=0, max=99999999)
    item_unit = TextField(_l("Unit"), max_length=16)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.category.choices = _choices(CATEGORIES)
        self.method.choices = _choices(METHODS)


class ProjectForm(Form):
    ceiling = DecimalField(_l("Ceiling price (yuan)"), [v.InputRequired()], **MONEY)
    title = TextField(_l("Title"), max_length=200)
    description = TextAreaField(_l("Description"), max_length=4000)
    agency = TextField(_l("Procurement agency"), max_length=200)
    supplier = wtforms.SelectField(_l("Single supplier"), coerce=int, choices=[],
                                   validate_choice=False)
    original_contract = IntegerField(_l("Contract added to (id)"), min=1)


class NoticeForm(Form):
    kind = wtforms.SelectField(_l("Notice"), choices=[])
    title = TextField(_l("Title"), max_length=200)
    extra_text = TextAreaField(_l("Text"), max_length=4000)
    issued_at = LocalDateTimeField(_l("Documents issued at"))
    deadline = LocalDateTimeField(_l("Bid deadline and opening"))
    new_deadline = LocalDateTimeField(_l("New deadline"))
    affects_bids = wtforms.BooleanField(_l("The correction affects the preparation of bids"))
    custodians = wtforms.SelectMultipleField(_l("Custodians"), coerce=int, choices=[],
                                             validate_choice=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = _choices({k: v for k, v in ANNOUNCEMENT_KINDS.items()
                                      if k in ("intention", "prequalification", "tender",
                                               "competitive", "correction", "termination",
                                               "single_source")})


class AuctionForm(Form):
    starts_at = LocalDateTimeField(_l("Starts at"), [v.InputRequired()])
    ends_at = LocalDateTimeField(_l("Ends at"), [v.InputRequired()])
    step = DecimalField(_l("Decrement step (yuan)"), [v.InputRequired()], **MONEY)
    extension_seconds = IntegerField(_l("Extension (seconds)"), [v.InputRequired()], min=10,
                                     max=3600, default=120)
    max_extension_seconds = IntegerField(_l("Most extension in all (seconds)"),
                                         [v.InputRequired()], min=0, max=86400, default=1800)


class PriceForm(Form):
    price = DecimalField(_l("Price (yuan)"), [v.InputRequired()], **MONEY)


class BidForm(Form):
    price = DecimalField(_l("Bid price (yuan)"), [v.InputRequired()], **MONEY)
    note = TextAreaField(_l("Note"), max_length=2000)


class ContractForm(Form):
    number = TextField(_l("Contract number"), [v.InputRequired()], max_length=40, nfkc=True)
    amount = DecimalField(_l("Amount (yuan)"), [v.InputRequired()], **MONEY)
    signed_on = DateField(_l("Signed on"), [v.InputRequired()])
    period_start = DateField(_l("Period from"))
    period_end = DateField(_l("Period to"))


class ChangeForm(Form):
    kind = wtforms.SelectField(_l("Kind"), choices=[
        ("amendment", _l("Amendment")), ("milestone", _l("Milestone")),
        ("acceptance", _l("Acceptance")), ("payment", _l("Payment"))])
    day = DateField(_l("Day"), [v.InputRequired()])
    title = TextField(_l("What"), [v.InputRequired()], max_length=200)
    amount = DecimalField(_l("Amount (yuan; an amendment may be negative)"), places=2,
                          min=-99999999999999, max=99999999999999)
    passed = wtforms.SelectField(_l("Acceptance result"), choices=[
        ("", "—"), ("yes", _l("Passed")), ("no", _l("Failed"))])


class AcceptanceNoticeForm(Form):
    public_service = wtforms.BooleanField(_l("A public service project: services the "
                                             "government provides to the public "
                                             "(实施条例第四十五条)"))
    extra_text = TextAreaField(_l("Text (the service users' opinions, for instance)"),
                               max_length=4000)


class AgencyReviewForm(Form):
    region = wtforms.SelectField(_l("Region"), coerce=int, choices=[])
    agency = TextField(_l("Central procurement agency"), [v.InputRequired()], max_length=120)
    period = TextField(_l("Period assessed (2026年度, for instance)"), [v.InputRequired()],
                       max_length=40)
    result = TextAreaField(_l("Assessment result"), [v.InputRequired()], max_length=4000)


class ReplyForm(Form):
    reply = TextAreaField(_l("Reply"), [v.InputRequired()], max_length=4000)
    upheld = wtforms.BooleanField(_l("Upheld"))


class SubjectForm(Form):
    subject = TextAreaField(_l("What you object to, and why"), [v.InputRequired()],
                            max_length=4000)


class FlagForm(Form):
    state = wtforms.SelectField(_l("Finding"), choices=[
        ("confirmed", _l("Confirmed: hand over for rectification")),
        ("dismissed", _l("Dismissed: explained"))])
    note = TextAreaField(_l("Note"), [v.InputRequired()], max_length=2000)
    decision = TextAreaField(_l("Handling decision to publish (监督检查处理结果公告)"),
                             max_length=4000)


class InspectionForm(Form):
    decision = TextAreaField(_l("Handling decision"), [v.InputRequired()], max_length=4000)


class PassphraseForm(Form):
    passphrase = wtforms.PasswordField(_l("Custody passphrase"), [v.InputRequired(),
                                                                  v.Length(max=256)])


class EnrolForm(Form):
    old = wtforms.PasswordField(_l("Current passphrase (to change it)"), [v.Length(max=256)])
    passphrase = wtforms.PasswordField(_l("New custody passphrase"),
                                       [v.InputRequired(), v.Length(min=12, max=256)])
    confirm = wtforms.PasswordField(_l("Repeat it"), [v.InputRequired(),
                                                      v.EqualTo("passphrase")])


class RegisterForm(Form):
    name = TextField(_l("Supplier name"), [v.InputRequired()], max_length=200)
    uscc = TextField(_l("Unified social credit code"), [v.InputRequired()], max_length=18,
                     nfkc=True)
    contact = TextField(_l("Contact person"), [v.InputRequired()], max_length=64)
    phone = TextField(_l("Phone"), max_length=20, nfkc=True)
    email = TextField(_l("E-mail"), max_length=120, nfkc=True)
    address = TextField(_l("Address"), max_length=200)
    password = wtforms.PasswordField(_l("Password"), [v.InputRequired(), v.Length(max=128)])
    confirm = wtforms.PasswordField(_l("Repeat the password"),
                                    [v.InputRequired(), v.EqualTo("password")])


class RuleForm(Form):
    enabled = wtforms.BooleanField(_l("On"))
