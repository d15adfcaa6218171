"""Public statistics of the service hall (政务公开): cases handled, on time, satisfaction —
for the whole city or one region, one department, one month."""
from __future__ import annotations

import datetime as dt

from core.api import Department, regions_off
from plugins.eservice.models import Case, Rating


def _month_end(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def statistics(months: int = 6, *, regions: list[int] | None = None,
               department: int | None = None, month: dt.date | None = None) -> dict:
    """Cases handled, on-time and early completion, satisfaction: by department and month.

    ``regions`` (ids: a region and those below it), ``department`` and ``month`` (its
    first day) narrow what is counted; regions where the hall is switched off are never
    counted (their public pages are off)."""
    closed = regions_off("eservice")
    scope = [Case.decided_on.is_null(False), Case.deadline.is_null(False)]
    rated_scope = [Rating.score.is_null(False)]
    common = [Case.id.is_null(False)]
    if closed:
        common.append(Case.region.not_in(list(closed)))
    if regions is not None:
        common.append(Case.region.in_(regions or [0]))
    if department is not None:
        common.append(Case.department == department)
    if month is not None:
        scope += [Case.decided_on >= month, Case.decided_on < _month_end(month)]
        start = dt.datetime.combine(month, dt.time())
        end = dt.datetime.combine(_month_end(month), dt.time())
        rated_scope += [Rating.at >= start, Rating.at < end]
    done = (Case.select(Case.department, Case.decided_on, Case.deadline)
            .where(*scope, *common).tuples())
    by_dept: dict = {}
    by_month: dict = {}
    for dept_id, decided, deadline in done:
        for key, bucket in ((dept_id, by_dept), (decided.strftime("%Y-%m"), by_month)):
            row = bucket.setdefault(key, {"handled": 0, "on_time": 0, "early": 0,
                                          "rated": 0, "satisfied": 0})
            row["handled"] += 1
            row["on_time"] += decided <= deadline
            row["early"] += decided < deadline
    ratings = (Rating.select(Case.department, Rating.at, Rating.score)
               .join(Case).where(*rated_scope, *common).tuples())
    for dept_id, at, score in ratings:
        for key, bucket in ((dept_id, by_dept), (at.strftime("%Y-%m"), by_month)):
            row = bucket.setdefault(key, {"handled": 0, "on_time": 0, "early": 0,
                                          "rated": 0, "satisfied": 0})
            row["rated"] += 1
            row["satisfied"] += score >= 3
    names = {d.id: d for d in Department.select().where(Department.id.in_(list(by_dept) or [0]))}
    dept_rows = sorted(((names[k], v) for k, v in by_dept.items() if k in names),
                       key=lambda r: (-r[1]["handled"], r[0].id))
    month_rows = sorted(by_month.items(), reverse=True)[:months]
    return {"departments": dept_rows, "months": month_rows}


def percent(part: int, whole: int) -> str:
    """``part`` of ``whole`` as a percentage with one decimal, a dash when ``whole`` is 0."""
    return f"{100 * part / whole:.1f}%" if whole else "—"
