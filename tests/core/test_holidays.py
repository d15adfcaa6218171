"""Statutory holidays derived from the law for years without a published schedule."""
import datetime as dt

import chinese_calendar
import pytest

from core import holidays

D = dt.date


@pytest.mark.parametrize("year", [2025, 2026])
def test_derived_days_are_days_off_in_the_published_schedule(year):
    """Where the State Council's schedule is known, every day the law gives (and every
    make-up day the rule derives) is a day off in it, and each festival has its days."""
    derived = holidays.derive(year)
    assert all(not chinese_calendar.is_workday(h.day) for h in derived)
    statutory = [h for h in derived if not h.makeup]
    assert len(statutory) == 13  # 1 + 4 + 1 + 2 + 1 + 1 + 3
    codes = [h.code for h in statutory]
    assert {c: codes.count(c) for c in set(codes)} == {
        "new_year": 1, "spring_festival": 4, "tomb_sweeping": 1, "labour_day": 2,
        "dragon_boat": 1, "mid_autumn": 1, "national_day": 3}


def test_2027_from_the_law():
    off = {h.day: h.code for h in holidays.derive(2027)}
    assert off[D(2027, 1, 1)] == "new_year"
    # 春节: New Year's Eve Fri 5 Feb to Mon 8 Feb; Sat 6 and Sun 7 made up Tue 9, Wed 10
    assert [d for d, c in off.items() if c.startswith("spring_festival")] == [
        D(2027, 2, 5), D(2027, 2, 6), D(2027, 2, 7), D(2027, 2, 8), D(2027, 2, 9),
        D(2027, 2, 10)]
    assert off[D(2027, 2, 9)] == "spring_festival" + holidays.MAKEUP
    assert off[D(2027, 4, 5)] == "tomb_sweeping"
    assert off[D(2027, 5, 3)] == off[D(2027, 5, 4)] == "labour_day" + holidays.MAKEUP
    assert off[D(2027, 6, 9)] == "dragon_boat" and off[D(2027, 9, 15)] == "mid_autumn"
    assert off[D(2027, 10, 4)] == off[D(2027, 10, 5)] == "national_day" + holidays.MAKEUP
    assert len(off) == 19


def test_a_holiday_on_another_is_made_up_after_both():
    """2028: Mid-autumn falls on 3 October, a National Day holiday; National Day's Sunday
    and the Mid-autumn day are each made up on the next free working day."""
    off = {h.day: h.code for h in holidays.derive(2028)}
    assert off[D(2028, 10, 3)] == "national_day"
    assert off[D(2028, 10, 4)] == "national_day" + holidays.MAKEUP
    assert off[D(2028, 10, 5)] == "mid_autumn" + holidays.MAKEUP


def test_years_before_the_amended_law_are_refused():
    with pytest.raises(ValueError, match="published"):
        holidays.derive(2024)
