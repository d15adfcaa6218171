"""Statutory periods (法定期限) of government procurement, each with its article.

Calendar days are counted from the local day a period starts to the local day it ends
(``(end - start).days``); working days with ``core.calendar`` (holidays and 调休 make-up
days included): the working days after the start day up to and including the end day.
A notice that would break a period is refused with the article named.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from core.api import FieldError, _, add_workdays, local_day, workdays_between


@dataclass(frozen=True)
class Period:
    """At least ``days`` (working days if ``working``) from a start to an end."""

    days: int
    working: bool
    basis: str

    def length(self, start: dt.date, end: dt.date) -> int:
        return workdays_between(start, end) if self.working else (end - start).days

    def satisfied(self, start: dt.date, end: dt.date) -> bool:
        return self.length(start, end) >= self.days

    def earliest_end(self, start: dt.date) -> dt.date:
        return add_workdays(start, self.days) if self.working else start + dt.timedelta(
            days=self.days)

    def describe(self) -> str:
        return (_("%(n)d working days", n=self.days) if self.working
                else _("%(n)d days", n=self.days))


# Tender documents issued → bid (response) deadline.
BID_PERIODS = {
    "open_tender": Period(20, False, "政府采购法第三十五条"),
    "invited_tender": Period(20, False, "政府采购法第三十五条"),
    "framework": Period(20, False, "政府采购法第三十五条"),
    "consultation": Period(10, False, "财库〔2014〕214号第十条"),
    "negotiation": Period(3, True, "财政部令第74号第二十九条"),
    "inquiry": Period(3, True, "财政部令第74号第四十五条"),
}
# A correction that affects the preparation of bids → the bid deadline; else it moves.
AMENDMENT_PERIODS = {
    "open_tender": Period(15, False, "财政部令第87号第二十七条"),
    "invited_tender": Period(15, False, "财政部令第87号第二十七条"),
    "framework": Period(15, False, "财政部令第87号第二十七条"),
    "consultation": Period(5, False, "财库〔2014〕214号第十条"),
    "negotiation": Period(3, True, "财政部令第74号第十条"),
    "inquiry": Period(3, True, "财政部令第74号第十条"),
}
SINGLE_SOURCE_PUBLICITY = Period(5, True, "政府采购法实施条例第三十八条")

# Clocks on later steps: (days, working days?, article, what the step is).
CLOCKS = {
    "winner": (5, True, "政府采购法实施条例第四十三条"),
    "result": (2, True, "政府采购法实施条例第四十三条"),
    "contract_sign": (30, False, "政府采购法第四十六条"),
    "contract_publish": (2, True, "政府采购法实施条例第五十条"),
    "contract_file": (7, True, "政府采购法第四十七条"),
    "challenge_reply": (7, True, "政府采购法第五十三条"),
    "complaint_decision": (30, True, "政府采购法第五十六条"),
}
CHALLENGE_WINDOW = Period(7, True, "政府采购法第五十二条")
COMPLAINT_WINDOW = Period(15, True, "政府采购法第五十五条")


def due(kind: str, start: dt.date) -> dt.date:
    days, working, _basis = CLOCKS[kind]
    return add_workdays(start, days) if working else start + dt.timedelta(days=days)


def check_bid_period(method: str, issued_at: dt.datetime, deadline: dt.datetime) -> None:
    """Refuse a deadline too soon after the documents are issued (times are naive UTC)."""
    if deadline <= issued_at:
        raise FieldError("deadline", _("The deadline must come after the documents are "
                                       "issued."))
    period = BID_PERIODS.get(method)
    if period is None:
        return
    start, end = local_day(issued_at), local_day(deadline)
    if not period.satisfied(start, end):
        raise FieldError("deadline", _(
            "The bid deadline must be at least %(period)s after the documents are issued "
            "(%(basis)s): %(start)s → %(end)s is %(n)d; the earliest allowed deadline is "
            "%(earliest)s.", period=period.describe(), basis=period.basis,
            start=start.isoformat(), end=end.isoformat(), n=period.length(start, end),
            earliest=period.earliest_end(start).isoformat()))


def check_amendment(method: str, published: dt.datetime, deadline: dt.datetime,
                    new_deadline: dt.datetime | None) -> dt.datetime:
    """The deadline that holds after a correction affecting bids, published at
    ``published``: the old one if the correction comes early enough, else ``new_deadline``,
    which must then leave the full period (else FieldError naming the article)."""
    period = AMENDMENT_PERIODS.get(method)
    if period is None:
        return new_deadline or deadline
    start = local_day(published)
    if new_deadline is None and period.satisfied(start, local_day(deadline)):
        return deadline
    if new_deadline is None:
        raise FieldError("new_deadline", _(
            "This correction affects the bids and comes less than %(period)s before the "
            "deadline (%(basis)s): postpone the deadline to %(earliest)s or later.",
            period=period.describe(), basis=period.basis,
            earliest=period.earliest_end(start).isoformat()))
    if new_deadline < deadline:
        raise FieldError("new_deadline", _("A correction may postpone the deadline, never "
                                           "bring it forward."))
    if not period.satisfied(start, local_day(new_deadline)):
        raise FieldError("new_deadline", _(
            "The new deadline must leave at least %(period)s after the correction "
            "(%(basis)s): the earliest is %(earliest)s.", period=period.describe(),
            basis=period.basis, earliest=period.earliest_end(start).isoformat()))
    return new_deadline


def check_single_source_publicity(published: dt.datetime, award_at: dt.datetime) -> None:
    start, end = local_day(published), local_day(award_at)
    if not SINGLE_SOURCE_PUBLICITY.satisfied(start, end):
        raise FieldError("supplier", _(
            "A single-source purchase is awarded only after its publicity of at least "
            "%(period)s (%(basis)s): not before %(earliest)s.",
            period=SINGLE_SOURCE_PUBLICITY.describe(), basis=SINGLE_SOURCE_PUBLICITY.basis,
            earliest=SINGLE_SOURCE_PUBLICITY.earliest_end(start).isoformat()))
