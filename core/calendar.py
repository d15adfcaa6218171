"""Working-day calendar (工作日): statutory holidays and adjusted working days (调休).

Each year's days come from the first source that has it:

* ``published`` — the State Council's schedule as an administrator imported it
  (:func:`import_schedule`);
* ``statutory`` — the schedule shipped in the ``chinesecalendar`` package (years it covers);
* ``provisional`` — for a later year, the holidays the law fixes (``core.holidays``), with
  no adjusted working weekends: marked provisional until the schedule arrives;
* ``weekend`` — Monday to Friday (years before the amended law that no source covers).

A deployment's own rulings (``override``: a local holiday, an extra working day) win over
all. Every day is materialised in ``calendar_day`` with a running count of working days
(``seq``), so

* ``add_workdays(start, n)`` is the day whose ``seq`` is ``seq(start) + n``;
* ``workdays_between(a, b)`` is ``seq(b) - seq(a)`` (working days after ``a`` up to and
  including ``b``: the day a period starts is not counted);
* set-based SQL (e.g. the e-supervision sweep) can count with ``sql_workdays_between``.

When a source changes days already stored (a newer package, an imported schedule, a
ruling), the calendar is re-numbered: the change is recorded (``CalendarChange``, audited)
and published as the core event ``core.calendar.changed`` so each plugin re-numbers its
clocks — a deadline already communicated keeps its date, and the plugin records that.
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeVar

import chinese_calendar
from peewee import Expression, fn

from core import holidays
from core.db import db, utcnow
from core.i18n import _, _l, source_text
from core.models import CalendarChange, CalendarDay, CalendarOverride, CalendarSchedule

K = TypeVar("K")
FIRST_DAY = dt.date(2000, 1, 1)
LAST_DAY = dt.date(2045, 12, 31)
CHANGED_EVENT = "core.calendar.changed"
PUBLISH_MONTH = 10  # the State Council publishes next year's schedule from about October

HOLIDAY_LABELS = {
    "new_year": _l("New Year's Day"), "spring_festival": _l("Spring Festival"),
    "tomb_sweeping": _l("Tomb-sweeping Day"), "labour_day": _l("Labour Day"),
    "dragon_boat": _l("Dragon Boat Festival"), "mid_autumn": _l("Mid-autumn Festival"),
    "national_day": _l("National Day"), "anti_fascist_70th": _l("Victory Day (70th)"),
}
_PACKAGE_CODES = {"new_years_day": "new_year", "spring_festival": "spring_festival",
                  "tomb_sweeping_day": "tomb_sweeping", "labour_day": "labour_day",
                  "dragon_boat_festival": "dragon_boat", "mid_autumn_festival": "mid_autumn",
                  "national_day": "national_day", "anti_fascist_70th_day": "anti_fascist_70th"}


class CalendarError(ValueError):
    """A date outside the calendar, or a calendar not yet built."""


@dataclass(frozen=True)
class Ruling:
    """What a source says of one day."""

    workday: bool
    source: str
    holiday: str = ""


@lru_cache(maxsize=1)
def package_years() -> tuple[int, int]:
    """The years the ``chinesecalendar`` package's schedule covers."""
    years = [d.year for d in getattr(chinese_calendar, "holidays", {})]
    return (min(years), max(years)) if years else (0, -1)


def _package_code(day: dt.date) -> str:
    _on, name = chinese_calendar.get_holiday_detail(day)
    if not name:
        return ""
    for member in chinese_calendar.Holiday:
        if member.value == name:
            return _PACKAGE_CODES.get(member.name, member.name)
    return ""


def year_rulings(year: int, published: Mapping[dt.date, CalendarSchedule] | None = None
                 ) -> dict[dt.date, Ruling]:
    """Every day of ``year`` as its first source rules it (overrides not applied)."""
    days = [dt.date(year, 1, 1) + dt.timedelta(days=i)
            for i in range((dt.date(year + 1, 1, 1) - dt.date(year, 1, 1)).days)]
    published = {d: r for d, r in (published or {}).items() if d.year == year}
    if published:
        return {d: Ruling(published[d].workday, "published", published[d].holiday)
                if d in published else Ruling(d.weekday() < 5, "published") for d in days}
    first, last = package_years()
    if first <= year <= last:
        return {d: Ruling(chinese_calendar.is_workday(d), "statutory", _package_code(d))
                for d in days}
    if year >= holidays.FIRST_YEAR:
        off = {h.day: h.code for h in holidays.derive(year)}
        return {d: Ruling(d.weekday() < 5 and d not in off, "provisional", off.get(d, ""))
                for d in days}
    return {d: Ruling(d.weekday() < 5, "weekend") for d in days}


def _rulings(start: dt.date, end: dt.date) -> dict[dt.date, Ruling]:
    """The rulings of every day from ``start`` to ``end``, overrides applied."""
    published = {r.day: r for r in CalendarSchedule.select()
                 .where(CalendarSchedule.day.between(start, end))}
    overrides = {o.day: o for o in CalendarOverride.select()
                 .where(CalendarOverride.day.between(start, end))}
    out: dict[dt.date, Ruling] = {}
    for year in range(start.year, end.year + 1):
        for day, ruling in year_rulings(year, published).items():
            if start <= day <= end:
                ov = overrides.get(day)
                out[day] = Ruling(ov.workday, "override", ruling.holiday) if ov else ruling
    return out


def rebuild(start: dt.date = FIRST_DAY, end: dt.date = LAST_DAY) -> int:
    """(Re)compute every day from ``start`` to ``end`` with the overrides applied."""
    _forget()
    rulings = _rulings(start, end)
    rows, seq = [], 0
    with db.atomic():
        if start > FIRST_DAY:
            prev = CalendarDay.get_or_none(CalendarDay.day == start - dt.timedelta(days=1))
            seq = prev.seq if prev else 0
        for day in sorted(rulings):
            r = rulings[day]
            seq += 1 if r.workday else 0
            rows.append({"day": day, "workday": r.workday, "seq": seq, "source": r.source,
                         "holiday": r.holiday})
        CalendarDay.delete().where(CalendarDay.day.between(start, end)).execute()
        for i in range(0, len(rows), 500):
            CalendarDay.insert_many(rows[i:i + 500]).execute()
    return len(rows)


def _stored(start: dt.date, end: dt.date) -> dict[dt.date, Ruling]:
    rows = (CalendarDay.select(CalendarDay.day, CalendarDay.workday, CalendarDay.source,
                               CalendarDay.holiday)
            .where(CalendarDay.day.between(start, end)).tuples())
    return {_date(d): Ruling(bool(w), s, h) for d, w, s, h in rows}


def _date(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def refresh(reason: str, detail: str = "", by: str = "system", start: dt.date = FIRST_DAY,
            end: dt.date = LAST_DAY) -> CalendarChange | None:
    """Bring the stored days from ``start`` to ``end`` up to their sources (a newer
    package, an imported schedule, a ruling) and re-number from the first day that
    differs. When working days changed, the change is recorded and published
    (``core.calendar.changed``); returns it, or None."""
    stored = _stored(start, end)
    if not stored:
        rebuild()
        return None
    fresh = _rulings(start, end)
    differ = sorted(d for d, r in fresh.items() if stored.get(d) != r)
    if not differ:
        return None
    with db.atomic():
        rebuild(differ[0], LAST_DAY)
        changed = [d for d in differ if d not in stored or stored[d].workday != fresh[d].workday]
        return _renumbered(changed, reason, detail, by) if changed else None


def _renumbered(days: list[dt.date], reason: str, detail: str, by: str) -> CalendarChange:
    """Record a change of working days and tell the plugins (in the caller's transaction)."""
    from core.audit.service import record
    from core.events import publish
    change = CalendarChange.create(reason=reason, detail=detail[:64], created_by=by[:64],
                                   first_day=days[0], last_day=days[-1], count=len(days),
                                   days=json.dumps([d.isoformat() for d in days]))
    record("calendar.renumber", object_type="calendar_change", object_id=change.id,
           summary=f"{len(days)} working day(s) from {days[0]} to {days[-1]} changed "
                   f"({reason} {detail})".strip()[:500])
    publish(CHANGED_EVENT, change_payload(change))
    return change


def change_payload(change: CalendarChange) -> dict:
    """The ``core.calendar.changed`` payload (docs/events.md)."""
    return {"change_id": change.id, "reason": change.reason, "detail": change.detail,
            "first": change.first_day.isoformat(), "last": change.last_day.isoformat(),
            "days": json.loads(change.days)}


CHANGE_REASONS = {
    "package": _l("Schedule of the calendar package (%(detail)s)"),
    "import": _l("Published schedule of %(detail)s imported"),
    "ruling": _l("Local ruling on %(detail)s"),
    "ruling_undone": _l("Local ruling on %(detail)s undone"),
}


def change_label(change: CalendarChange) -> str:
    """Why the calendar was re-numbered, in the reader's language."""
    label = CHANGE_REASONS.get(change.reason)
    return _(source_text(label), detail=change.detail) if label is not None else change.reason


def holiday_label(code: str) -> str:
    """A festival code as its name (``…`` (补假) for a make-up day)."""
    base = code.removesuffix(holidays.MAKEUP)
    label = HOLIDAY_LABELS.get(base)
    if label is None:
        return code
    return _("%(festival)s (make-up day)", festival=label) if code != base else str(label)


def ensure() -> None:
    """Build the calendar if it is empty, else bring it up to its sources (``db upgrade``:
    a newer ``chinesecalendar`` may carry a year that was provisional)."""
    if not CalendarDay.select().exists():
        rebuild()
    else:
        first, last = package_years()
        refresh("package", f"{first}–{last}")


def set_override(day: dt.date, workday: bool, note: str, by: str) -> CalendarOverride:
    """Record a deployment's ruling on ``day`` and re-number the days after it."""
    _check(day)
    with db.atomic():
        CalendarOverride.delete().where(CalendarOverride.day == day).execute()
        row = CalendarOverride.create(day=day, workday=workday, note=note, created_by=by)
        refresh("ruling", day.isoformat(), by, day, day)
    return row


def clear_override(day: dt.date, by: str = "system") -> bool:
    with db.atomic():
        n = CalendarOverride.delete().where(CalendarOverride.day == day).execute()
        if n:
            refresh("ruling_undone", day.isoformat(), by, day, day)
    return bool(n)


# -- provisional years and the published schedule ---------------------------------------
def year_source(year: int) -> str:
    """The source of ``year``'s days as stored (``provisional`` until a schedule arrives;
    a local ruling on a day does not change it)."""
    row = (CalendarDay.select(CalendarDay.source)
           .where(CalendarDay.day.between(dt.date(year, 1, 1), dt.date(year, 12, 31))
                  & (CalendarDay.source != "override")).first())
    return row.source if row else ""


SOURCE_LABELS = {
    "published": _l("Published schedule (imported)"),
    "statutory": _l("Published schedule"),
    "provisional": _l("Provisional: derived from the statutory rules"),
    "weekend": _l("Monday to Friday"),
}


def provisional_years(today: dt.date) -> list[int]:
    """The years an administrator should be told are provisional: this year, and the
    coming year from October (when deadlines start running into it and the schedule is
    due)."""
    years = [today.year] + ([today.year + 1] if today.month >= PUBLISH_MONTH else [])
    return [y for y in years if year_source(y) == "provisional"]


@dataclass
class ScheduleRow:
    """One row of an imported schedule: a day or a range, rest or work, the festival."""

    line: int
    first: dt.date
    last: dt.date
    workday: bool
    holiday: str


class ScheduleError(ValueError):
    """An imported schedule refused whole: ``errors`` lists ``(line, message)``."""

    def __init__(self, errors: list[tuple[int, str]]):
        super().__init__("; ".join(f"{line}: {msg}" for line, msg in errors))
        self.errors = errors


KINDS = {"holiday": False, "rest": False, "休": False, "放假": False,
         "workday": True, "work": True, "班": True, "上班": True}
_FESTIVAL_NAMES = {**{code: code for code in HOLIDAY_LABELS},
                   "元旦": "new_year", "春节": "spring_festival", "清明节": "tomb_sweeping",
                   "清明": "tomb_sweeping", "劳动节": "labour_day", "端午节": "dragon_boat",
                   "端午": "dragon_boat", "中秋节": "mid_autumn", "中秋": "mid_autumn",
                   "国庆节": "national_day", "国庆": "national_day"}


def schedule_text(data: bytes) -> str:
    """A schedule file's text: UTF-8 (with or without BOM) or GB18030, as spreadsheets
    in Chinese save CSV."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ScheduleError([(0, _("the file is not UTF-8 or GB18030 text"))])


def parse_schedule(text: str) -> tuple[int, list[ScheduleRow]]:
    """Read a published schedule (CSV: ``date,kind,festival``; ``date`` a day or a range
    ``YYYY-MM-DD/YYYY-MM-DD``; ``kind`` holiday/放假 or workday/上班; ``festival`` e.g.
    春节 or spring_festival) and check it whole: one year, real dates, known kinds and
    festivals, no day twice, adjusted working days only on weekends, and every holiday the
    law fixes present. Raises ScheduleError with every bad row."""
    import csv
    import io
    errors: list[tuple[int, str]] = []
    rows: list[ScheduleRow] = []
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    for line, cells in enumerate(reader, 1):
        cells = [c.strip() for c in cells]
        if not any(cells) or cells[0].startswith("#") or cells[0].lower() in ("date", "日期"):
            continue
        if len(cells) < 2:
            errors.append((line, _("expected date,kind,festival")))
            continue
        try:
            first_s, _sep, last_s = cells[0].partition("/")
            first = dt.date.fromisoformat(first_s)
            last = dt.date.fromisoformat(last_s) if last_s else first
        except ValueError:
            errors.append((line, _("date: expected YYYY-MM-DD or YYYY-MM-DD/YYYY-MM-DD, got "
                                   "%(v)s", v=cells[0][:40])))
            continue
        if last < first or (last - first).days > 14:
            errors.append((line, _("date: a range runs forward and spans at most 15 days")))
            continue
        kind = KINDS.get(cells[1].lower())
        if kind is None:
            errors.append((line, _("kind: expected holiday (放假) or workday (上班), got "
                                   "%(v)s", v=cells[1][:20])))
            continue
        festival = cells[2] if len(cells) > 2 else ""
        code = _FESTIVAL_NAMES.get(festival, None) if festival else ""
        if code is None:
            errors.append((line, _("festival: unknown %(v)s", v=festival[:20])))
            continue
        rows.append(ScheduleRow(line, first, last, kind, code))
    years = {r.first.year for r in rows} | {r.last.year for r in rows}
    if not errors and not rows:
        errors.append((0, _("the file holds no schedule rows")))
    if len(years) > 1:
        errors.append((0, _("a schedule covers one year; this file has %(y)s",
                            y=", ".join(str(y) for y in sorted(years)))))
    year = min(years) if years else 0
    if years and not holidays.FIRST_YEAR <= year <= LAST_DAY.year:
        errors.append((0, _("%(y)d: only years from %(a)d to %(b)d can be imported", y=year,
                            a=holidays.FIRST_YEAR, b=LAST_DAY.year)))
    seen: dict[dt.date, int] = {}
    for r in rows:
        day = r.first
        while day <= r.last:
            if day in seen:
                errors.append((r.line, _("%(d)s is also on line %(n)d", d=day, n=seen[day])))
            seen[day] = r.line
            if r.workday and day.weekday() < 5:
                errors.append((r.line, _("%(d)s is a weekday: an adjusted working day is a "
                                         "Saturday or Sunday", d=day)))
            day += dt.timedelta(days=1)
    if not errors and len(years) == 1:
        off = {d for r in rows if not r.workday for d in _days(r)}
        for h in holidays.derive(year):
            if not h.makeup and h.day not in off:
                errors.append((0, _("%(d)s (%(f)s) is a statutory holiday and missing",
                                    d=h.day, f=HOLIDAY_LABELS[h.code])))
    if errors:
        raise ScheduleError(sorted(errors))
    return year, rows


def _days(row: ScheduleRow) -> Iterable[dt.date]:
    day = row.first
    while day <= row.last:
        yield day
        day += dt.timedelta(days=1)


def import_schedule(text: str, by: str) -> tuple[int, CalendarChange | None]:
    """Replace a year's published schedule with ``text`` (all or nothing, see
    :func:`parse_schedule`) and re-number; returns the year and the change made."""
    year, rows = parse_schedule(text)
    with db.atomic():
        CalendarSchedule.delete().where(CalendarSchedule.day.between(
            dt.date(year, 1, 1), dt.date(year, 12, 31))).execute()
        CalendarSchedule.insert_many([
            {"day": d, "workday": r.workday, "holiday": r.holiday, "imported_by": by[:64],
             "imported_at": utcnow()} for r in rows for d in _days(r)]).execute()
        change = refresh("import", str(year), by, dt.date(year, 1, 1), dt.date(year, 12, 31))
    return year, change


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


def holidays_between(a: dt.date, b: dt.date) -> list[tuple[str, dt.date, dt.date]]:
    """The public holidays (法定节假日 with their bridging rest days) that begin in
    ``[a, b]``: ``[(festival code, first rest day, last rest day)]`` in date order. A
    holiday is a run of rest days of which at least one is a festival day; weekends
    joined to it belong to it."""
    _check(a)
    _check(b)
    lo, hi = max(FIRST_DAY, a - dt.timedelta(days=10)), min(LAST_DAY, b + dt.timedelta(days=20))
    rows = list(CalendarDay.select(CalendarDay.day, CalendarDay.workday, CalendarDay.holiday)
                .where(CalendarDay.day.between(lo, hi)).order_by(CalendarDay.day).tuples())
    out, run = [], []
    for day, work, code in rows + [(None, True, "")]:
        if not work:
            run.append((day, code))
            continue
        codes = [c for _d, c in run if c]
        if codes and a <= run[0][0] <= b:
            out.append((codes[0], run[0][0], run[-1][0]))
        run = []
    return out


def month_view(year: int, month: int) -> list[CalendarDay]:
    first, last = month_bounds(year, month)
    _check(first)
    _check(last)
    return list(CalendarDay.select().where(CalendarDay.day.between(first, last))
                .order_by(CalendarDay.day))


def stats() -> dict:
    return {"days": CalendarDay.select(fn.COUNT(CalendarDay.day)).scalar(),
            "overrides": CalendarOverride.select().count()}
