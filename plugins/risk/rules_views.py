"""Pages of the prevention rules library (风险防控制度): search in Chinese, a rule with
its full text and the points and measures citing it, adding, editing and repealing
rules, and the points in force that cite a repealed rule."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from jinja2_fragments.flask import render_block

from core.api import (
    Department,
    FieldError,
    Region,
    _,
    get_scoped,
    has_permission,
    paginate,
    parse_id,
    region_ids,
    regions_in_scope,
    require,
    scoped,
)
from plugins.risk import rules
from plugins.risk.models import Point, PointRule, Register, Rule

bp = Blueprint("risk_rules", __name__, url_prefix="/risk/rules", template_folder="templates")
VIEW, MANAGE = rules.VIEW, rules.MANAGE
FIELDS = ("title", "issuing_body", "doc_number", "effective_on", "repealed_on", "full_text")


def _visible(rule_id: int) -> Rule:
    """A rule of a region in the user's scope or above it, else 404."""
    regions = rules.visible_regions(current_user)
    row = Rule.get_or_none((Rule.id == rule_id) & Rule.region.in_(sorted(regions) or [0]))
    if row is None:
        abort(404)
    return row


@bp.get("/", endpoint="rules")
@require(VIEW)
def rule_list():
    """The library: rules of the user's regions and above, searchable as you type."""
    regions = rules.visible_regions(current_user)
    query = Rule.select(Rule, Region).join(Region).where(Rule.region.in_(sorted(regions)
                                                                          or [0]))
    status = request.args.get("status", "")
    if status in rules.STATUSES:
        query = query.where(Rule.status == status)
    q = request.args.get("q", "").strip()[:100]
    query = rules.search(query, q)
    page = paginate(query, {"effective": Rule.effective_on, "title": Rule.title,
                            "number": Rule.doc_number}, "effective", target="rk-rules")
    ctx = {"page": page, "q": q, "status": status,
           "cited": rules.counts_by_rule([r.id for r in page.items]),
           "excerpt": rules.excerpt, "may_manage": has_permission(current_user, MANAGE),
           "flagged": scoped(rules.flagged_points(), Point.region, VIEW).count()}
    if request.headers.get("HX-Request") == "true" and \
            request.headers.get("HX-Target") == "rk-rules":
        return render_block("risk/rules.html", "results", **ctx)
    return render_template("risk/rules.html", **ctx)


@bp.get("/flagged")
@require(VIEW)
def flagged():
    """Points in force that cite a repealed rule (in the user's scope)."""
    query = scoped(rules.flagged_points().select(Point, Register, Department)
                   .switch(Register).join(Department), Point.region, VIEW)
    page = paginate(query, {"code": Point.code}, "code", target="rk-flagged")
    repealed = {}
    ids = [p.id for p in page.items]
    if ids:
        for pid, rule in ((pr.point_id, pr.rule) for pr in PointRule.select(PointRule, Rule)
                          .join(Rule).where(PointRule.point.in_(ids)
                                            & (Rule.status == "repealed"))):
            repealed.setdefault(pid, []).append(rule)
    return render_template("risk/rules_flagged.html", page=page, repealed=repealed)


@bp.get("/new")
@require(MANAGE)
def new():
    return render_template("risk/rule_form.html", rule=None, values={}, errors={},
                           regions=regions_in_scope(current_user, MANAGE))


@bp.post("/", endpoint="create")
@require(MANAGE)
def create_rule():
    data = {k: request.form.get(k, "") for k in FIELDS}
    region = request.form.get("region", "")
    try:
        region_id = parse_id(region, "region")
        if region_id not in {r.id for r in regions_in_scope(current_user, MANAGE)}:
            raise FieldError("region", _("Choose a region of your scope."))
        row = rules.create(current_user, region_id, data)
    except FieldError as exc:
        return render_template("risk/rule_form.html", rule=None,
                               values={**data, "region": region}, errors=exc.errors,
                               regions=regions_in_scope(current_user, MANAGE)), exc.status
    flash(_("The rule is added to the library."), "success")
    return redirect(url_for("risk_rules.rule", rule_id=row.id), 303)


@bp.get("/<int:rule_id>")
@require(VIEW)
def rule(rule_id: int):
    row = _visible(rule_id)
    points, measures = rules.citing(row, region_ids(current_user, VIEW))
    return render_template("risk/rule.html", rule=row, points=list(points.limit(200)),
                           measures=list(measures.limit(200)),
                           may_manage=has_permission(current_user, MANAGE, row.region_id))


@bp.get("/<int:rule_id>/edit")
@require(MANAGE)
def edit(rule_id: int):
    row = get_scoped(Rule.select().where(Rule.id == rule_id), Rule.region, MANAGE)
    values = {k: getattr(row, k) or "" for k in FIELDS}
    return render_template("risk/rule_form.html", rule=row, values=values, errors={},
                           regions=[])


@bp.post("/<int:rule_id>")
@require(MANAGE)
def update(rule_id: int):
    row = get_scoped(Rule.select().where(Rule.id == rule_id), Rule.region, MANAGE)
    data = {k: request.form.get(k, "") for k in FIELDS}
    try:
        rules.update(current_user, row, data)
    except FieldError as exc:
        return render_template("risk/rule_form.html", rule=row, values=data,
                               errors=exc.errors, regions=[]), exc.status
    flash(_("The rule is saved."), "success")
    return redirect(url_for("risk_rules.rule", rule_id=row.id), 303)


@bp.post("/<int:rule_id>/repeal")
@require(MANAGE)
def repeal(rule_id: int):
    row = get_scoped(Rule.select().where(Rule.id == rule_id), Rule.region, MANAGE)
    count = rules.repeal(current_user, row, request.form.get("repealed_on") or None,
                         request.form.get("note", ""))
    flash(_("The rule is repealed. %(n)d risk points in force cite it and are flagged.",
            n=count), "success")
    return redirect(url_for("risk_rules.rule", rule_id=row.id), 303)
