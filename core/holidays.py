"""Statutory holidays derived from the law, for years whose schedule is not yet published.

The State Council publishes each year's holiday schedule (放假安排, with its adjusted
working days, 调休) in the autumn before; deadlines set today already run into next year.
For such a year the holidays follow from 全国年节及纪念日放假办法 as amended in 2024
(in force from 2025): 元旦 1 day (1 January), 春节 4 days (New Year's Eve to the 3rd day
of the first lunar month), 清明 1 day (the solar term 清明), 劳动节 2 days (1–2 May), 端午
1 day (5th of the 5th lunar month), 中秋 1 day (15th of the 8th lunar month), 国庆 3 days
(1–3 October). "全体公民放假的假日，如果适逢周六、周日，应当在工作日补假": each holiday day
that falls on a weekend (or on another holiday) is made up on the next working day after
its festival. Adjusted working weekends cannot be derived: they arrive with the schedule.

Lunar dates and the solar term come from ``lunar_python`` (6tail's lunar calendar).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from lunar_python import Lunar

FIRST_YEAR = 2025  # the amended rules apply from 2025; earlier years are published
MAKEUP = ".makeup"  # suffix of a make-up day's holiday code (补假)

FESTIVALS = ("new_year", "spring_festival", "tomb_sweeping", "labour_day", "dragon_boat",
             "mid_autumn", "national_day")


@dataclass(frozen=True)
class Holiday:
    """One day off: its festival's code, ``<code>.makeup`` for a make-up day."""

    day: dt.date
    code: str

    @property
    def makeup(self) -> bool:
        return self.code.endswith(MAKEUP)


def _solar(lunar: Lunar) -> dt.date:
    s = lunar.getSolar()
    return dt.date(s.getYear(), s.getMonth(), s.getDay())


def festival_days(year: int) -> list[tuple[str, list[dt.date]]]:
    """Each festival of ``year`` with its statutory days, in calendar order."""
    new_year_lunar = _solar(Lunar.fromYmd(year, 1, 1))
    qingming = Lunar.fromYmd(year, 3, 1).getJieQiTable()["清明"]
    out = [
        ("new_year", [dt.date(year, 1, 1)]),
        ("spring_festival", [new_year_lunar + dt.timedelta(days=i) for i in range(-1, 3)]),
        ("tomb_sweeping", [dt.date(qingming.getYear(), qingming.getMonth(),
                                   qingming.getDay())]),
        ("labour_day", [dt.date(year, 5, 1), dt.date(year, 5, 2)]),
        ("dragon_boat", [_solar(Lunar.fromYmd(year, 5, 5))]),
        ("mid_autumn", [_solar(Lunar.fromYmd(year, 8, 15))]),
        ("national_day", [dt.date(year, 10, i) for i in (1, 2, 3)]),
    ]
    return sorted(out, key=lambda f: f[1][0])


def derive(year: int) -> list[Holiday]:
    """The days off of ``year`` by the law: statutory days and their make-up days."""
    if year < FIRST_YEAR:
        raise ValueError(f"{year}: the holidays of years before {FIRST_YEAR} are published")
    taken: dict[dt.date, Holiday] = {}
    festivals = festival_days(year)
    statutory = {d for _code, days in festivals for d in days}
    for code, days in festivals:
        owed = 0
        for day in days:
            if day.weekday() >= 5 or day in taken:
                owed += 1
            if day not in taken:
                taken[day] = Holiday(day, code)
        day = days[-1]
        while owed:
            day += dt.timedelta(days=1)
            if day.weekday() < 5 and day not in taken and day not in statutory:
                taken[day] = Holiday(day, code + MAKEUP)
                owed -= 1
    return sorted(taken.values(), key=lambda h: h.day)
