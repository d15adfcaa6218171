"""The nine red-signal detectors, each with a hand-built event history."""
from __future__ import annotations

import datetime as dt

from plugins.esupervision.models import MonitoredCase, Signal
from plugins.esupervision.sweep import sweep


def codes(ev=None):
    q = Signal.select()
    if ev is not None:
        q = q.join(MonitoredCase).where(MonitoredCase.serial == ev.case["serial"])
    return sorted(s.code for s in q)


def test_refused_without_reason(feed, events):
    good, bad = events(), events()
    feed(good.make("submitted", "2026-03-02 09:00"),
         good.make("not_accepted", "2026-03-03 09:00", reason="不属于本机关职权",
                   legal_basis="行政许可法第三十二条", rights_notice=True),
         bad.make("submitted", "2026-03-02 09:00"),
         bad.make("not_accepted", "2026-03-03 09:00", reason="材料不全"))
    assert codes(good) == []
    assert codes(bad) == ["REFUSED_WITHOUT_REASON"]
    assert "legal basis" in Signal.get().detail  # the missing parts named in words, not codes
    assert "notice of the applicant's rights" in Signal.get().detail


def test_denied_without_reason(feed, events):
    ok, bad = events(), events()
    for e in (ok, bad):
        feed(e.make("submitted", "2026-03-02 09:00"), e.make("accepted", "2026-03-02 10:00"))
    feed(ok.make("decided", "2026-03-04 09:00", decision="denied", reason="不符合条件",
                 legal_basis="《食品经营许可管理办法》第十条"),
         bad.make("decided", "2026-03-04 09:00", decision="denied", reason=" "))
    assert codes(ok) == []
    assert codes(bad) == ["DENIED_WITHOUT_REASON"]


def test_acceptance_late_on_replay_and_in_sweep(feed, events):
    late, open_ = events(submitted="2026-04-02 09:00"), events(submitted="2026-04-02 09:00")
    # due Apr 10 (Qingming holiday in between): accepting on Apr 13 is late
    feed(late.make("submitted", "2026-04-02 09:00"), late.make("accepted", "2026-04-13 09:00"),
         open_.make("submitted", "2026-04-02 09:00"))
    assert codes(late) == ["ACCEPTANCE_LATE"]
    sweep(dt.date(2026, 4, 10), emit_alerts=False)
    assert codes(open_) == ["DEADLINE_YELLOW"]
    sweep(dt.date(2026, 4, 13), emit_alerts=False)
    assert codes(open_) == ["ACCEPTANCE_LATE", "DEADLINE_YELLOW"]


def test_acceptance_clock_stopped_by_supplement_is_not_late(feed, events):
    ev = events(submitted="2026-04-02 09:00")
    feed(ev.make("submitted", "2026-04-02 09:00"),
         ev.make("supplement_requested", "2026-04-03 09:00", reason="缺材料",
                 missing_materials=["身份证明"]),
         ev.make("supplement_received", "2026-04-14 09:00"))
    # stopped Apr 7..14 = 6 working days: due moves from Apr 10 to Apr 20
    sweep(dt.date(2026, 4, 17), emit_alerts=False)
    assert "ACCEPTANCE_LATE" not in codes(ev)
    sweep(dt.date(2026, 4, 21), emit_alerts=False)
    assert "ACCEPTANCE_LATE" in codes(ev)


def test_supplement_violation_late_notice_and_second_request(feed, events):
    late, twice, ok = (events(submitted="2026-04-02 09:00") for _ in range(3))
    feed(late.make("submitted", "2026-04-02 09:00"),
         late.make("supplement_requested", "2026-04-13 09:00", reason="缺材料"),
         twice.make("submitted", "2026-04-02 09:00"),
         twice.make("supplement_requested", "2026-04-03 09:00", reason="缺材料"),
         twice.make("supplement_received", "2026-04-07 09:00"),
         twice.make("supplement_requested", "2026-04-08 09:00", reason="还缺"),
         ok.make("submitted", "2026-04-02 09:00"),
         ok.make("supplement_requested", "2026-04-10 09:00", reason="缺材料"))
    assert codes(late) == ["SUPPLEMENT_VIOLATION"]  # 6 working days after receipt
    assert codes(twice) == ["SUPPLEMENT_VIOLATION"]
    assert "no. 2" in Signal.select().join(MonitoredCase).where(
        MonitoredCase.serial == twice.case["serial"]).get().detail
    assert codes(ok) == []  # Apr 10 is the 5th working day: in time


def test_step_overdue(feed, events):
    ev = events(submitted="2026-03-30 09:00")
    feed(ev.make("submitted", "2026-03-30 09:00"), ev.make("accepted", "2026-03-30 10:00"),
         ev.step("step_started", "2026-04-02 09:00", 1, limit=2),
         ev.step("step_started", "2026-04-02 09:00", 2, limit=5))
    # step 1: Apr 3, Apr 7 -> due Apr 7 (holiday skipped)
    sweep(dt.date(2026, 4, 7), emit_alerts=False)
    assert "STEP_OVERDUE" not in codes(ev)
    sweep(dt.date(2026, 4, 8), emit_alerts=False)
    assert codes(ev).count("STEP_OVERDUE") == 1
    feed(ev.step("step_completed", "2026-04-09 09:00", 1))
    assert codes(ev).count("STEP_OVERDUE") == 1  # same clock, same dedupe key


def test_completion_overdue(feed, events):
    ev = events(submitted="2026-03-30 09:00", committed=3)
    feed(ev.make("submitted", "2026-03-30 09:00"), ev.make("accepted", "2026-03-30 10:00"))
    # Mar 31, Apr 1, Apr 2 -> due Apr 2
    sweep(dt.date(2026, 4, 2), emit_alerts=False)
    assert "COMPLETION_OVERDUE" not in codes(ev)
    sweep(dt.date(2026, 4, 3), emit_alerts=False)
    assert "COMPLETION_OVERDUE" in codes(ev)
    done = events(submitted="2026-03-30 09:00", committed=3)
    feed(done.make("submitted", "2026-03-30 09:00"), done.make("accepted", "2026-03-30 10:00"),
         done.make("decided", "2026-04-07 09:00", decision="approved"))
    assert codes(done) == ["COMPLETION_OVERDUE"]


def test_illegal_fee(feed, events):
    free, paid, right = events(fee_due="0.00"), events(fee_due="50.00"), events(fee_due="50.00")
    for e in (free, paid, right):
        feed(e.make("submitted", "2026-03-02 09:00"))
    feed(free.make("fee_charged", "2026-03-02 10:00", fee_charged="10.00"),
         paid.make("fee_charged", "2026-03-02 10:00", fee_charged="80.00"),
         right.make("fee_charged", "2026-03-02 10:00", fee_charged="50.00"))
    assert codes(free) == ["ILLEGAL_FEE"] and codes(paid) == ["ILLEGAL_FEE"]
    assert codes(right) == []


def test_off_system_handling(feed, events):
    early, fast, late, normal = (events() for _ in range(4))
    feed(early.make("submitted", "2026-03-02 09:00"),
         early.make("decided", "2026-03-02 09:30", decision="approved"),
         early.make("accepted", "2026-03-02 10:00"))
    feed(fast.make("submitted", "2026-03-02 09:00"), fast.make("accepted", "2026-03-02 09:10"),
         fast.step("step_started", "2026-03-03 09:00", 1),
         fast.step("step_completed", "2026-03-03 09:02", 1),
         fast.step("step_started", "2026-03-03 09:03", 2),
         fast.step("step_completed", "2026-03-03 09:05", 2))
    feed(normal.make("submitted", "2026-03-02 09:00"), normal.make("accepted", "2026-03-02 09:10"),
         normal.step("step_started", "2026-03-03 09:00", 1),
         normal.step("step_completed", "2026-03-03 15:00", 1),
         normal.step("step_started", "2026-03-04 09:00", 2),
         normal.step("step_completed", "2026-03-04 11:00", 2))
    from plugins.esupervision.services import ingest
    ingest(late.make("submitted", "2026-03-02 09:00"), "ext",
           received_at=dt.datetime(2026, 3, 5, 1, 0))
    assert codes(early) == ["OFF_SYSTEM_HANDLING"]
    assert codes(fast) == ["OFF_SYSTEM_HANDLING"]
    assert codes(late) == ["OFF_SYSTEM_HANDLING"]
    assert codes(normal) == []


def test_special_procedure_abuse(feed, events):
    noproc, overrun, undelivered, fine = (events(submitted="2026-03-30 09:00") for _ in range(4))
    for e in (noproc, overrun, undelivered, fine):
        feed(e.make("submitted", "2026-03-30 09:00"), e.make("accepted", "2026-03-30 10:00"))
    feed(noproc.make("suspended", "2026-03-31 09:00", reason="等待"))
    feed(overrun.make("suspended", "2026-03-31 09:00",
                      procedure={"kind": "hearing", "expected_days": 3}))
    feed(undelivered.make("decided", "2026-04-01 09:00", decision="approved"))
    feed(fine.make("suspended", "2026-03-31 09:00",
                   procedure={"kind": "inspection", "expected_days": 5}),
         fine.make("resumed", "2026-04-03 09:00"),
         fine.make("decided", "2026-04-08 09:00", decision="approved"),
         fine.make("delivered", "2026-04-09 09:00"))
    assert codes(noproc) == ["SPECIAL_PROCEDURE_ABUSE"]
    # hearing of 3 working days from Mar 31: Apr 1, 2, 3 -> due Apr 3; overdue on Apr 7
    # certificate: 10 working days after Apr 1 -> Apr 16
    sweep(dt.date(2026, 4, 7), emit_alerts=False)
    assert codes(overrun) == ["SPECIAL_PROCEDURE_ABUSE"]
    assert "SPECIAL_PROCEDURE_ABUSE" not in codes(undelivered)
    sweep(dt.date(2026, 4, 17), emit_alerts=False)
    assert "SPECIAL_PROCEDURE_ABUSE" in codes(undelivered)
    assert "SPECIAL_PROCEDURE_ABUSE" not in codes(fine)


def test_detector_switched_off_and_parameters(feed, events):
    from plugins.esupervision.services import set_detector
    set_detector("ILLEGAL_FEE", False, {})
    set_detector("SUPPLEMENT_VIOLATION", True, {"days": 10})
    ev = events(submitted="2026-04-02 09:00")
    feed(ev.make("submitted", "2026-04-02 09:00"),
         ev.make("fee_charged", "2026-04-02 10:00", fee_charged="5.00"),
         ev.make("supplement_requested", "2026-04-13 09:00", reason="缺材料"))
    assert codes(ev) == []
    import pytest
    with pytest.raises(ValueError, match="unknown parameter"):
        set_detector("SUPPLEMENT_VIOLATION", True, {"weeks": 1})
    with pytest.raises(ValueError, match="whole number"):
        set_detector("SUPPLEMENT_VIOLATION", True, {"days": "x"})


def test_hook_ql_esupervision_detectors_adds_a_detector(app, feed, events):
    from types import SimpleNamespace

    from core.hookspecs import hookimpl
    from core.plugins import host

    class Extra:
        @hookimpl
        def ql_esupervision_detectors(self):
            class Weekend:
                code, description, params = "WEEKEND_DECISION", "decided on a weekend", {}

                def evaluate(self, ctx):
                    return [SimpleNamespace(key=e["event_id"], detail="weekend")
                            for e in ctx.of("decided")
                            if ctx.day(e["occurred_at"]).weekday() >= 5]
            return [Weekend()]
    plugin = Extra()
    host().pm.register(plugin, name="extra-detector")
    try:
        ev = events()
        feed(ev.make("submitted", "2026-03-02 09:00"), ev.make("accepted", "2026-03-02 10:00"),
             ev.make("decided", "2026-03-07 10:00", decision="approved"))
        assert codes(ev) == ["WEEKEND_DECISION"]
    finally:
        host().pm.unregister(plugin)
