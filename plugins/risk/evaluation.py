"""Effect evaluation (防控效果评估) of risk prevention, per department and per region, for
a month (``2026-10``) or a quarter (``2026-Q4``).

Figures of a period [first, last]:

* coverage — posts of the department with a risk point in the register in force at the
  period's end ÷ the department's posts;
* measures — measures of that register due in the period (cancelled ones not counted),
  done on or before their due day;
* reviews — points of that register, whose review is not overdue at the period's end;
* warnings raised in the period, of them handled, of them escalated;
* reminders sent, talks held, accountability records decided in the period (reported,
  not scored: more of them is neither better nor worse);
* education — tasks due in the period, completed by the end of their due day.

Each indicator scored 0–100 (escalation: the share of warnings *not* escalated) is weighted
by the city-wide ``weights`` setting (``config``); an indicator without a denominator in
the period (no measure due, no warning raised) is left out and the weights of the others
carry the score. A unit with nothing to measure is listed, not ranked. Every run is a new
immutable version of its region and period.
"""
from __future__ import annotations

import datetime as dt
import re
import time
from collections import defaultdict

from peewee import JOIN, Case, Value, fn

from core.api import (
    Department,
    FieldError,
    Post,
    Region,
    Sheet,
    _,
    _l,
    bulk_insert,
    db,
    descendants,
    month_bounds,
    parse_month,
    record,
    utc_midnight,
)
from plugins.risk import config
from plugins.risk.access import actor, require_city, require_region
from plugins.risk.models import (
    Accountability,
    EducationTask,
    EvaluationRun,
    EvaluationScore,
    Measure,
    Point,
    Register,
    Reminder,
    RiskWarning,
    Talk,
)

PERM = "risk.evaluation.run"
SETTINGS_PERM = "risk.settings"
QUARTER = re.compile(r"(\d{4})-Q([1-4])")
FIGURES = ("posts", "posts_covered", "measures_due", "measures_on_time", "reviews_due",
           "reviews_on_time", "warnings_raised", "warnings_handled", "warnings_escalated",
           "reminders", "talks", "accountability", "education_due", "education_done")
# indicator -> (numerator, denominator); escalation scores the share not escalated
INDICATORS = {"coverage": ("posts_covered", "posts"),
              "measures": ("measures_on_time", "measures_due"),
              "reviews": ("reviews_on_time", "reviews_due"),
              "warnings": ("warnings_handled", "warnings_raised"),
              "escalation": ("warnings_escalated", "warnings_raised"),
              "education": ("education_done", "education_due")}
INDICATOR_LABELS = {"coverage": _l("Coverage"), "measures": _l("Measures on time"),
                    "reviews": _l("Reviews on time"), "warnings": _l("Warnings handled"),
                    "escalation": _l("Warnings not escalated"),
                    "education": _l("Education completed")}


# -- periods -------------------------------------------------------------------------------
def period_bounds(period) -> tuple[str, dt.date, dt.date]:
    """``(period, first, last)`` of a month ``YYYY-MM`` or a quarter ``YYYY-Qn``;
    FieldError naming ``period`` otherwise."""
    text = str(period or "").strip().upper()
    m = QUARTER.fullmatch(text)
    if m:
        year, q = int(m.group(1)), int(m.group(2))
        if not 2000 <= year <= 2099:
            raise FieldError("period", _("Enter a month (YYYY-MM) or a quarter (YYYY-Qn)."))
        first = month_bounds(year, 3 * q - 2)[0]
        return text, first, month_bounds(year, 3 * q)[1]
    try:
        first = parse_month(text, "period", min=dt.date(2000, 1, 1), max=dt.date(2099, 12, 1))
    except FieldError:
        raise FieldError("period", _("Enter a month (YYYY-MM) or a quarter (YYYY-Qn).")) \
            from None
    return first.strftime("%Y-%m"), *month_bounds(first.year, first.month)


def period_label(period: str) -> str:
    m = QUARTER.fullmatch(period)
    if m:
        return _("Q%(q)s %(year)s", q=m.group(2), year=m.group(1))
    return period


def previous_periods(day: dt.date) -> list[str]:
    """The month before ``day``, and the quarter before it when ``day``'s month starts a
    quarter."""
    last = day.replace(day=1) - dt.timedelta(days=1)
    out = [last.strftime("%Y-%m")]
    if day.month in (1, 4, 7, 10):
        out.append(f"{last.year}-Q{(last.month - 1) // 3 + 1}")
    return out


# -- the figures -------------------------------------------------------------------------------
def _in_force_at(last: dt.date):
    """Ids of the register versions in force at the end of ``last``."""
    end = utc_midnight(last + dt.timedelta(days=1))
    return (Register.select(Register.id)
            .where(Register.state.in_(("approved", "superseded"))
                   & (Register.in_force_from <= last)
                   & (Register.superseded_at.is_null() | (Register.superseded_at >= end))))


def _one(cond):
    return fn.SUM(Case(None, [(cond, 1)], 0))


def aggregate(first: dt.date, last: dt.date, regions: set[int],
              education: bool | None = None) -> dict:
    """Grouped figures per (department id or None, region id): a grouped query per table,
    all sent as one statement (``UNION ALL``; a round trip each was a third of a city's
    evaluation on PostgreSQL). ``education``: whether the education tasks table exists
    (looked up when not given)."""
    start, end = utc_midnight(first), utc_midnight(last + dt.timedelta(days=1))
    ids = sorted(regions)
    in_force = _in_force_at(last)
    parts = [
        (("posts",),
         Post.select(Department.id, Department.region, fn.COUNT(Post.id))
         .join(Department).where(Department.region.in_(ids))
         .group_by(Department.id, Department.region)),
        (("posts_covered", "reviews_due", "reviews_on_time"),
         Point.select(Point.department, Point.region, fn.COUNT(fn.DISTINCT(Point.post)),
                      fn.COUNT(Point.id), _one(Point.next_review.is_null()
                                               | (Point.next_review > last)))
         .where(Point.register.in_(in_force) & Point.region.in_(ids))
         .group_by(Point.department, Point.region)),
        (("measures_due", "measures_on_time"),
         Measure.select(Point.department, Point.region, fn.COUNT(Measure.id),
                        _one((Measure.status == "done") & (Measure.done_on <= Measure.due)))
         .join(Point)
         .where(Point.register.in_(in_force) & Point.region.in_(ids)
                & Measure.due.between(first, last) & (Measure.status != "cancelled"))
         .group_by(Point.department, Point.region)),
        (("warnings_raised", "warnings_handled", "warnings_escalated"),
         RiskWarning.select(RiskWarning.department, RiskWarning.region,
                            fn.COUNT(RiskWarning.id), _one(RiskWarning.state == "handled"),
                            _one(RiskWarning.escalations > 0))
         .where(RiskWarning.region.in_(ids) & (RiskWarning.raised_at >= start)
                & (RiskWarning.raised_at < end))
         .group_by(RiskWarning.department, RiskWarning.region)),
        (("reminders",),
         Reminder.select(Post.department, Reminder.region, fn.COUNT(Reminder.id))
         .join(Post, JOIN.LEFT_OUTER, on=(Reminder.post == Post.id))
         .where(Reminder.region.in_(ids) & Reminder.day.between(first, last))
         .group_by(Post.department, Reminder.region)),
        (("talks",),
         Talk.select(Talk.department, Talk.region, fn.COUNT(Talk.id))
         .where(Talk.region.in_(ids) & Talk.held_on.between(first, last))
         .group_by(Talk.department, Talk.region)),
        (("accountability",),
         Accountability.select(Accountability.department, Accountability.region,
                               fn.COUNT(Accountability.id))
         .where(Accountability.region.in_(ids)
                & Accountability.decided_on.between(first, last))
         .group_by(Accountability.department, Accountability.region)),
    ]
    if education_available() if education is None else education:
        parts.append((("education_due", "education_done"),
                      EducationTask.select(EducationTask.department, EducationTask.region,
                                           fn.COUNT(EducationTask.id),
                                           _one(EducationTask.completed_at.is_null(False)
                                                & (EducationTask.completed_at < end)))
                      .where(EducationTask.region.in_(ids)
                             & EducationTask.due.between(first, last))
                      .group_by(EducationTask.department, EducationTask.region)))
    width = max(len(names) for names, _query in parts)
    union = None
    for kind, (names, query) in enumerate(parts):
        query = query.select_extend(*[Value(0)] * (width - len(names)), Value(kind))
        union = query if union is None else union.union_all(query)
    sums: dict = defaultdict(lambda: dict.fromkeys(FIGURES, 0))
    for dept, region, *values in db.execute(union):
        s = sums[(dept, region)]
        for name, value in zip(parts[values[-1]][0], values):
            s[name] += int(value or 0)
    return sums


def education_available() -> bool:
    """Education completion counts only where the education tasks table exists."""
    return EducationTask.table_exists()


def score(s: dict, weights: dict) -> tuple[float, dict]:
    """The weighted 0–100 score of grouped figures and each indicator's 0–100 (None: no
    denominator in the period, left out)."""
    parts, total, weight = {}, 0.0, 0
    for key, (num, den) in INDICATORS.items():
        if not s.get(den):
            parts[key] = None
            continue
        share = s[num] / s[den]
        parts[key] = round(100 * (1 - share if key == "escalation" else share), 2)
        total += parts[key] * weights.get(key, 0)
        weight += weights.get(key, 0)
    return (round(total / weight, 2) if weight else 0.0), parts


def _rank(rows: list[dict]) -> None:
    """Rank 1, 2, … by score (ties share a rank); a row with nothing to measure: rank 0."""
    rows.sort(key=lambda r: (not r["_scored"], -r["score"], r["label"]))
    rank, prev, n = 0, None, 0
    for row in rows:
        if not row["_scored"]:
            row["rank"] = 0
            continue
        n += 1
        if row["score"] != prev:
            rank, prev = n, row["score"]
        row["rank"] = rank


def evaluate(user, region: Region, period: str) -> EvaluationRun:
    """Evaluate every department and region under ``region`` for ``period`` (a month
    ``YYYY-MM`` or a quarter ``YYYY-Qn``) and store the result as a new version."""
    period, first, last = period_bounds(period)
    require_region(user, PERM, region.id)
    weights = config.get("weights")
    began = time.perf_counter()
    regions = descendants(region.id)
    education = education_available()
    sums = aggregate(first, last, regions, education)
    by_dept: dict = defaultdict(lambda: dict.fromkeys(FIGURES, 0))
    by_region: dict = defaultdict(lambda: dict.fromkeys(FIGURES, 0))
    for (dept, rid), s in sums.items():
        for key, value in s.items():
            if dept is not None:
                by_dept[dept][key] += value
            by_region[rid][key] += value
    parents, names = {}, {}
    for rid, parent, name in (Region.select(Region.id, Region.parent, Region.name)
                              .where(Region.id.in_(sorted(regions))).tuples()):
        parents[rid], names[rid] = parent, name
    rolled: dict = defaultdict(lambda: dict.fromkeys(FIGURES, 0))
    for rid, s in by_region.items():
        node = rid
        while node is not None and node in regions:
            for key, value in s.items():
                rolled[node][key] += value
            node = parents.get(node)
    dept_region, dept_names = {}, {}
    for did, rid, name in (Department.select(Department.id, Department.region, Department.name)
                           .where(Department.region.in_(sorted(regions))).tuples()):
        dept_region[did], dept_names[did] = rid, name
    rows = []
    for level, table, labels in (("department", by_dept, dept_names), ("region", rolled, names)):
        level_rows = []
        for key, s in table.items():
            if key not in labels:
                continue
            total, parts = score(s, weights)
            level_rows.append(dict(s, level=level, label=labels[key][:100], score=total,
                                   _scored=any(v is not None for v in parts.values()),
                                   department=key if level == "department" else None,
                                   region=dept_region[key] if level == "department"
                                   else key))
        if level == "department":
            _rank(level_rows)
        else:  # a region is ranked among its siblings (the counties of a city)
            groups: dict = defaultdict(list)
            for row in level_rows:
                groups[parents.get(row["region"]) if row["region"] != region.id else None] \
                    .append(row)
            for group in groups.values():
                _rank(group)
            level_rows.sort(key=lambda r: (r["region"] != region.id, r["rank"] == 0,
                                           r["rank"], r["label"]))
        rows += level_rows
    with db.atomic():
        version = (EvaluationRun.select(fn.MAX(EvaluationRun.version))
                   .where((EvaluationRun.region == region.id)
                          & (EvaluationRun.period == period)).scalar() or 0) + 1
        run = EvaluationRun.create(region=region.id, period=period, version=version,
                                   weights=dict(weights, education_counted=education),
                                   created_by=actor(user) if user is not None else "schedule")
        _store(run, rows)
        run.seconds = round(time.perf_counter() - began, 3)
        EvaluationRun.update(seconds=run.seconds).where(EvaluationRun.id == run.id).execute()
        record("risk.evaluation.run", object_type="risk_evaluation_run", object_id=run.id,
               region_id=region.id, user=user,
               summary=f"risk prevention evaluation {period} v{version}: "
                       f"{len(by_dept)} departments, {len(rolled)} regions")
    return run


def _store(run: EvaluationRun, rows: list[dict]) -> None:
    """The run's rows in one bulk insert (``core.api.bulk_insert``)."""
    names = ("level", "region", "department", "label", *FIGURES, "score", "rank")
    fields = [EvaluationScore._meta.fields[n] for n in names]
    bulk_insert(EvaluationScore._meta.table_name, ["run_id"] + [f.column_name for f in fields],
                [(run.id, *(r[n] for n in names)) for r in rows])


def save_weights(user, data: dict) -> dict:
    """Save the evaluation weights (a city-wide grant of ``risk.settings``), audited."""
    require_city(user, SETTINGS_PERM)
    from core.api import parse_int
    value = {k: parse_int(data.get(k), f"weights.{k}", min=0, max=100)
             for k in config.WEIGHT_KEYS}
    return config.save(user, "weights", value)


def city_roots() -> list[Region]:
    return list(Region.select().where(Region.parent.is_null()).order_by(Region.id))


def scheduled(day: dt.date) -> list[EvaluationRun]:
    """The job's part: last month (and last quarter at a quarter's start) for each city,
    once (a scheduled run is not repeated; staff may re-run at any time)."""
    out = []
    for period in previous_periods(day):
        for root in city_roots():
            if not EvaluationRun.select().where(
                    (EvaluationRun.region == root.id) & (EvaluationRun.period == period)
                    & (EvaluationRun.created_by == "schedule")).exists():
                out.append(evaluate(None, root, period))
    return out


# -- reading the archive --------------------------------------------------------------------
def run_regions(run: EvaluationRun, allowed: set[int]) -> set[int]:
    """The regions of ``run`` the reader may see (empty: the run is not theirs)."""
    return descendants(run.region_id) & allowed


def scores(run: EvaluationRun, level: str, region_ids: set[int]) -> list[EvaluationScore]:
    """The run's rows of one level in the regions, ranked first, unranked after."""
    if not region_ids:
        return []
    return list(EvaluationScore.select()
                .where((EvaluationScore.run == run) & (EvaluationScore.level == level)
                       & EvaluationScore.region.in_(sorted(region_ids)))
                .order_by(EvaluationScore.rank == 0, EvaluationScore.rank,
                          EvaluationScore.label))


def parts_of(row: EvaluationScore, run: EvaluationRun) -> dict:
    """Each indicator's 0–100 of a stored row (from its stored figures and the run's
    weights, so an old version reads as it was scored)."""
    return score({f: getattr(row, f) for f in FIGURES}, run.weights)[1]


def department_history(department_id: int) -> list[dict]:
    """A department's score per month (the newest version of each month, any region's
    run): period, score, rank, run."""
    rows = (EvaluationScore.select(EvaluationRun.period, EvaluationRun.version,
                                   EvaluationRun.created_at, EvaluationScore.score,
                                   EvaluationScore.rank, EvaluationRun.id)
            .join(EvaluationRun)
            .where((EvaluationScore.department == department_id)
                   & (EvaluationScore.level == "department"))
            .order_by(EvaluationRun.period, EvaluationRun.created_at).tuples())
    latest: dict = {}
    for period, _v, _at, total, rank, run_id in rows:
        latest[period] = {"period": period, "score": total, "rank": rank, "run": run_id}
    return [latest[p] for p in sorted(latest)]


COLUMNS = (("rank", _l("Rank")), ("label", _l("Name")), ("score", _l("Score")),
           ("posts", _l("Posts")), ("posts_covered", _l("Posts covered")),
           ("measures_due", _l("Measures due")), ("measures_on_time", _l("Measures on time")),
           ("reviews_due", _l("Points to review")), ("reviews_on_time", _l("Reviews on time")),
           ("warnings_raised", _l("Warnings raised")),
           ("warnings_handled", _l("Warnings handled")),
           ("warnings_escalated", _l("Warnings escalated")), ("reminders", _l("Reminders")),
           ("talks", _l("Talks")), ("accountability", _l("Accountability records")),
           ("education_due", _l("Education tasks due")),
           ("education_done", _l("Education tasks completed")))


def export_sheets(run: EvaluationRun, region_ids: set[int]) -> list[Sheet]:
    """The run's department and region rankings, one worksheet each."""
    titles = {"department": _("Departments"), "region": _("Regions")}
    return [Sheet(titles[level], [str(label) for _key, label in COLUMNS],
                  [[getattr(row, key) for key, _label in COLUMNS]
                   for row in scores(run, level, region_ids)])
            for level in ("department", "region")]


# -- the counter board (the seed's four headline figures) ---------------------------------------
def counters(region_id: int) -> dict:
    """Risk points in force, reminders and warnings, talks and people held accountable in
    ``region_id`` and below (all time)."""
    ids = sorted(descendants(region_id))
    in_force = Register.select(Register.id).where(Register.state == "approved")
    people = (Accountability.select(fn.COUNT(fn.DISTINCT(fn.COALESCE(
        Accountability.person.cast("text"), Accountability.person_name))))
        .where(Accountability.region.in_(ids)).scalar() or 0)
    return {
        "points": Point.select().where(Point.register.in_(in_force)
                                       & Point.region.in_(ids)).count(),
        "reminders": Reminder.select().where(Reminder.region.in_(ids)).count(),
        "warnings": RiskWarning.select().where(RiskWarning.region.in_(ids)).count(),
        "talks": Talk.select().where(Talk.region.in_(ids)).count(),
        "admonishments": Talk.select().where(Talk.region.in_(ids)
                                             & (Talk.kind == "admonishment")).count(),
        "accountable": int(people),
    }


def board(allowed: set[int]) -> list[dict]:
    """The counters of each city and county the reader may see (a county reader: theirs)."""
    out = []
    for root in city_roots():
        levels = [root] + list(Region.select().where(Region.parent == root.id)
                               .order_by(Region.id))
        for r in levels:
            if r.id in allowed:
                out.append({"region": r, "city": r.parent_id is None, **counters(r.id)})
    return out


def parent_of(region_id: int) -> int | None:
    row = Region.get_or_none(Region.id == region_id)
    return row.parent_id if row is not None else None
