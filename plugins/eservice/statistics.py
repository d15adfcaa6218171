"""Public statistics of the service hall (政务公开): cases handled, on time, satisfaction."""
from __future__ import annotations

from core.api import Department
from plugins.eservice.models import Case, Rating


def statistics(months: int = 6) -> dict:
    """Cases handled, on-time and early completion, satisfaction: by department and month."""
    done = (Case.select(Case.department, Case.decided_on, Case.deadline)
            .where(Case.decided_on.is_null(False) & Case.deadline.is_null(False)).tuples())
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
               .join(Case).tuples())
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
