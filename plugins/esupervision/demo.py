"""Demo data of e-supervision, after the service hall's (issue 15 defect 9): the sweeps of
every past working day replayed, so yellow and red signals carry their own days; a few red
signals of last month under supervision (verified, rectification demanded, one reported by
the department and closed); the monthly evaluations of the two full months before this
one, with their suggestion letters. Idempotent: nothing is added once an evaluation exists."""
from __future__ import annotations

import datetime as dt

from core.api import User, is_workday, today, utc_midnight
from plugins.esupervision import evaluation, supervision
from plugins.esupervision.models import (
    EvaluationRun,
    MonitoredCase,
    Signal,
    SupervisionCase,
)
from plugins.esupervision.sweep import sweep

REPLAY_HOUR = dt.time(1, 30)  # 09:30 in Beijing


def replay_sweeps(first: dt.date, until: dt.date) -> int:
    """The sweep of each working day from ``first`` to the day before ``until``, stamped
    on its day; the number of signals raised."""
    raised, day = 0, first
    while day < until:
        if is_workday(day):
            result = sweep(today=day, emit_alerts=True,
                           now=dt.datetime.combine(day, REPLAY_HOUR), replay=True)
            raised += result.red + result.yellow
        day += dt.timedelta(days=1)
    return raised


def supervise_some(supervisor, first: dt.date, last: dt.date, count: int = 6) -> int:
    """Open supervision of the first red signals raised between ``first`` and ``last``:
    each verified and given a rectification demand; the first one reported and closed."""
    signals = list(Signal.select().where(
        (Signal.level == "red") & (Signal.raised_at >= utc_midnight(first))
        & (Signal.raised_at < utc_midnight(last + dt.timedelta(days=1))))
        .order_by(Signal.raised_at).limit(count))
    for i, signal in enumerate(signals):
        sc = supervision.open_case(signal, supervisor)
        if i == len(signals) - 1:
            supervision.verify(sc, supervisor, "dismissed", "经核实，系申请人主动要求延期，情况属实")
            continue
        sc = supervision.verify(sc, supervisor, "confirmed", "经调阅办件记录，超期属实")
        sc = supervision.demand_rectification(sc, supervisor, "说明超期原因，落实限时办结制度",
                                              5 + 2 * i)
        if i == 0:
            sc = supervision.report_rectification(
                SupervisionCase.get_by_id(sc.id), supervisor,
                "已约谈经办人，完善办件提醒，整改完成（纸质回告录入）")
            supervision.close(SupervisionCase.get_by_id(sc.id), supervisor, "整改到位，予以销号")
    return len(signals)


def seed(size: str) -> None:
    """Entry point of ``ql_demo_data``."""
    if EvaluationRun.select().exists():
        return
    started = MonitoredCase.select(MonitoredCase.submitted_at).order_by(
        MonitoredCase.submitted_at).first()
    if started is None:
        return
    day = today()
    replay_sweeps(started.submitted_at.date(), day)
    this_month = day.replace(day=1)
    last_month = (this_month - dt.timedelta(days=1)).replace(day=1)
    before = (last_month - dt.timedelta(days=1)).replace(day=1)
    supervisor = User.get_or_none(User.username == "supervisor")
    if supervisor is not None:
        supervise_some(supervisor, last_month, this_month - dt.timedelta(days=1))
    for month in (before, last_month):
        evaluation.evaluate(month.strftime("%Y-%m"))
