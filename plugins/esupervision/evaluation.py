"""Daily supervision findings (日常监察) and the monthly efficiency evaluation (效能评估).

Four dimensions, each 0–100, weighted (configurable): efficiency (on-time and early
completion, time used against the limit), abnormal handling (yellow −5 / red −10 per
signal per 100 cases), daily supervision (finding points and accountability records,
问责, −10 each), public rating (satisfaction with the applicants' ratings, 好差评); plus
a bonus for early completion. Every run is stored as a new immutable version of its
month; a low score sends a suggestion letter (监察建议书, ``letters.py``).
"""
from __future__ import annotations

import datetime as dt
import json
import time
from collections import defaultdict

from peewee import Case, fn

from core.api import (
    Department,
    FieldError,
    Region,
    Sheet,
    _,
    _l,
    db,
    has_permission,
    month_bounds,
    parse_date,
    record,
    require_city_wide,
    sql_workdays_between,
    supervision_office,
    today,
    utc_midnight,
)
from core.api import parse_month as checked_month
from plugins.esupervision import letters as letters_mod
from plugins.esupervision.models import (
    Accountability,
    Clock,
    EvaluationConfig,
    EvaluationRun,
    EvaluationScore,
    InspectionFinding,
    MonitoredCase,
    Signal,
    SupervisionCase,
)

DEFAULTS = {"weight_efficiency": 40, "weight_abnormal": 30, "weight_supervision": 15,
            "weight_public": 15, "yellow_points": 5, "red_points": 10, "minor_points": 2,
            "major_points": 5, "accountability_points": 10, "early_bonus_step": 10,
            "bonus_cap": 5, "suggestion_below": 60, "letter_reply_days": 10}
WEIGHTS = ("weight_efficiency", "weight_abnormal", "weight_supervision", "weight_public")
CATEGORIES = ("process", "time_limit", "fees", "conduct", "data", "other")
SEVERITIES = ("minor", "major")


class EvaluationError(ValueError):
    """Bad evaluation input (the message names the field)."""


# -- configuration ----------------------------------------------------------------------
def config() -> dict:
    row = EvaluationConfig.select().order_by(EvaluationConfig.id.desc()).first()
    out = dict(DEFAULTS)
    if row is not None:
        out.update(json.loads(row.params))
    return out


def set_config(params: dict, user=None) -> dict:
    """Change weights, deductions and bonuses; the four weights must add up to 100. The
    configuration holds for the whole city: a city-wide grant (``user`` None: the system)."""
    if user is not None:
        require_city_wide(user, "esupervision.manage")
    clean = {}
    for key, default in DEFAULTS.items():
        raw = params.get(key, default)
        try:
            value = int(raw)
        except (TypeError, ValueError):
            raise EvaluationError(_("%(key)s: must be a whole number", key=key)) from None
        if not 0 <= value <= 100:
            raise EvaluationError(_("%(key)s: must be between 0 and 100", key=key))
        clean[key] = value
    if sum(clean[w] for w in WEIGHTS) != 100:
        raise EvaluationError(_("weights: the four weights must add up to 100"))
    with db.atomic():
        old = config()
        EvaluationConfig.create(params=json.dumps(clean, sort_keys=True),
                                updated_by=getattr(user, "username", "") or "system")
        record("esupervision.evaluation.config", object_type="evaluation_config",
               summary="evaluation weights and deductions changed", user=user,
               changes={k: [old.get(k), v] for k, v in clean.items() if old.get(k) != v})
    return clean


# -- daily supervision findings -----------------------------------------------------------
def record_finding(user, department: Department, day: dt.date, category: str,
                   description: str, severity: str) -> InspectionFinding:
    """Record a daily supervision finding (日常监察) about ``department``."""
    if user is not None and not has_permission(user, "esupervision.supervise",
                                               department.region_id):
        raise EvaluationError(_("department: not within your scope"))
    if category not in CATEGORIES:
        raise EvaluationError(_("category: must be one of %(known)s", known=", ".join(CATEGORIES)))
    if severity not in SEVERITIES:
        raise EvaluationError(_("severity: must be minor or major"))
    text = (description or "").strip()
    if not text or len(text) > 4000:
        raise EvaluationError(_("description: 1–4000 characters are required"))
    try:  # a finding is about a day that has been: not 1899, not 9999, not tomorrow
        day = parse_date(day, "day", max=today())
    except FieldError as exc:
        raise EvaluationError(f"day: {exc.message}") from None
    points = config()[f"{severity}_points"]
    with db.atomic():
        row = InspectionFinding.create(region=department.region_id, department=department,
                                       day=day, category=category, description=text,
                                       severity=severity, points=points,
                                       recorded_by=getattr(user, "username", "") or "system")
        record("esupervision.finding.record", object_type="inspection_finding",
               object_id=row.id, region_id=department.region_id, user=user,
               summary=f"{severity} finding ({category}) for {department.name}: -{points}")
    return row


# -- the monthly evaluation -------------------------------------------------------------------
def parse_month(month: str) -> tuple[dt.date, dt.date]:
    """The first and last day of ``month`` (``YYYY-MM``, within the years the calendar
    and the checked parser know)."""
    try:
        first = checked_month(month, "month")
    except FieldError as exc:
        raise EvaluationError(f"month: {exc.message}") from None
    return month_bounds(first.year, first.month)


def _aggregate(first: dt.date, last: dt.date) -> dict:
    """Grouped sums per (department id, region id): one query per measure."""
    start, end = utc_midnight(first), utc_midnight(last + dt.timedelta(days=1))
    sums: dict = defaultdict(lambda: defaultdict(float))
    worked = sql_workdays_between(Clock.start_day, Clock.ended_on)
    used = (worked - Clock.stopped_days) * 1.0 / Clock.limit_days
    one = lambda cond: fn.SUM(Case(None, [(cond, 1)], 0))
    completion = (Clock.select(MonitoredCase.department, MonitoredCase.region,
                               fn.COUNT(Clock.id), one(Clock.ended_on <= Clock.due),
                               one(Clock.ended_on < Clock.due), fn.SUM(used),
                               fn.COUNT(MonitoredCase.rating), one(MonitoredCase.rating >= 4))
                  .join(MonitoredCase, on=(Clock.case == MonitoredCase.id))
                  .where((Clock.kind == "completion") & Clock.ended_on.between(first, last)
                         & (Clock.limit_days > 0))
                  .group_by(MonitoredCase.department, MonitoredCase.region).tuples())
    for dept, region, n, on_time, early, ratio, rated, happy in completion:
        s = sums[(dept, region)]
        s["decided"] += n
        s["on_time"] += on_time or 0
        s["early"] += early or 0
        s["ratio"] += float(ratio or 0)
        s["rated"] += rated or 0
        s["happy"] += happy or 0
    cases = (MonitoredCase.select(MonitoredCase.department, MonitoredCase.region,
                                  fn.COUNT(MonitoredCase.id))
             .where(((MonitoredCase.submitted_at >= start) & (MonitoredCase.submitted_at < end))
                    | ((MonitoredCase.decided_at >= start) & (MonitoredCase.decided_at < end)))
             .group_by(MonitoredCase.department, MonitoredCase.region).tuples())
    for dept, region, n in cases:
        sums[(dept, region)]["cases"] += n
    signals = (Signal.select(MonitoredCase.department, MonitoredCase.region, Signal.level,
                             fn.COUNT(Signal.id))
               .join(MonitoredCase)
               .where((Signal.raised_at >= start) & (Signal.raised_at < end))
               .group_by(MonitoredCase.department, MonitoredCase.region, Signal.level)
               .tuples())
    for dept, region, level, n in signals:
        sums[(dept, region)][level] += n
    findings = (InspectionFinding.select(InspectionFinding.department, InspectionFinding.region,
                                         fn.SUM(InspectionFinding.points))
                .where(InspectionFinding.day.between(first, last))
                .group_by(InspectionFinding.department, InspectionFinding.region).tuples())
    for dept, region, points in findings:
        sums[(dept, region)]["points"] += points or 0
    accountability = (Accountability.select(SupervisionCase.department, SupervisionCase.region,
                                            fn.COUNT(Accountability.id))
                      .join(SupervisionCase)
                      .where((Accountability.recorded_at >= start)
                             & (Accountability.recorded_at < end))
                      .group_by(SupervisionCase.department, SupervisionCase.region).tuples())
    for dept, region, n in accountability:
        sums[(dept, region)]["accountability"] += n
    return sums


def score(s: dict, cfg: dict) -> dict:
    """The four dimensions, the bonus and the weighted total (0–100) from grouped sums."""
    decided = int(s.get("decided", 0))
    cases = max(int(s.get("cases", 0)), decided, 1)
    on_time = s.get("on_time", 0) / decided if decided else None
    early = s.get("early", 0) / decided if decided else None
    ratio = s.get("ratio", 0) / decided if decided else None
    if decided:
        efficiency = 100 * (0.6 * on_time + 0.2 * early + 0.2 * max(0.0, min(1.0, 1 - ratio)))
    else:
        efficiency = 100.0
    yellow, red = int(s.get("yellow", 0)), int(s.get("red", 0))
    deduction = (yellow * cfg["yellow_points"] + red * cfg["red_points"]) * 100 / max(cases, 100)
    abnormal = max(0.0, 100 - deduction)
    held = int(s.get("accountability", 0))
    supervision = max(0.0, 100 - s.get("points", 0) - held * cfg["accountability_points"])
    rated = s.get("rated", 0)
    satisfaction = s.get("happy", 0) / rated if rated else None
    public = 100 * satisfaction if satisfaction is not None else 100.0
    bonus = 0.0
    if early is not None and cfg["early_bonus_step"]:
        bonus = min(cfg["bonus_cap"], int(100 * early // cfg["early_bonus_step"]))
    total = (efficiency * cfg["weight_efficiency"] + abnormal * cfg["weight_abnormal"]
             + supervision * cfg["weight_supervision"] + public * cfg["weight_public"]) / 100
    total = max(0.0, min(100.0, total + bonus))
    pct = lambda v: None if v is None else round(100 * v, 1)
    return {"cases": int(s.get("cases", 0)), "decided": decided, "on_time_rate": pct(on_time),
            "early_rate": pct(early), "time_ratio": None if ratio is None else round(ratio, 3),
            "yellow": yellow, "red": red, "finding_points": int(s.get("points", 0)),
            "accountability": held,
            "satisfaction": pct(satisfaction), "efficiency": round(efficiency, 2),
            "abnormal": round(abnormal, 2), "supervision": round(supervision, 2),
            "public": round(public, 2), "bonus": float(bonus), "total": round(total, 2)}


def _rank(rows: list[dict]) -> None:
    """Rank 1, 2, … by total; a unit that decided no case in the month has nothing to
    be measured on and is not ranked (rank 0, listed after the others)."""
    rows.sort(key=lambda r: (not r["decided"], -r["total"], r["label"]))
    rank = 0
    for row in rows:
        if row["decided"]:
            rank += 1
            row["rank"] = rank
        else:
            row["rank"] = 0


def evaluate(month: str, user=None) -> EvaluationRun:
    """Score every department and region for ``month`` (YYYY-MM) as a new version."""
    first, last = parse_month(month)
    if user is not None:
        require_city_wide(user, "esupervision.manage")
    cfg = config()
    began = time.perf_counter()
    sums = _aggregate(first, last)
    by_dept: dict = defaultdict(lambda: defaultdict(float))
    by_region: dict = defaultdict(lambda: defaultdict(float))
    for (dept, region), s in sums.items():
        for key, value in s.items():
            if dept is not None:
                by_dept[dept][key] += value
            by_region[region][key] += value
    parents = dict(Region.select(Region.id, Region.parent).tuples())
    rolled: dict = defaultdict(lambda: defaultdict(float))
    for region, s in by_region.items():
        node, seen = region, set()
        while node is not None and node not in seen:
            seen.add(node)
            for key, value in s.items():
                rolled[node][key] += value
            node = parents.get(node)
    depts = {d.id: d for d in Department.select().where(Department.id.in_(list(by_dept)))} \
        if by_dept else {}
    regions = {r.id: r for r in Region.select().where(Region.id.in_(list(rolled)))} \
        if rolled else {}
    dept_rows = [dict(score(s, cfg), level="department", department=d, region=depts[d].region_id,
                      label=depts[d].name) for d, s in by_dept.items() if d in depts]
    region_rows = [dict(score(s, cfg), level="region", department=None, region=r,
                        label=regions[r].name) for r, s in rolled.items() if r in regions]
    _rank(dept_rows)
    _rank(region_rows)
    with db.atomic():
        version = (EvaluationRun.select(fn.MAX(EvaluationRun.version))
                   .where(EvaluationRun.month == month).scalar() or 0) + 1
        run = EvaluationRun.create(month=month, version=version,
                                   params=json.dumps(cfg, sort_keys=True),
                                   created_by=getattr(user, "username", "") or "schedule")
        offices = {r: supervision_office(regions[r]) for r in regions
                   if regions[r].parent_id is not None}
        low = [(row, depts[row["department"]], "department") for row in dept_rows
               if row["rank"] and row["total"] < cfg["suggestion_below"]]
        low += [(row, offices[row["region"]], "region") for row in region_rows
                if row["rank"] and row["total"] < cfg["suggestion_below"]
                and offices.get(row["region"]) is not None]
        for row, to, level in low:
            row["suggestion"] = letters_mod.issue(run, row, to, level, cfg, user).number
        rows = dept_rows + region_rows
        for i in range(0, len(rows), 500):
            EvaluationScore.insert_many([dict(r, run=run.id) for r in rows[i:i + 500]]).execute()
        run.seconds = round(time.perf_counter() - began, 3)
        EvaluationRun.update(seconds=run.seconds).where(EvaluationRun.id == run.id).execute()
        record("esupervision.evaluation.run", object_type="evaluation_run", object_id=run.id,
               user=user, summary=f"efficiency evaluation {month} v{version}: "
                                  f"{len(dept_rows)} departments, {len(region_rows)} regions")
    return run


def previous_month(today: dt.date) -> str:
    return (today.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")


def scheduled(today: dt.date) -> EvaluationRun | None:
    """Month-end job: evaluate last month once (a scheduled run is never repeated)."""
    month = previous_month(today)
    if EvaluationRun.select().where((EvaluationRun.month == month)
                                    & (EvaluationRun.created_by == "schedule")).exists():
        return None
    return evaluate(month)


# -- reading the archive -----------------------------------------------------------------------
def scores(run: EvaluationRun, level: str, region_ids: set[int]) -> list[EvaluationScore]:
    """The run's scores of one level in the regions, ranked first, unranked after."""
    return list(EvaluationScore.select()
                .where((EvaluationScore.run == run) & (EvaluationScore.level == level)
                       & EvaluationScore.region.in_(sorted(region_ids)))
                .order_by(EvaluationScore.rank == 0, EvaluationScore.rank,
                          EvaluationScore.label))


def department_history(department_id: int) -> dict:
    """A department's total per month (latest version of each month), for its chart."""
    latest = (EvaluationRun.select(EvaluationRun.month, fn.MAX(EvaluationRun.version)
                                   .alias("v")).group_by(EvaluationRun.month))
    wanted = {(m, v) for m, v in latest.tuples()}
    rows = (EvaluationScore.select(EvaluationRun.month, EvaluationRun.version,
                                   EvaluationScore.total, EvaluationScore.rank)
            .join(EvaluationRun)
            .where(EvaluationScore.department == department_id)
            .order_by(EvaluationRun.month).tuples())
    points = [(m, t, r) for m, v, t, r in rows if (m, v) in wanted]
    return {"months": [p[0] for p in points], "totals": [p[1] for p in points],
            "ranks": [p[2] for p in points]}


COLUMNS = (("rank", _l("Rank")), ("label", _l("Name")), ("total", _l("Total")),
           ("efficiency", _l("Efficiency")), ("abnormal", _l("Abnormal handling")),
           ("supervision", _l("Daily supervision")), ("public", _l("Public rating")),
           ("bonus", _l("Bonus")), ("cases", _l("Cases")), ("decided", _l("Decided")),
           ("on_time_rate", _l("On time %")), ("early_rate", _l("Early %")),
           ("time_ratio", _l("Time used / limit")), ("yellow", _l("Yellow")),
           ("red", _l("Red")), ("finding_points", _l("Finding points")),
           ("accountability", _l("Accountability records")),
           ("satisfaction", _l("Satisfaction %")))


def export_sheets(run: EvaluationRun, region_ids: set[int], headers: dict) -> list[Sheet]:
    """The run's department and region rankings, one worksheet each (for core.export)."""
    return [Sheet(str(headers[level]), [str(headers.get(key, label)) for key, label in COLUMNS],
                  [[getattr(row, key) for key, _label in COLUMNS]
                   for row in scores(run, level, region_ids)])
            for level in ("department", "region")]

