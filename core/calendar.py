"""Working-day calendar (工作日): statutory holidays and adjusted working days (调休).

The statutory schedule comes from the ``chinesecalendar`` package (years it covers);
other years fall back to Monday–Friday. A deployment's overrides (a local holiday, an
extra working day) are stored in the database and win. Every day is materialised in
``calendar_day`` with a running count of working days (``seq``), so

* ``add_workdays(start, n)`` is the day whose ``seq`` is ``seq(start) + n``;
* ``workdays_between(a, b)`` is ``seq(b) - seq(a)`` (working days after ``a`` up to and
  including ``b``: the day a period starts is not counted);
* set-based SQL (e.g. the e-supervision sweep) can join on the table.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TypeVar

import chinese_calendar
from peewee import Expression, fn

from core.db import db
from core.models import CalendarDay, CalendarOverride

K = TypeVar("K")
FIRST_DAY = dt.date(2000, 1, 1)
LAST_DAY = dt.date(2045, 12, 31)


class CalendarError(ValueError):
    """A date outside the calendar, or a calendar not yet built."""


def statutory_workday(day: dt.date) -> tuple[bool, str]:
    """(is working day, source) from the published schedule, else weekdays."""
    try:
        return chinese_calendar.is_workday(day), "statutory"
    except NotImplementedError:
        return day.weekday() < 5, "weekend"


def rebuild(start: dt.date = FIRST_DAY, end: dt.date = LAST_DAY) -> int:
    """(Re)compute every day from ``start`` to ``end`` with the overrides applied."""
    _forget()
    overrides = {o.day: o.workday for o in CalendarOverride.select()}
    rows, seq, day = [], 0, start
    with db.atomic():
        if start > FIRST_DAY:
            prev = CalendarDay.get_or_none(CalendarDay.day == start - dt.timedelta(days=1))
            seq = prev.seq if prev else 0
        while day <= end:
            if day in overrides:
                work, source = overrides[day], "override"
            else:
                work, source = statutory_workday(day)
            seq += 1 if work else 0
            rows.append({"day": day, "workday": work, "seq": seq, "source": source})
            day += dt.timedelta(days=1)
        CalendarDay.delete().where(CalendarDay.day.between(start, end)).execute()
        for i in range(0, len(rows), 500):
            CalendarDay.insert_many(rows[i:i + 500]).execute()
    return len(rows)


def ensure() -> None:
    """Build the calendar if it is empty (called by ``db upgrade``)."""
    if not CalendarDay.select().exists():
        rebuild()


def set_override(day: dt.date, workday: bool, note: str, by: str) -> CalendarOverride:
    """Record a deployment's ruling on ``day`` and renumber the days after it."""
    _check(day)
    with db.atomic():
        CalendarOverride.delete().where(CalendarOverride.day == day).execute()
        row = CalendarOverride.create(day=day, workday=workday, note=note, created_by=by)
        rebuild(day, LAST_DAY)
    return row


def clear_override(day: dt.date) -> bool:
    with db.atomic():
        n = CalendarOverride.delete().where(CalendarOverride.day == day).execute()
        if n:
            rebuild(day, LAST_DAY)
    return bool(n)


def _check(day: dt.date) -> None:
    if not isinstance(day, dt.date) or isinstance(day, dt.datetime):
        raise CalendarError(f"expected a date, got {day!r}")
    if not FIRST_DAY <= day <= LAST_DAY:
        raise CalendarError(f"{day} is outside the calendar ({FIRST_DAY} to {LAST_DAY})")


class _Day:
    __slots__ = ("day", "seq", "workday")

    def __init__(self, day, workday, seq):
        self.day, self.workday, self.seq = day, workday, seq


class _Window:
    """Calendar rows read in windows and kept for one app context (a request or a job):
    a run of lookups near each other costs one query, and no process keeps calendar
    state that an administrator's change could leave stale."""

    SPAN_BEFORE, SPAN_AFTER = 45, 400

    def __init__(self):
        self.by_day: dict[dt.date, _Day] = {}
        self.by_seq: dict[int, dt.date] = {}

    def load(self, day: dt.date) -> None:
        lo = max(FIRST_DAY, day - dt.timedelta(days=self.SPAN_BEFORE))
        hi = min(LAST_DAY, day + dt.timedelta(days=self.SPAN_AFTER))
        rows = (CalendarDay.select(CalendarDay.day, CalendarDay.workday, CalendarDay.seq)
                .where(CalendarDay.day.between(lo, hi)).tuples())
        for d, work, seq in rows:
            d = d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d))
            self.by_day[d] = _Day(d, bool(work), seq)
            if work:
                self.by_seq[seq] = d


def _window() -> _Window:
    from flask import g, has_app_context
    if not has_app_context():
        return _Window()
    win = g.get("_ql_calendar")
    if win is None:
        win = g._ql_calendar = _Window()
    return win


def _forget() -> None:
    from flask import g, has_app_context
    if has_app_context():
        g.pop("_ql_calendar", None)


def _row(day: dt.date) -> _Day:
    _check(day)
    win = _window()
    row = win.by_day.get(day)
    if row is None:
        win.load(day)
        row = win.by_day.get(day)
    if row is None:
        raise CalendarError("the working-day calendar is not built: run `flask db upgrade`")
    return row


def is_workday(day: dt.date) -> bool:
    """True if ``day`` is a working day (weekday not a holiday, or a 调休 working day)."""
    return _row(day).workday


def add_workdays(start: dt.date, n: int) -> dt.date:
    """The ``n``-th working day after ``start`` (``start`` itself is not counted).

    ``n == 0`` returns ``start`` if it is a working day, else the next working day.
    Negative ``n`` counts backwards.
    """
    base = _row(start)
    if n == 0:
        if base.workday:
            return start
        n = 1
    if n > 0:
        target = base.seq + n
    else:
        target = base.seq + n + (0 if base.workday else 1)
    win = _window()
    found = win.by_seq.get(target)
    if found is None:
        row = (CalendarDay.select(CalendarDay.day)
               .where((CalendarDay.seq == target) & (CalendarDay.workday == True))
               .first())
        if row is None:
            raise CalendarError(f"{start} + {n} working days is outside the calendar")
        win.load(row.day)
        found = row.day
    return found


def workdays_between(a: dt.date, b: dt.date) -> int:
    """Working days after ``a`` up to and including ``b`` (negative if ``b < a``)."""
    return _row(b).seq - _row(a).seq


def subtract_workdays(day: dt.date, n: int) -> dt.date:
    """The working day from which ``day`` is ``n`` working days on: the inverse of
    ``workdays_between`` (``workdays_between(result, day) == n``). For a working day this
    is the ``n``-th working day before it; for a holiday, counting starts from the last
    working day before the holiday."""
    if n < 0:
        raise CalendarError(f"subtract_workdays: n must not be negative, got {n}")
    target = _row(day).seq - n
    found = _window().by_seq.get(target)
    if found is None:
        first = (CalendarDay.select(CalendarDay.day)
                 .where((CalendarDay.seq == target) & (CalendarDay.workday == True)).first())
        if first is None:
            raise CalendarError(f"{day} - {n} working days is outside the calendar")
        _window().load(first.day)
        found = first.day
    return found


def workdays_left(clocks: Mapping[K, tuple[dt.date, dt.date]]) -> dict[K, int]:
    """Working days left of many clocks at once, with one query: for each key, the
    ``(day the clock stands at, due day)`` pair gives ``workdays_between(at, due)``
    (negative once the clock stands past its due day). A stopped clock stands at the day
    it stopped; a running one at today."""
    days = {d for pair in clocks.values() for d in pair}
    for d in days:
        _check(d)
    seq = dict(CalendarDay.select(CalendarDay.day, CalendarDay.seq)
               .where(CalendarDay.day.in_(sorted(days))).tuples()) if days else {}
    seq = {(d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d))): n
           for d, n in seq.items()}
    missing = days - set(seq)
    if missing:
        raise CalendarError("the working-day calendar is not built: run `flask db upgrade`")
    return {key: seq[due] - seq[at] for key, (at, due) in clocks.items()}


def sql_workdays_between(a, b):
    """SQL for ``workdays_between(a, b)`` of two date columns or values, for set-based
    statements over many rows (each side one lookup by primary key)."""
    return Expression(_seq_of(b), "-", _seq_of(a))  # a query's own "-" is EXCEPT


def _seq_of(day):
    alias = CalendarDay.alias()
    return alias.select(alias.seq).where(alias.day == day)


def month_bounds(year: int, month: int) -> tuple[dt.date, dt.date]:
    """The first and the last day of a month."""
    first = dt.date(year, month, 1)
    nxt = dt.date(year + month // 12, month % 12 + 1, 1)
    return first, nxt - dt.timedelta(days=1)


def workdays_in(a: dt.date, b: dt.date) -> list[dt.date]:
    """The working days in the closed range ``[a, b]``."""
    _check(a)
    _check(b)
    return [r.day for r in CalendarDay.select(CalendarDay.day)
            .where(CalendarDay.day.between(a, b) & (CalendarDay.workday == True))
            .order_by(CalendarDay.day)]


def month_view(year: int, month: int) -> list[CalendarDay]:
    first, last = month_bounds(year, month)
    _check(first)
    _check(last)
    return list(CalendarDay.select().where(CalendarDay.day.between(first, last))
                .order_by(CalendarDay.day))


def coverage() -> tuple[int, int]:
    """The range of years the statutory schedule covers (others use weekdays)."""
    years = [d.year for d in chinese_calendar.holidays] if hasattr(chinese_calendar, "holidays") \
        else []
    return (min(years), max(years)) if years else (0, 0)


def stats() -> dict:
    return {"days": CalendarDay.select(fn.COUNT(CalendarDay.day)).scalar(),
            "overrides": CalendarOverride.select().count()}
