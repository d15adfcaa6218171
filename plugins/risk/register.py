"""The risk register (岗位风险信息): a unit identifies its own risk points and submits its
register; the discipline inspection office approves it or returns it with reasons; the
approved version is in force and immutable — a change is a new version, opened as a copy
of the one in force, and old versions stay readable.

What may change on a register in force is its tracking, not its content: the progress of
measures (:func:`track_measure`) and periodic reviews (:func:`review_point`).
Every step is audited; every step checks that the acting user's grant covers the unit's
region.
"""
from __future__ import annotations

import calendar as month_calendar
import datetime as dt
from dataclasses import dataclass

from peewee import JOIN, fn

from core.api import (
    Department,
    FieldError,
    Person,
    Post,
    _,
    add_workdays,
    clean_text,
    db,
    parse_date,
    parse_id,
    parse_int,
    record,
    today,
    utcnow,
)
from plugins.risk import scoring
from plugins.risk.access import actor, require_region
from plugins.risk.errors import RiskError
from plugins.risk.models import (
    MEASURE_STATES,
    RISK_TYPES,
    WORKING_STATES,
    Measure,
    MeasureRule,
    Point,
    PointRule,
    Register,
    Review,
    Rule,
)

EDIT = "risk.register.edit"
REVIEW = "risk.register.review"
EDITABLE = ("draft", "returned")
REVIEW_OUTCOMES = ("unchanged", "changes_needed")
POINT_FIELDS = ("code", "post", "duty", "power_code", "description", "risk_type",
                "likelihood", "impact", "criteria", "level", "reminder_text", "leader",
                "owner", "supervisor")


# -- reading ---------------------------------------------------------------------------
def in_force(department_id: int) -> Register | None:
    """The department's register in force (approved), if any."""
    return (Register.select().where((Register.department == department_id)
                                    & (Register.state == "approved")).first())


def working_copy(department_id: int) -> Register | None:
    """The department's next version being drafted, reviewed or returned, if any."""
    return (Register.select().where((Register.department == department_id)
                                    & Register.state.in_(WORKING_STATES)).first())


def versions(department_id: int) -> list[Register]:
    return list(Register.select().where(Register.department == department_id)
                .order_by(Register.version.desc()))


def points_of(register: Register) -> list[Point]:
    """The register's points with their post, in order."""
    return list(Point.select(Point, Post).join(Post)
                .where(Point.register == register.id).order_by(Point.sort, Point.id))


def in_force_points():
    """Points of registers in force (a query to refine)."""
    return Point.select().join(Register).where(Register.state == "approved")


# -- checks ----------------------------------------------------------------------------
def _editable(register: Register) -> None:
    if register.state not in EDITABLE:
        raise RiskError(_("Version %(v)d of this register is %(state)s: it cannot be edited. "
                          "Open a new version to make a change.", v=register.version,
                          state=state_label(register.state)))


def state_label(state: str) -> str:
    return str({"draft": _("a draft"), "submitted": _("submitted for review"),
                "returned": _("returned for changes"), "approved": _("in force"),
                "superseded": _("superseded")}.get(state, state))


def _fresh(register: Register) -> Register:
    return Register.get_by_id(register.id)


def _person(value, field: str, region_id: int, known: dict | None = None) -> int | None:
    """A person of the unit's region, by id (blank: none). ``known`` caches the region
    of each person looked up (an import checks thousands of rows)."""
    if value is None or value == "":  # most rows of an import name nobody
        return None
    pid = parse_id(value, field, default=None)
    if pid is None:
        return None
    if known is None or pid not in known:
        person = Person.get_or_none(Person.id == pid)
        region = person.region_id if person is not None else None
        if known is None:
            known = {}
        known[pid] = region
    if known[pid] != region_id:
        raise FieldError(field, _("Choose a person of this unit's region."))
    return pid


@dataclass
class PointInput:
    """Checks the fields of risk points of one register (posts and people looked up
    once): the shared path of the forms and the import."""

    register: Register

    def __post_init__(self):
        self.grading = scoring.grading(self.register.matrix_id)
        self.posts = {pid for (pid,) in Post.select(Post.id).where(
            Post.department == self.register.department_id).tuples()}
        self.people: dict[int, int | None] = {}
        self.region = self.register.region_id

    def values(self, data: dict, partial_code: str | None = None) -> dict:
        post = parse_id(data.get("post"), "post")
        if post not in self.posts:
            raise FieldError("post", _("Choose a post of this unit."))
        risk_type = data.get("risk_type")
        if risk_type not in RISK_TYPES:
            raise FieldError("risk_type", _("Choose a risk type."))
        likelihood = parse_int(data.get("likelihood"), "likelihood", min=1, max=9,
                               default=None)
        impact = parse_int(data.get("impact"), "impact", min=1, max=9, default=None)
        criteria = _criteria(data.get("criteria"), len(self.grading.criteria))
        region = self.region
        values = {
            "post": post,
            "duty": clean_text(data.get("duty"), "duty", max_length=200),
            "power_code": _power_code(data.get("power_code")),
            "description": clean_text(data.get("description"), "description",
                                      max_length=2000, multiline=True, required=True),
            "risk_type": risk_type, "likelihood": likelihood, "impact": impact,
            "criteria": criteria,
            "level": self.grading.level(likelihood, impact, criteria),
            "reminder_text": clean_text(data.get("reminder_text"), "reminder_text",
                                        max_length=120),
            "leader": _person(data.get("leader"), "leader", region, self.people),
            "owner": _person(data.get("owner"), "owner", region, self.people),
            "supervisor": _person(data.get("supervisor"), "supervisor", region, self.people),
        }
        code = clean_text(data.get("code"), "code", max_length=32, nfkc=True)
        if code and not all(c.isalnum() or c in "-_." for c in code):
            raise FieldError("code", _("Letters, digits, '-', '_' or '.' only."))
        values["code"] = code or partial_code
        return values


def _criteria(value, count: int) -> int:
    """The criteria met as bits: from a list of 1-based numbers or a "1,3" string."""
    if value in (None, "", []):
        return 0
    if isinstance(value, int) and not isinstance(value, bool):
        items = [i + 1 for i in range(count) if value >> i & 1]
    elif isinstance(value, str):
        items = [v for v in value.replace("，", ",").replace(" ", ",").split(",") if v]
    else:
        items = list(value)
    bits = 0
    for item in items:
        n = parse_int(item, "criteria", min=1, max=count)
        bits |= 1 << (n - 1)
    return bits


def _power_code(value) -> str:
    code = clean_text(value, "power_code", max_length=64, nfkc=True)
    if code and not all(c.isalnum() or c in "-_." for c in code):
        raise FieldError("power_code", _("A power item code: letters, digits, '-' or '_'."))
    return code


def next_code(department: Department) -> str:
    """The next free point code of a unit: ``<department code>-R001`` …"""
    prefix = f"{department.code}-R"
    codes = [c for (c,) in Point.select(Point.code).where(
        (Point.department == department.id) & Point.code.startswith(prefix)).tuples()]
    numbers = [int(c[len(prefix):]) for c in codes if c[len(prefix):].isdigit()]
    return f"{prefix}{max(numbers, default=0) + 1:03d}"


PERSON_FIELDS = ("post", "leader", "owner", "supervisor")


def _snapshot(point: Point) -> dict:
    """The register content of a point: its fields, foreign keys as ids."""
    return {f: getattr(point, f + "_id" if f in PERSON_FIELDS else f) for f in POINT_FIELDS}


# -- working copies --------------------------------------------------------------------
def open_working_copy(user, department: Department) -> Register:
    """The department's working copy: the one being drafted, else a new version copied
    from the one in force (points, measures and their rules), scored on the matrix in
    force now."""
    require_region(user, EDIT, department.region_id)
    found = working_copy(department.id)
    if found is not None:
        return found
    with db.atomic():
        base = in_force(department.id)
        latest = (Register.select(fn.MAX(Register.version))
                  .where(Register.department == department.id).scalar() or 0)
        matrix = scoring.current()
        register = Register.create(region=department.region_id, department=department.id,
                                   version=latest + 1, matrix=matrix.id,
                                   based_on=base.id if base else None,
                                   created_by=actor(user))
        copied = _copy_points(base, register) if base is not None else 0
        if base is not None and base.matrix_id != matrix.id:
            _rescore(register)
        record("risk.register.open", object_type="risk_register", object_id=register.id,
               region_id=register.region_id, user=user,
               summary=f"register version {register.version} of {department.name} opened"
                       + (f" from version {base.version} ({copied} points)" if base else ""))
    return register


def _copy_points(base: Register, register: Register) -> int:
    """Copy the points of ``base`` into ``register`` with set-based INSERT … SELECT."""
    from peewee import Value
    cols = ["region", "department", "code", "post", "duty", "power_code", "description",
            "risk_type", "likelihood", "impact", "criteria", "level", "reminder_text",
            "leader", "owner", "supervisor", "last_reviewed", "next_review", "sort"]
    fields = [getattr(Point, c) for c in cols]
    n = (Point.insert_from(Point.select(Value(register.id), Point.id, *fields)
                           .where(Point.register == base.id),
                           [Point.register, Point.origin, *fields])
         .as_rowcount().execute())
    new = Point.alias()
    mcols = ["key", "text", "owner", "deadline_days", "due", "status", "done_on",
             "progress_note", "sort"]
    mfields = [getattr(Measure, c) for c in mcols]
    (Measure.insert_from(Measure.select(new.id, *mfields)
                         .join(new, on=(new.origin == Measure.point))
                         .where(new.register == register.id),
                         [Measure.point, *mfields]).execute())
    (PointRule.insert_from(PointRule.select(new.id, PointRule.rule)
                           .join(new, on=(new.origin == PointRule.point))
                           .where(new.register == register.id),
                           [PointRule.point, PointRule.rule]).execute())
    old_m, new_m = Measure.alias(), Measure.alias()
    (MeasureRule.insert_from(
        MeasureRule.select(new_m.id, MeasureRule.rule)
        .join(old_m, on=(old_m.id == MeasureRule.measure))
        .join(new, on=(new.origin == old_m.point))
        .join(new_m, on=((new_m.point == new.id) & (new_m.key == old_m.key)))
        .where(new.register == register.id),
        [MeasureRule.measure, MeasureRule.rule]).execute())
    return n


def _rescore(register: Register) -> None:
    """Grade copied points again on the register's (newer) matrix; a score outside the
    new scales is brought within them, and a point that cannot be graded keeps its level
    for the unit to correct."""
    grading = scoring.grading(register.matrix_id)
    top_l, top_i = len(grading.likelihood), len(grading.impact)
    mask = (1 << len(grading.criteria)) - 1
    by_level: dict[tuple, list[int]] = {}
    for pid, li, im, crit, old in (Point.select(Point.id, Point.likelihood, Point.impact,
                                                Point.criteria, Point.level)
                                   .where(Point.register == register.id).tuples()):
        li = min(li, top_l) if li is not None else None
        im = min(im, top_i) if im is not None else None
        crit &= mask
        try:
            level = grading.level(li, im, crit)
        except FieldError:
            level = old
        by_level.setdefault((li, im, crit, level), []).append(pid)
    for (li, im, crit, level), ids in by_level.items():
        Point.update(likelihood=li, impact=im, criteria=crit, level=level) \
            .where(Point.id.in_(ids)).execute()


# -- points and measures of a working copy -----------------------------------------------
def add_point(user, register: Register, data: dict) -> Point:
    require_region(user, EDIT, register.region_id)
    with db.atomic():
        register = _fresh(register)
        _editable(register)
        dept = Department.get_by_id(register.department_id)
        values = PointInput(register).values(data, partial_code=None)
        values["code"] = values["code"] or next_code(dept)
        if Point.select().where((Point.register == register.id)
                                & (Point.code == values["code"])).exists():
            raise FieldError("code", _("This register already has a point %(code)s.",
                                       code=values["code"]))
        sort = (Point.select(fn.MAX(Point.sort)).where(Point.register == register.id)
                .scalar() or 0) + 1
        point = Point.create(register=register.id, region=register.region_id,
                             department=register.department_id, sort=sort, **values)
        record("risk.point.add", object_type="risk_point", object_id=point.id,
               region_id=register.region_id, user=user,
               summary=f"risk point {point.code} added to register v{register.version}",
               changes={k: [None, v] for k, v in values.items()})
    return point


def update_point(user, point: Point, data: dict) -> Point:
    require_region(user, EDIT, point.region_id)
    with db.atomic():
        register = Register.get_by_id(point.register_id)
        _editable(register)
        values = PointInput(register).values(data, partial_code=point.code)
        if values["code"] != point.code and Point.select().where(
                (Point.register == register.id) & (Point.code == values["code"])).exists():
            raise FieldError("code", _("This register already has a point %(code)s.",
                                       code=values["code"]))
        before = _snapshot(point)
        Point.update(**values).where(Point.id == point.id).execute()
        point = Point.get_by_id(point.id)
        record("risk.point.update", object_type="risk_point", object_id=point.id,
               region_id=point.region_id, user=user,
               summary=f"risk point {point.code} changed in register v{register.version}",
               changes={k: [before[k], v] for k, v in _snapshot(point).items()
                        if before[k] != v})
    return point


def delete_point(user, point: Point) -> None:
    require_region(user, EDIT, point.region_id)
    with db.atomic():
        register = Register.get_by_id(point.register_id)
        _editable(register)
        before = _snapshot(point)
        point.delete_instance(recursive=False)
        record("risk.point.delete", object_type="risk_point", object_id=point.id,
               region_id=point.region_id, user=user,
               summary=f"risk point {point.code} removed from register v{register.version}",
               changes={k: [v, None] for k, v in before.items()})


def measure_values(data: dict, region_id: int, known: dict | None = None) -> dict:
    """The checked fields of a measure (``known``: see :func:`_person`)."""
    return {"text": clean_text(data.get("text"), "text", max_length=1000, multiline=True,
                               required=True),
            "owner": _person(data.get("owner"), "owner", region_id, known),
            "deadline_days": parse_int(data.get("deadline_days"), "deadline_days",
                                       min=1, max=250)}


def add_measure(user, point: Point, data: dict) -> Measure:
    require_region(user, EDIT, point.region_id)
    with db.atomic():
        _editable(Register.get_by_id(point.register_id))
        values = measure_values(data, point.region_id)
        keys = [k for (k,) in Measure.select(Measure.key).where(Measure.point == point.id)
                .tuples()]
        numbers = [int(k[1:]) for k in keys if k[1:].isdigit()]
        key = f"M{max(numbers, default=0) + 1}"
        measure = Measure.create(point=point.id, key=key, sort=len(keys) + 1, **values)
        record("risk.measure.add", object_type="risk_measure", object_id=measure.id,
               region_id=point.region_id, user=user,
               summary=f"measure {key} added to risk point {point.code}",
               changes={k: [None, v] for k, v in values.items()})
    return measure


def update_measure(user, measure: Measure, data: dict) -> Measure:
    point = Point.get_by_id(measure.point_id)
    require_region(user, EDIT, point.region_id)
    with db.atomic():
        _editable(Register.get_by_id(point.register_id))
        values = measure_values(data, point.region_id)
        before = {"text": measure.text, "owner": measure.owner_id,
                  "deadline_days": measure.deadline_days}
        if values["deadline_days"] != measure.deadline_days:
            values["due"] = None  # counted again from the day the new version is in force
        Measure.update(**values).where(Measure.id == measure.id).execute()
        record("risk.measure.update", object_type="risk_measure", object_id=measure.id,
               region_id=point.region_id, user=user,
               summary=f"measure {measure.key} of risk point {point.code} changed",
               changes={k: [before[k], values[k]] for k in before if before[k] != values[k]})
    return Measure.get_by_id(measure.id)


def delete_measure(user, measure: Measure) -> None:
    point = Point.get_by_id(measure.point_id)
    require_region(user, EDIT, point.region_id)
    with db.atomic():
        _editable(Register.get_by_id(point.register_id))
        measure.delete_instance()
        record("risk.measure.delete", object_type="risk_measure", object_id=measure.id,
               region_id=point.region_id, user=user,
               summary=f"measure {measure.key} removed from risk point {point.code}",
               changes={"text": [measure.text, None]})


def _set_rules(user, point: Point, link, owner, owner_id: int, rule_ids) -> tuple:
    """Replace the rules linked to a point or a measure (``link``: the link model,
    ``owner``: its column naming the point or measure); (before, after) or None when
    nothing changed."""
    require_region(user, EDIT, point.region_id)
    wanted = sorted({parse_id(r, "rules") for r in rule_ids})
    _editable(Register.get_by_id(point.register_id))
    found = {rid for (rid,) in Rule.select(Rule.id).where(Rule.id.in_(wanted)).tuples()} \
        if wanted else set()
    if set(wanted) - found:
        raise FieldError("rules", _("Choose rules of the rules library."))
    before = sorted(r for (r,) in link.select(link.rule).where(owner == owner_id).tuples())
    if before == wanted:
        return None
    link.delete().where(owner == owner_id).execute()
    if wanted:
        link.insert_many([{owner.name: owner_id, "rule": r} for r in wanted]).execute()
    return before, wanted


def set_point_rules(user, point: Point, rule_ids) -> list[int]:
    """The rules a point rests on (依据), replacing the earlier choice."""
    with db.atomic():
        changed = _set_rules(user, point, PointRule, PointRule.point, point.id, rule_ids)
        if changed:
            record("risk.point.rules", object_type="risk_point", object_id=point.id,
                   region_id=point.region_id, user=user,
                   summary=f"rules of risk point {point.code} set",
                   changes={"rules": list(changed)})
    return changed[1] if changed else sorted({parse_id(r, "rules") for r in rule_ids})


def set_measure_rules(user, measure: Measure, rule_ids) -> list[int]:
    """The rules a measure carries out, replacing the earlier choice."""
    point = Point.get_by_id(measure.point_id)
    with db.atomic():
        changed = _set_rules(user, point, MeasureRule, MeasureRule.measure, measure.id,
                             rule_ids)
        if changed:
            record("risk.measure.rules", object_type="risk_measure", object_id=measure.id,
                   region_id=point.region_id, user=user,
                   summary=f"rules of measure {measure.key} of {point.code} set",
                   changes={"rules": list(changed)})
    return changed[1] if changed else sorted({parse_id(r, "rules") for r in rule_ids})


# -- workflow ----------------------------------------------------------------------------
def submit(user, register: Register, note: str = "") -> Register:
    """draft/returned → submitted: every point needs at least one measure."""
    require_region(user, EDIT, register.region_id)
    note = clean_text(note, "note", max_length=2000, multiline=True)
    with db.atomic():
        register = _fresh(register)
        _editable(register)
        points = (Point.select(Point.code, fn.COUNT(Measure.id).alias("n"))
                  .join(Measure, JOIN.LEFT_OUTER).where(Point.register == register.id)
                  .group_by(Point.id, Point.code).order_by(Point.code).tuples())
        points = list(points)
        if not points:
            raise RiskError(_("A register needs at least one risk point before it is "
                              "submitted."))
        bare = [code for code, n in points if not n]
        if bare:
            raise RiskError(_("Every risk point needs a prevention measure; these have "
                              "none: %(codes)s.", codes=", ".join(bare)))
        old_state = register.state
        Register.update(state="submitted", submitted_by=actor(user), submitted_at=utcnow(),
                        note=note or register.note).where(Register.id == register.id).execute()
        record("risk.register.submit", object_type="risk_register", object_id=register.id,
               region_id=register.region_id, user=user,
               summary=f"register v{register.version} submitted ({len(points)} points)",
               changes={"state": [old_state, "submitted"]})
    return _fresh(register)


def _reviewable(user, register: Register) -> Register:
    require_region(user, REVIEW, register.region_id)
    register = _fresh(register)
    if register.state != "submitted":
        raise RiskError(_("Only a submitted register can be reviewed; this one is "
                          "%(state)s.", state=state_label(register.state)))
    if user is not None and register.submitted_by == actor(user):
        raise RiskError(_("The person who submitted a register cannot also review it."))
    return register


def return_register(user, register: Register, reasons: str) -> Register:
    """submitted → returned, with the reasons the unit reads."""
    reasons = clean_text(reasons, "reasons", max_length=4000, multiline=True, required=True)
    with db.atomic():
        register = _reviewable(user, register)
        Register.update(state="returned", reviewed_by=actor(user), reviewed_at=utcnow(),
                        review_note=reasons).where(Register.id == register.id).execute()
        record("risk.register.return", object_type="risk_register", object_id=register.id,
               region_id=register.region_id, user=user,
               summary=f"register v{register.version} returned: {reasons}"[:300],
               changes={"state": ["submitted", "returned"]})
    return _fresh(register)


def approve(user, register: Register, note: str = "", on: dt.date | None = None) -> Register:
    """submitted → approved and in force from ``on`` (today); the version it replaces is
    superseded. Measures new to this version get their due day (their deadline in working
    days from today); copied measures and points keep their tracking."""
    note = clean_text(note, "note", max_length=2000, multiline=True)
    day = on or today()
    with db.atomic():
        register = _reviewable(user, register)
        old = in_force(register.department_id)
        if old is not None:
            Register.update(state="superseded", superseded_at=utcnow()) \
                .where(Register.id == old.id).execute()
        Register.update(state="approved", reviewed_by=actor(user), reviewed_at=utcnow(),
                        review_note=note, in_force_from=day) \
            .where(Register.id == register.id).execute()
        _carry_tracking(register)
        _fix_due_days(register, day)
        record("risk.register.approve", object_type="risk_register", object_id=register.id,
               region_id=register.region_id, user=user,
               summary=f"register v{register.version} approved, in force from {day}"
                       + (f"; v{old.version} superseded" if old else ""),
               changes={"state": ["submitted", "approved"]})
    return _fresh(register)


def _carry_tracking(register: Register) -> None:
    """Progress made on the version in force while this one was drafted carries over:
    a copied measure takes its origin's status, and a copied point its review dates."""
    origin_point = Point.alias()
    origin = Measure.alias()
    src = (origin.select(origin.id).join(origin_point, on=(origin_point.id == origin.point))
           .join(Point, on=(Point.origin == origin_point.id))
           .where((Point.id == Measure.point) & (origin.key == Measure.key)))
    mine = Measure.point.in_(Point.select(Point.id).where(Point.register == register.id))
    for column in ("status", "done_on", "progress_note", "due"):
        field = getattr(origin, column)
        sub = (origin.select(field).join(origin_point, on=(origin_point.id == origin.point))
               .join(Point, on=(Point.origin == origin_point.id))
               .where((Point.id == Measure.point) & (origin.key == Measure.key)))
        query = Measure.update({getattr(Measure, column): sub}).where(mine & fn.EXISTS(src))
        if column == "due":  # a changed deadline was cleared: it is counted again
            query = query.where(Measure.due.is_null(False))
        query.execute()
    for column in ("last_reviewed", "next_review"):
        o = Point.alias()
        sub = o.select(getattr(o, column)).where(o.id == Point.origin)
        Point.update({getattr(Point, column): sub}) \
            .where((Point.register == register.id) & Point.origin.is_null(False)).execute()


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus calendar months (the 31st becomes the month's last day)."""
    total = day.year * 12 + day.month - 1 + months
    year, month = divmod(total, 12)
    last = month_calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def next_review_after(day: dt.date, months: int) -> dt.date:
    """The review day ``months`` after ``day``, on a working day (a review due in a
    holiday is due on the next working day)."""
    return add_workdays(add_months(day, months), 0)


def _fix_due_days(register: Register, day: dt.date) -> None:
    mine = Point.select(Point.id).where(Point.register == register.id)
    for (days,) in (Measure.select(Measure.deadline_days).distinct()
                    .where(Measure.point.in_(mine) & Measure.due.is_null()).tuples()):
        Measure.update(due=add_workdays(day, days)) \
            .where(Measure.point.in_(mine) & Measure.due.is_null()
                   & (Measure.deadline_days == days)).execute()
    grading = scoring.grading(register.matrix_id)
    for level in (1, 2, 3):
        due = next_review_after(day, grading.review_months(level))
        Point.update(next_review=due) \
            .where((Point.register == register.id) & (Point.level == level)
                   & (Point.next_review.is_null() | (Point.next_review > due))).execute()


# -- tracking of a register in force -----------------------------------------------------
def _in_force_point(point: Point) -> Register:
    register = Register.get_by_id(point.register_id)
    if register.state != "approved":
        raise RiskError(_("Progress and reviews are recorded on the register in force; this "
                          "version is %(state)s.", state=state_label(register.state)))
    return register


def track_measure(user, measure: Measure, status: str, done_on=None, note: str = "") -> Measure:
    """Record a measure's progress (planned / in progress / done / cancelled)."""
    point = Point.get_by_id(measure.point_id)
    require_region(user, EDIT, point.region_id)
    if status not in MEASURE_STATES:
        raise FieldError("status", _("Choose a status."))
    done = parse_date(done_on, "done_on", max=today()) if status == "done" else None
    note = clean_text(note, "progress_note", max_length=500)
    with db.atomic():
        _in_force_point(point)
        before = {"status": measure.status, "done_on": measure.done_on,
                  "progress_note": measure.progress_note}
        after = {"status": status, "done_on": done, "progress_note": note}
        Measure.update(**after).where(Measure.id == measure.id).execute()
        record("risk.measure.track", object_type="risk_measure", object_id=measure.id,
               region_id=point.region_id, user=user,
               summary=f"measure {measure.key} of {point.code}: {status}",
               changes={k: [before[k], after[k]] for k in after if before[k] != after[k]})
    return Measure.get_by_id(measure.id)


def review_point(user, point: Point, outcome: str, note: str = "",
                 reviewed_on=None) -> Review:
    """Record a periodic review of a point in force; its next review follows the level's
    cadence. ``changes_needed`` tells the unit to open a new version."""
    require_region(user, EDIT, point.region_id)
    if outcome not in REVIEW_OUTCOMES:
        raise FieldError("outcome", _("Choose the outcome of the review."))
    day = parse_date(reviewed_on, "reviewed_on", max=today()) if reviewed_on else today()
    note = clean_text(note, "note", max_length=2000, multiline=True,
                      required=outcome == "changes_needed")
    with db.atomic():
        register = _in_force_point(point)
        months = scoring.grading(register.matrix_id).review_months(point.level)
        following = next_review_after(day, months)
        row = Review.create(point=point.id, region=point.region_id, reviewed_on=day,
                            outcome=outcome, note=note, next_review=following,
                            reviewed_by=actor(user))
        Point.update(last_reviewed=day, next_review=following) \
            .where(Point.id == point.id).execute()
        record("risk.point.review", object_type="risk_point", object_id=point.id,
               region_id=point.region_id, user=user,
               summary=f"risk point {point.code} reviewed ({outcome}); next review {following}",
               changes={"next_review": [point.next_review, following]})
    return row


# -- comparing versions ------------------------------------------------------------------
def compare(old: Register | None, new: Register) -> dict[str, list]:
    """What a version changes against another: points added, removed and changed (by
    code, with the fields that differ) — what a reviewer looks at first."""
    def load(reg):
        if reg is None:
            return {}
        rows = {p.code: p for p in Point.select().where(Point.register == reg.id)}
        measures: dict[int, list] = {}
        for m in Measure.select().where(Measure.point.in_([p.id for p in rows.values()])):
            measures.setdefault(m.point_id, []).append((m.key, m.text, m.deadline_days))
        return {code: (_snapshot(p), sorted(measures.get(p.id, [])), p)
                for code, p in rows.items()}
    a, b = load(old), load(new)
    changed = []
    for code in sorted(set(a) & set(b)):
        fields = [f for f in POINT_FIELDS if a[code][0][f] != b[code][0][f]]
        if a[code][1] != b[code][1]:
            fields.append("measures")
        if fields:
            changed.append((b[code][2], fields))
    return {"added": [b[c][2] for c in sorted(set(b) - set(a))],
            "removed": [a[c][2] for c in sorted(set(a) - set(b))],
            "changed": changed}
