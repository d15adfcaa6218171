"""Clock rules with hand-built histories: holidays (清明 2026-04-04..06) and stopped time."""
from __future__ import annotations

import datetime as dt

from plugins.esupervision.models import Clock, MonitoredCase

D = dt.date


def clock(case, kind, seq=0):
    return Clock.get((Clock.case == case) & (Clock.kind == kind) & (Clock.step_seq == seq))


def test_acceptance_clock_skips_the_qingming_holiday(feed, events):
    ev = events(submitted="2026-04-02 09:00")
    (row,) = feed(ev.make("submitted", "2026-04-02 09:00"))
    c = clock(row.case, "acceptance")
    assert c.start_day == D(2026, 4, 2)
    # Apr 3, (4-6 holiday), 7, 8, 9, 10: the fifth working day is Apr 10
    assert c.due == D(2026, 4, 10)
    # 80% of 5 = 4 working days used, or 1 day left: Apr 9
    assert c.yellow_on == D(2026, 4, 9)
    assert c.ended_on is None


def test_completion_clock_runs_from_acceptance_and_stops_for_supplement(feed, events):
    ev = events(submitted="2026-03-30 09:00", committed=10)
    feed(ev.make("submitted", "2026-03-30 09:00"),
         ev.make("accepted", "2026-03-31 10:00"))
    case = MonitoredCase.get(MonitoredCase.serial == ev.case["serial"])
    c = clock(case, "completion")
    assert c.start_day == D(2026, 3, 31)
    # 10 working days after Mar 31 across the holiday: Apr 1,2,3,7,8,9,10,13,14,15
    assert c.due == D(2026, 4, 15)
    assert case.completion_due == D(2026, 4, 15)
    # supplement requested Apr 8, materials back Apr 13: stopped Apr 9, 10, 13 = 3 days
    feed(ev.make("supplement_requested", "2026-04-08 10:00", reason="缺材料",
                 missing_materials=["营业执照"]))
    c = clock(case, "completion")
    assert c.paused_since == D(2026, 4, 8)
    feed(ev.make("supplement_received", "2026-04-13 15:00"))
    c = clock(case, "completion")
    assert c.paused_since is None and c.stopped_days == 3
    assert c.due == D(2026, 4, 20)
    assert MonitoredCase.get_by_id(case.id).completion_due == D(2026, 4, 20)


def test_out_of_order_events_give_the_same_clocks(feed, events):
    ev = events(submitted="2026-03-30 09:00")
    sub = ev.make("submitted", "2026-03-30 09:00")
    acc = ev.make("accepted", "2026-03-31 10:00")
    s1 = ev.step("step_started", "2026-03-31 11:00", 1, limit=2)
    sus = ev.make("suspended", "2026-04-01 09:00",
                  procedure={"kind": "expert_review", "expected_days": 10})
    res = ev.make("resumed", "2026-04-08 09:00")
    feed(sub, acc, res, sus, s1)  # resumed arrives before suspended
    case = MonitoredCase.get(MonitoredCase.serial == ev.case["serial"])
    step = clock(case, "step", 1)
    # stopped Apr 2, 3, 7, 8 = 4 working days; limit 2 from Mar 31 -> Apr 2 + 4 -> Apr 9
    assert step.stopped_days == 4
    assert step.due == D(2026, 4, 9)
    susp = clock(case, "suspension", 1)
    assert susp.ended_on == D(2026, 4, 8) and susp.limit_days == 10


def test_threshold_per_item_type_and_item(feed, events):
    from plugins.esupervision.services import set_threshold
    ev = events(submitted="2026-03-02 09:00", committed=20, statutory=20)
    feed(ev.make("submitted", "2026-03-02 09:00"), ev.make("accepted", "2026-03-02 10:00"))
    case = MonitoredCase.get(MonitoredCase.serial == ev.case["serial"])
    # default 80% of 20 = 16 working days after Mar 2 -> Mar 24
    assert clock(case, "completion").yellow_on == D(2026, 3, 24)
    set_threshold("item_type", "XK", 50, 1)
    assert clock(case, "completion").yellow_on == D(2026, 3, 16)
    set_threshold("item", ev.case["item_code"], 90, 3)  # item wins: min(18, 17) = 17
    assert clock(case, "completion").yellow_on == D(2026, 3, 25)


def test_one_overdue_rule_for_the_sweep_and_the_pages(feed, events):
    """A clock is overdue when the day it stands at (ended, stopped, else today) is past
    its due day; the sweep's SQL selects exactly the open clocks the rule calls overdue."""
    from plugins.esupervision import clocks as rule
    from plugins.esupervision.sweep import _overdue
    ev = events(submitted="2026-04-02 09:00")
    (row,) = feed(ev.make("submitted", "2026-04-02 09:00"))
    c = clock(row.case, "acceptance")  # due Fri 10 Apr, yellow from Thu 9 Apr
    today = D(2026, 4, 13)
    cases = {
        "running late": {},
        "stopped after due": {"paused_since": D(2026, 4, 11)},
        "stopped in time": {"paused_since": D(2026, 4, 8)},
        "ended late": {"ended_on": D(2026, 4, 13)},
        "ended in time": {"ended_on": D(2026, 4, 10)},
    }
    seen = {}
    for name, values in cases.items():
        Clock.update(paused_since=values.get("paused_since"), ended_on=values.get("ended_on"),
                     red_at=None).where(Clock.id == c.id).execute()
        fresh = Clock.get_by_id(c.id)
        by_sql = Clock.select().where((Clock.id == c.id) & _overdue(today)).exists()
        if fresh.ended_on is None:
            assert by_sql == rule.is_overdue(fresh, today), name
        seen[name] = rule.level(fresh, today)
    assert seen == {"running late": "red", "stopped after due": "red",
                    "stopped in time": "stopped", "ended late": "red", "ended in time": "ended"}
    Clock.update(paused_since=None, ended_on=None).where(Clock.id == c.id).execute()
    assert rule.level(Clock.get_by_id(c.id), D(2026, 4, 9)) == "yellow"
    assert rule.level(Clock.get_by_id(c.id), D(2026, 4, 8)) == "running"
