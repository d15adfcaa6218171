"""The public page of risk prevention (廉政风险公示), no login: each unit's register in
force — its posts, risk points and prevention measures — and the prevention rules
library, in force and repealed flagged.

Only approved versions in force are shown (a draft, submitted or returned working copy
never is), and no personal data: no responsible leader, person or supervisor, no measure
owner, no holder of a post. A region where the plugin is switched off (or an ancestor of
it) shows nothing: its units and rules are absent and their pages answer 404. Pages are
cacheable by a shared cache (``public_cacheable``)."""
from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from peewee import fn

from core.api import (
    Department,
    Post,
    Region,
    paginate,
    public_cacheable,
    regions_off,
)
from plugins.risk import config, rules, scoring
from plugins.risk.labels import (
    MEASURE_STATE_LABELS,
    RISK_TYPE_LABELS,
    RULE_STATUS_LABELS,
)
from plugins.risk.models import Measure, MeasureRule, Point, PointRule, Register, Rule

PLUGIN = "risk"
PUBLIC_MAX_AGE = 300
LEVEL_BADGES = {1: "red", 2: "yellow", 3: "ok"}

bp = Blueprint("public_risk", __name__, url_prefix="/public/risk",
               template_folder="templates")


def closed_regions() -> frozenset[int]:
    """The regions whose public risk pages are off (the plugin switched off there)."""
    return regions_off(PLUGIN)


def _open_regions() -> list[Region]:
    closed = closed_regions()
    return [r for r in Region.select().order_by(Region.sort, Region.code)
            if r.id not in closed]


def _chosen_region(regions: list[Region]) -> Region | None:
    """The ``?region=`` code asked for: None for all; 404 for an unknown or closed one."""
    code = (request.args.get("region") or "").strip()
    if not code:
        return None
    found = next((r for r in regions if r.code == code[:32]), None)
    if found is None:
        abort(404)
    return found


def _ctx() -> dict:
    return {"rk_types": RISK_TYPE_LABELS, "rk_measure_states": MEASURE_STATE_LABELS,
            "rk_rule_states": RULE_STATUS_LABELS, "rk_label": config.label,
            "level_badges": LEVEL_BADGES}


@bp.get("/")
@public_cacheable(PUBLIC_MAX_AGE)
def index():
    """The units with a register in force, by region, with their counts by level."""
    regions = _open_regions()
    region = _chosen_region(regions)
    open_ids = [r.id for r in regions] if region is None else [region.id]
    query = (Register.select(Register, Department).join(Department)
             .where((Register.state == "approved") & Register.region.in_(open_ids or [0])))
    page = paginate(query, {"region": Register.region}, "region", per_page=50,
                    target="rk-public-units", tiebreak=[Department.sort, Department.id])
    ids = [r.id for r in page.items]
    counts: dict[int, dict] = {i: {"points": 0, "posts": 0, "levels": {}} for i in ids}
    if ids:
        for rid, level, n in (Point.select(Point.register, Point.level, fn.COUNT(Point.id))
                                     .where(Point.register.in_(ids))
                                     .group_by(Point.register, Point.level).tuples()):
            counts[rid]["levels"][level] = n
            counts[rid]["points"] += n
        for rid, posts in (Point.select(Point.register, fn.COUNT(fn.DISTINCT(Point.post)))
                           .where(Point.register.in_(ids)).group_by(Point.register)
                           .tuples()):
            counts[rid]["posts"] = posts
    names = {r.id: r.name for r in regions}
    html = render_template("risk/public_index.html", page=page, counts=counts,
                           regions=regions, region=region, names=names,
                           grading=scoring.grading(scoring.current()), **_ctx())
    return html


@bp.get("/departments/<int:department_id>")
@public_cacheable(PUBLIC_MAX_AGE)
def department(department_id: int):
    """One unit's register in force: its posts, points and measures (no personal data)."""
    dept = Department.get_or_none(Department.id == department_id)
    if dept is None or dept.region_id in closed_regions():
        abort(404)
    register = (Register.select().where((Register.department == dept.id)
                                        & (Register.state == "approved")).first())
    if register is None:
        abort(404)
    points = list(Point.select(Point.id, Point.code, Point.post, Point.duty,
                               Point.power_code, Point.description, Point.risk_type,
                               Point.level, Point.sort)
                  .where(Point.register == register.id).order_by(Point.sort, Point.id))
    ids = [p.id for p in points]
    measures: dict[int, list] = {}
    point_rules: dict[int, list] = {}
    measure_rules: dict[int, list] = {}
    if ids:
        for m in (Measure.select(Measure.id, Measure.point, Measure.key, Measure.text,
                                 Measure.deadline_days, Measure.due, Measure.status)
                  .where(Measure.point.in_(ids)).order_by(Measure.sort, Measure.id)):
            measures.setdefault(m.point_id, []).append(m)
        for pid, rule in ((pr.point_id, pr.rule) for pr in
                          PointRule.select(PointRule, Rule).join(Rule)
                          .where(PointRule.point.in_(ids))):
            point_rules.setdefault(pid, []).append(rule)
        mids = [m.id for ms in measures.values() for m in ms]
        if mids:
            for mid, rule in ((mr.measure_id, mr.rule) for mr in
                              MeasureRule.select(MeasureRule, Rule).join(Rule)
                              .where(MeasureRule.measure.in_(mids))):
                measure_rules.setdefault(mid, []).append(rule)
    posts = {p.id: p for p in Post.select(Post.id, Post.title)
             .where(Post.id.in_({p.post_id for p in points} or {0}))}
    by_post: dict[int, list] = {}
    for p in points:
        by_post.setdefault(p.post_id, []).append(p)
    post_order = sorted(by_post, key=lambda pid: (min(p.level for p in by_post[pid]),
                                                  posts[pid].title))
    closed = closed_regions()
    html = render_template("risk/public_department.html", dept=dept, register=register,
                           region=Region.get_by_id(dept.region_id), posts=posts,
                           post_order=post_order, by_post=by_post, measures=measures,
                           point_rules=point_rules, measure_rules=measure_rules,
                           closed=closed, grading=scoring.grading(register.matrix_id),
                           **_ctx())
    return html


@bp.get("/rules")
@public_cacheable(PUBLIC_MAX_AGE)
def rule_list():
    """The rules library of the open regions (a region shows its own rules and those of
    the regions above it); repealed rules flagged."""
    regions = _open_regions()
    region = _chosen_region(regions)
    if region is None:
        ids = [r.id for r in regions]
    else:
        closed = closed_regions()
        ids = [rid for rid in rules.applicable_regions(region.id) if rid not in closed]
    query = Rule.select(Rule, Region).join(Region).where(Rule.region.in_(ids or [0]))
    status = request.args.get("status", "")
    if status in rules.STATUSES:
        query = query.where(Rule.status == status)
    page = paginate(query, {"effective": Rule.effective_on, "title": Rule.title,
                            "number": Rule.doc_number}, "effective", per_page=30,
                    target="rk-public-rules")
    return render_template("risk/public_rules.html", page=page, regions=regions,
                           region=region, status=status, **_ctx())


@bp.get("/rules/<int:rule_id>")
@public_cacheable(PUBLIC_MAX_AGE)
def rule(rule_id: int):
    """One rule's full text (absent where the plugin is off for its region)."""
    row = Rule.get_or_none(Rule.id == rule_id)
    if row is None or row.region_id in closed_regions():
        abort(404)
    return render_template("risk/public_rule.html", rule=row,
                           region=Region.get_by_id(row.region_id), **_ctx())
