"""The sweep: set-based, idempotent, leased, with alerts to the right people."""
from __future__ import annotations

import datetime as dt
import threading

from core.alerts.models import Alert, Notification
from core.org.models import PostHolding
from plugins.esupervision.models import Signal
from plugins.esupervision.sweep import sweep


def person_of(post):
    return PostHolding.get(PostHolding.post == post).person


def users(org, make_user):
    clerk = make_user("clerk1", person=person_of(org["clerk_a"]))
    head = make_user("head_a", person=person_of(org["head_a"]))
    office = make_user("office_a", person=person_of(org["sup_a"]))
    return clerk, head, office


def recipients(alert):
    return {n.user.username for n in Notification.select().where(Notification.alert == alert)}


def test_second_sweep_raises_nothing_and_alerts_reach_the_right_people(feed, events, org,
                                                                      make_user):
    users(org, make_user)
    ev = events(submitted="2026-04-02 09:00", handler_post_id=org["clerk_a"].id)
    feed(ev.make("submitted", "2026-04-02 09:00"))
    first = sweep(dt.date(2026, 4, 9))
    assert (first.yellow, first.red) == (1, 0)
    yellow = Alert.get(Alert.kind == "esupervision.deadline.yellow")
    assert recipients(yellow) == {"clerk1"}
    again = sweep(dt.date(2026, 4, 9))
    assert (again.yellow, again.red, again.alerted) == (0, 0, [])
    late = sweep(dt.date(2026, 4, 13))
    assert (late.yellow, late.red) == (0, 1)
    reds = list(Alert.select().where(Alert.kind == "esupervision.signal.ACCEPTANCE_LATE"))
    assert set().union(*[recipients(a) for a in reds]) == {"clerk1", "head_a", "office_a"}
    assert sweep(dt.date(2026, 4, 14)).alerted == []
    assert Signal.select().where(Signal.alerted_at.is_null()).count() == 0


def test_history_signals_are_alerted_by_the_sweep(feed, events, org, make_user):
    users(org, make_user)
    ev = events(fee_due="0.00", handler_post_id=org["clerk_a"].id)
    feed(ev.make("submitted", "2026-03-02 09:00"),
         ev.make("fee_charged", "2026-03-02 10:00", fee_charged="20.00"))
    result = sweep(dt.date(2026, 3, 2))
    assert any("ILLEGAL_FEE" in line for line in result.alerted)
    assert Alert.select().where(Alert.kind == "esupervision.signal.ILLEGAL_FEE").count() == 2


def test_paused_clock_is_not_warned(feed, events):
    ev = events(submitted="2026-04-02 09:00")
    feed(ev.make("submitted", "2026-04-02 09:00"),
         ev.make("supplement_requested", "2026-04-03 09:00", reason="缺材料"))
    assert sweep(dt.date(2026, 4, 20), emit_alerts=False).red == 0
    assert Signal.select().count() == 0


def test_two_workers_one_sweep(app, feed, events):
    """The periodic job holds a lease: a second worker skips while the first sweeps."""
    from core.queue import huey
    from plugins.esupervision import sweep as sweepmod
    from plugins.esupervision.tasks import register_periodic
    job = register_periodic(huey)
    ran, entered, release = [], threading.Event(), threading.Event()
    original = sweepmod.sweep

    def slow_sweep(*a, **kw):
        ran.append(threading.get_ident())
        entered.set()
        release.wait(5)
        return original(*a, **kw)
    sweepmod.sweep = slow_sweep
    results = []
    try:
        def worker():
            with app.app_context():
                results.append(job.call_local())
        first = threading.Thread(target=worker)
        first.start()
        assert entered.wait(5)
        second = threading.Thread(target=worker)
        second.start()
        second.join(10)
        release.set()
        first.join(10)
    finally:
        sweepmod.sweep = original
    assert len(ran) == 1
    assert None in results
    assert sum(r is not None for r in results) == 1


def test_sweep_cli_prints_what_it_raised(runner, feed, events):
    ev = events(submitted="2020-01-02 09:00")
    feed(ev.make("submitted", "2020-01-02 09:00"))
    result = runner.invoke(args=["esupervision", "sweep"])
    assert result.exit_code == 0, result.output
    assert "1 red" in result.output
    again = runner.invoke(args=["esupervision", "sweep"])
    assert "0 yellow, 0 red" in again.output and "0 alert(s)" in again.output


def test_a_backlog_of_signals_drains_over_several_sweeps(feed, events, monkeypatch):
    from plugins.esupervision import sweep as sweepmod
    monkeypatch.setattr(sweepmod, "ALERTS_PER_SWEEP", 1)
    for _ in range(3):
        ev = events(fee_due="0.00", submitted="2026-03-02 09:00")
        feed(ev.make("submitted", "2026-03-02 09:00"),
             ev.make("fee_charged", "2026-03-02 10:00", fee_charged="1.00"))
    first = sweep(dt.date(2026, 3, 2))
    assert first.pending == 2
    assert sweep(dt.date(2026, 3, 2)).pending == 1
    assert sweep(dt.date(2026, 3, 2)).pending == 0
    assert Signal.select().where(Signal.alerted_at.is_null()).count() == 0


def test_a_replay_of_past_days_sees_the_clocks_open_on_each_day(feed, events):
    """The demo replays the sweeps of past days (issue 15 defect 9): a clock that ended
    later was open on the day replayed and is warned on it, stamped on that day; the live
    sweep sees only clocks open now, and a replay counts no clock before it started."""
    ev = events(submitted="2026-04-02 09:00")
    feed(ev.make("submitted", "2026-04-02 09:00"), ev.make("accepted", "2026-04-10 10:00"))
    assert sweep(dt.date(2026, 4, 9)).yellow == 0  # live: the acceptance clock ended
    assert sweep(dt.date(2026, 4, 1), now=dt.datetime(2026, 4, 1, 2), replay=True).yellow == 0
    replayed = sweep(dt.date(2026, 4, 9), now=dt.datetime(2026, 4, 9, 2), replay=True)
    assert replayed.yellow == 1
    (signal,) = Signal.select().where(Signal.level == "yellow")
    assert signal.raised_at == dt.datetime(2026, 4, 9, 2)
    open_ev = events(submitted="2026-04-02 09:00")
    feed(open_ev.make("submitted", "2026-04-02 09:00"))
    late = sweep(dt.date(2026, 4, 13), now=dt.datetime(2026, 4, 13, 2), replay=True)
    assert late.red == 1
    assert Signal.get((Signal.level == "red") & (Signal.code == "ACCEPTANCE_LATE")
                      & (Signal.raised_at == dt.datetime(2026, 4, 13, 2))).case_id is not None
