"""Staff pages of the risk register (岗位风险信息): the units in scope and their
registers, a unit's versions, the working copy editor (points scored on the matrix,
measures, the rules they rest on), submission, review (approve, or return with reasons,
with the comparison against the version in force), measure progress and periodic
reviews on the version in force, import and export, and the risk matrix settings.

Views are thin: they find the record in the user's scope (404 outside it), hand the
form to a service in ``register``/``scoring``/``transfer`` and render. Bad input is the
services' FieldError, shown on the field it names with 422; a step the workflow does not
allow now is a RiskError, answered 422 with its reason.
"""
from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from jinja2_fragments.flask import render_block
from peewee import fn
from werkzeug.exceptions import UnprocessableEntity

from core.api import (
    Department,
    FieldError,
    Person,
    Post,
    PostHolding,
    Region,
    _,
    covers_city,
    export_response,
    get_scoped,
    has_permission,
    paginate,
    parse_id,
    parse_int,
    require,
    scoped,
    today,
)
from plugins.risk import config, nav, register, scoring, transfer
from plugins.risk.errors import RiskError
from plugins.risk.labels import (
    FIELD_LABELS,
    MEASURE_STATE_LABELS,
    REGISTER_STATE_BADGES,
    REGISTER_STATE_LABELS,
    REVIEW_OUTCOME_LABELS,
    RISK_TYPE_LABELS,
    RULE_STATUS_LABELS,
)
from plugins.risk.models import (
    Matrix,
    Measure,
    MeasureRule,
    Point,
    PointRule,
    Register,
    Review,
    Rule,
)

bp = Blueprint("risk", __name__, url_prefix="/risk", template_folder="templates",
               static_folder="static", static_url_path="/static/risk")
VIEW, EDIT, REVIEW, SETTINGS = "risk.view", register.EDIT, register.REVIEW, scoring.PERM


@bp.app_context_processor
def _vocabulary():
    return {"rk_types": RISK_TYPE_LABELS, "rk_states": REGISTER_STATE_LABELS,
            "rk_state_badges": REGISTER_STATE_BADGES, "rk_measure_states": MEASURE_STATE_LABELS,
            "rk_outcomes": REVIEW_OUTCOME_LABELS, "rk_fields": FIELD_LABELS,
            "rk_rule_states": RULE_STATUS_LABELS, "rk_label": config.label,
            "rk_tabs": lambda: nav.tabs(current_user)}


@bp.errorhandler(RiskError)
def _refused(exc: RiskError):
    """A step the workflow does not allow now: 422 with the reason, nothing changed."""
    return current_app.handle_http_exception(UnprocessableEntity(description=str(exc)))


# -- finding records in scope ---------------------------------------------------------------
def _department(department_id: int, perm: str = VIEW) -> Department:
    return get_scoped(Department.select().where(Department.id == department_id),
                      Department.region, perm)


def _register(register_id: int, perm: str = VIEW) -> Register:
    return get_scoped(Register.select().where(Register.id == register_id), Register.region,
                      perm)


def _point(point_id: int, perm: str = VIEW) -> Point:
    return get_scoped(Point.select().where(Point.id == point_id), Point.region, perm)


def _measure(measure_id: int, perm: str = VIEW) -> Measure:
    return get_scoped(Measure.select(Measure).join(Point).where(Measure.id == measure_id),
                      Point.region, perm)


def _may(perm: str, region_id: int) -> bool:
    return has_permission(current_user, perm, region_id)


# -- the units in scope ---------------------------------------------------------------------
@bp.get("/", endpoint="registers")
@require(VIEW)
def register_list():
    """The units in scope with their register in force and working copy; reviewers
    filter on the registers waiting for them."""
    query = scoped(Department.select(Department, Region).join(Region), Department.region, VIEW)
    state = request.args.get("state", "")
    if state in REGISTER_STATE_LABELS:
        query = query.where(Department.id.in_(Register.select(Register.department)
                                              .where(Register.state == state)))
    region = parse_id(request.args.get("region"), "region", default=None)
    if region:
        query = query.where(Department.region == region)
    q = request.args.get("q", "").strip()[:50]
    if q:
        query = query.where(Department.name.contains(q) | Department.code.contains(q))
    page = paginate(query, {"name": Department.name, "code": Department.code,
                            "region": Region.sort}, "region", target="rk-units",
                    tiebreak=[Department.sort, Department.id])
    ids = [d.id for d in page.items]
    by_unit: dict[int, dict] = {i: {} for i in ids}
    counts = dict(Point.select(Point.register, fn.COUNT(Point.id))
                  .join(Register).where(Register.department.in_(ids)
                                        & (Register.state != "superseded"))
                  .group_by(Point.register).tuples()) if ids else {}
    for reg in Register.select().where(Register.department.in_(ids)
                                       & (Register.state != "superseded")) if ids else []:
        key = "in_force" if reg.state == "approved" else "working"
        by_unit[reg.department_id][key] = reg
        by_unit[reg.department_id][key + "_points"] = counts.get(reg.id, 0)
    waiting = scoped(Register.select(), Register.region, REVIEW) \
        .where(Register.state == "submitted").count() \
        if has_permission(current_user, REVIEW) else 0
    ctx = {"page": page, "units": by_unit, "state": state, "q": q, "region": region,
           "regions": _regions(VIEW), "waiting": waiting}
    if request.headers.get("HX-Request") == "true" and \
            request.headers.get("HX-Target") == "rk-units":
        return render_block("risk/registers.html", "table", **ctx)
    return render_template("risk/registers.html", **ctx)


def _regions(perm: str) -> list[Region]:
    from core.api import regions_in_scope
    return regions_in_scope(current_user, perm)


@bp.get("/units/<int:department_id>")
@require(VIEW)
def unit(department_id: int):
    """A unit's register: the version in force with its tracking, the working copy and
    every version (old ones stay readable)."""
    dept = _department(department_id)
    current = register.in_force(dept.id)
    ctx = {"dept": dept, "current": current, "working": register.working_copy(dept.id),
           "versions": register.versions(dept.id),
           "may_edit": _may(EDIT, dept.region_id), "may_review": _may(REVIEW, dept.region_id)}
    if current is not None:
        ctx.update(_points_context(current))
    return render_template("risk/unit.html", **ctx)


@bp.post("/units/<int:department_id>/working-copy")
@require(EDIT)
def open_copy(department_id: int):
    dept = _department(department_id, EDIT)
    copy = register.open_working_copy(current_user, dept)
    return redirect(url_for("risk.register_page", register_id=copy.id), 303)


# -- one version ----------------------------------------------------------------------------
def _points_context(reg: Register) -> dict:
    """A version's points (a page of them), their measures, rules and the flags of
    repealed rules they cite; the matrix it was scored on."""
    query = Point.select(Point, Post).join(Post).where(Point.register == reg.id)
    post = parse_id(request.args.get("post"), "post", default=None)
    if post:
        query = query.where(Point.post == post)
    level = request.args.get("level", "")
    if level in ("1", "2", "3"):
        query = query.where(Point.level == int(level))
    page = paginate(query, {"code": Point.code, "level": Point.level, "sort": Point.sort},
                    "sort", target="rk-points", per_page=50,
                    extra_args=dict(request.view_args or {}))
    ids = [p.id for p in page.items]
    measures: dict[int, list] = {i: [] for i in ids}
    for m in Measure.select().where(Measure.point.in_(ids)).order_by(Measure.sort,
                                                                     Measure.id) if ids else []:
        measures[m.point_id].append(m)
    rules: dict[int, list] = {i: [] for i in ids}
    for pid, rule in ((pr.point_id, pr.rule) for pr in PointRule.select(PointRule, Rule)
                      .join(Rule).where(PointRule.point.in_(ids))) if ids else []:
        rules[pid].append(rule)
    people_ids = {getattr(p, f + "_id") for p in page.items
                  for f in ("leader", "owner", "supervisor")} - {None}
    people = {p.id: p for p in Person.select(Person.id, Person.name)
              .where(Person.id.in_(people_ids))} if people_ids else {}
    return {"register": reg, "grading": scoring.grading(reg.matrix_id), "page": page,
            "measures": measures, "point_rules": rules, "people": people,
            "posts": list(Post.select().where(Post.department == reg.department_id)
                          .order_by(Post.id)),
            "post_filter": post, "level_filter": level, "today": today()}


def _editor_context(reg: Register, **extra) -> dict:
    dept = Department.get_by_id(reg.department_id)
    ctx = _points_context(reg)
    editable = reg.state in register.EDITABLE and _may(EDIT, reg.region_id)
    ctx.update({"dept": dept, "editable": editable,
                "may_review": reg.state == "submitted" and _may(REVIEW, reg.region_id),
                "may_edit": _may(EDIT, reg.region_id),
                **form_options(dept, ctx["grading"], editable),
                "values": {}, "errors": {}, "review_values": {}, "review_errors": {},
                "based_on": Register.get_or_none(
                    Register.id == reg.based_on_id) if reg.based_on_id else None})
    if ctx["may_review"]:
        ctx["diff"] = register.compare(ctx["based_on"], reg)
    ctx.update(extra)
    return ctx


def form_options(dept: Department, grading, editable: bool) -> dict:
    """The choices of the point form: the unit's posts, the scales, its people."""
    people = [(p.id, p.name) for p in _people(dept)] if editable else []
    return {"post_options": [(p.id, p.title) for p in Post.select(Post.id, Post.title)
                             .where(Post.department == dept.id).order_by(Post.id)],
            "likelihood_options": [(k, config.label(s["label"]))
                                   for k, s in grading.likelihood.items()],
            "impact_options": [(k, config.label(s["label"])) for k, s in grading.impact.items()],
            "people_options": people}


def _people(dept: Department) -> list[Person]:
    """People a unit names as responsible: those holding its posts now."""
    return list(Person.select(Person.id, Person.name).join(PostHolding).join(Post)
                .where((Post.department == dept.id) & PostHolding.end.is_null())
                .distinct().order_by(Person.name))


@bp.get("/registers/<int:register_id>")
@require(VIEW)
def register_page(register_id: int):
    """A version: the editor while it is a draft or returned, the review page while it
    is submitted, a read-only page once in force or superseded."""
    reg = _register(register_id)
    ctx = _editor_context(reg)
    if request.headers.get("HX-Request") == "true" and \
            request.headers.get("HX-Target") == "rk-points":
        return render_block("risk/register.html", "points", **ctx)
    return render_template("risk/register.html", **ctx)


@bp.post("/registers/<int:register_id>/points")
@require(EDIT)
def add_point(register_id: int):
    reg = _register(register_id, EDIT)
    data = _point_form()
    try:
        point = register.add_point(current_user, reg, data)
    except FieldError as exc:
        return render_template("risk/register.html", **_editor_context(
            reg, values=data, errors=exc.errors)), exc.status
    flash(_("Risk point %(code)s added: now add its prevention measures.", code=point.code),
          "success")
    return redirect(url_for("risk.point", point_id=point.id), 303)


def _point_form() -> dict:
    form = request.form
    data = {k: form.get(k, "") for k in ("code", "post", "duty", "power_code", "description",
                                         "risk_type", "likelihood", "impact",
                                         "reminder_text", "leader", "owner", "supervisor")}
    data["criteria"] = form.getlist("criteria")
    return data


@bp.post("/registers/<int:register_id>/submit")
@require(EDIT)
def submit(register_id: int):
    reg = _register(register_id, EDIT)
    register.submit(current_user, reg, request.form.get("note", ""))
    flash(_("The register is submitted to the discipline inspection office for review."),
          "success")
    return redirect(url_for("risk.register_page", register_id=reg.id), 303)


@bp.post("/registers/<int:register_id>/return")
@require(REVIEW)
def return_register(register_id: int):
    reg = _register(register_id, REVIEW)
    try:
        register.return_register(current_user, reg, request.form.get("reasons", ""))
    except FieldError as exc:
        return render_template("risk/register.html", **_editor_context(
            reg, review_errors=exc.errors,
            review_values={"reasons": request.form.get("reasons", "")})), \
            exc.status
    flash(_("The register is returned to the unit with your reasons."), "success")
    return redirect(url_for("risk.register_page", register_id=reg.id), 303)


@bp.post("/registers/<int:register_id>/approve")
@require(REVIEW)
def approve(register_id: int):
    reg = _register(register_id, REVIEW)
    reg = register.approve(current_user, reg, request.form.get("note", ""))
    flash(_("Version %(v)d is approved and in force.", v=reg.version), "success")
    return redirect(url_for("risk.unit", department_id=reg.department_id), 303)


@bp.get("/registers/<int:register_id>/compare")
@require(VIEW)
def compare(register_id: int):
    """What this version changes against another of the unit (the one it was based on
    unless ``?with=`` names another)."""
    reg = _register(register_id)
    other_id = parse_id(request.args.get("with"), "with", default=None) or reg.based_on_id
    other = None
    if other_id:
        other = Register.get_or_none((Register.id == other_id)
                                     & (Register.department == reg.department_id))
        if other is None:
            abort(404)
    return render_template("risk/compare.html", register=reg, other=other,
                           dept=Department.get_by_id(reg.department_id),
                           versions=register.versions(reg.department_id),
                           diff=register.compare(other, reg))


# -- points and measures ----------------------------------------------------------------------
def _point_context(point: Point, **extra) -> dict:
    reg = Register.get_by_id(point.register_id)
    dept = Department.get_by_id(point.department_id)
    editable = reg.state in register.EDITABLE and _may(EDIT, reg.region_id)
    region = Region.get_by_id(point.region_id)
    lineage = [r.id for r in region.lineage()]
    chosen = {r for (r,) in PointRule.select(PointRule.rule)
              .where(PointRule.point == point.id).tuples()}
    measures = list(Measure.select().where(Measure.point == point.id)
                    .order_by(Measure.sort, Measure.id))
    measure_rules: dict[int, set] = {m.id: set() for m in measures}
    for mid, rid in MeasureRule.select(MeasureRule.measure, MeasureRule.rule).where(
            MeasureRule.measure.in_([m.id for m in measures])).tuples() if measures else []:
        measure_rules[mid].add(rid)
    rules = list(Rule.select().where(Rule.region.in_(lineage)
                                     & ((Rule.status != "repealed") | Rule.id.in_(
                                         list(chosen | set().union(*measure_rules.values())
                                              ) or [0])))
                 .order_by(Rule.effective_on.desc(nulls="LAST"), Rule.id))
    people_ids = {m.owner_id for m in measures} | {
        getattr(point, f + "_id") for f in ("leader", "owner", "supervisor")}
    grading = scoring.grading(reg.matrix_id)
    ctx = {"point": point, "register": reg, "dept": dept, "editable": editable,
           "grading": grading, "measures": measures,
           "criteria_met": [c for i, c in enumerate(grading.criteria)
                            if point.criteria >> i & 1],
           "rules": rules, "chosen_rules": chosen, "measure_rules": measure_rules,
           "posts": list(Post.select().where(Post.department == dept.id).order_by(Post.id)),
           **form_options(dept, grading, editable),
           "people": {p.id: p for p in Person.select(Person.id, Person.name)
                      .where(Person.id.in_(people_ids - {None}))},
           "in_force": reg.state == "approved", "may_track": reg.state == "approved"
           and _may(EDIT, reg.region_id),
           "reviews": list(Review.select().where(Review.point == point.id)
                           .order_by(Review.reviewed_on.desc(), Review.id.desc())),
           "values": _point_values(point), "errors": {}, "measure_errors": {},
           "measure_values": {}, "today": today()}
    ctx.update(extra)
    return ctx


def _point_values(point: Point) -> dict:
    """The edit form's values of a point as stored."""
    values = {f: getattr(point, f + "_id" if f in register.PERSON_FIELDS else f)
              for f in register.POINT_FIELDS}
    values["criteria"] = [str(i + 1) for i in range(8) if point.criteria >> i & 1]
    return {k: "" if v is None else v for k, v in values.items()}


@bp.get("/points/<int:point_id>")
@require(VIEW)
def point(point_id: int):
    return render_template("risk/point.html", **_point_context(_point(point_id)))


def _back_to(point: Point, anchor: str = ""):
    return redirect(url_for("risk.point", point_id=point.id) + anchor, 303)


@bp.post("/points/<int:point_id>")
@require(EDIT)
def update_point(point_id: int):
    row = _point(point_id, EDIT)
    data = _point_form()
    try:
        row = register.update_point(current_user, row, data)
    except FieldError as exc:
        return render_template("risk/point.html", **_point_context(
            row, values=data, errors=exc.errors)), exc.status
    flash(_("Risk point %(code)s saved.", code=row.code), "success")
    return _back_to(row)


@bp.post("/points/<int:point_id>/delete")
@require(EDIT)
def delete_point(point_id: int):
    row = _point(point_id, EDIT)
    register.delete_point(current_user, row)
    flash(_("Risk point %(code)s removed.", code=row.code), "success")
    return redirect(url_for("risk.register_page", register_id=row.register_id), 303)


def _measure_form() -> dict:
    return {k: request.form.get(k, "") for k in ("text", "owner", "deadline_days")}


@bp.post("/points/<int:point_id>/measures")
@require(EDIT)
def add_measure(point_id: int):
    row = _point(point_id, EDIT)
    data = _measure_form()
    try:
        measure = register.add_measure(current_user, row, data)
        rules = request.form.getlist("rules")
        if rules:
            register.set_measure_rules(current_user, measure, rules)
    except FieldError as exc:
        return render_template("risk/point.html", **_point_context(
            row, measure_values={"new": data}, measure_errors={"new": exc.errors})), exc.status
    flash(_("Measure %(key)s added.", key=measure.key), "success")
    return _back_to(row, "#measures")


@bp.post("/measures/<int:measure_id>")
@require(EDIT)
def update_measure(measure_id: int):
    measure = _measure(measure_id, EDIT)
    row = Point.get_by_id(measure.point_id)
    data = _measure_form()
    try:
        register.update_measure(current_user, measure, data)
        register.set_measure_rules(current_user, measure, request.form.getlist("rules"))
    except FieldError as exc:
        return render_template("risk/point.html", **_point_context(
            row, measure_values={measure.id: data},
            measure_errors={measure.id: exc.errors})), exc.status
    flash(_("Measure %(key)s saved.", key=measure.key), "success")
    return _back_to(row, "#measures")


@bp.post("/measures/<int:measure_id>/delete")
@require(EDIT)
def delete_measure(measure_id: int):
    measure = _measure(measure_id, EDIT)
    register.delete_measure(current_user, measure)
    flash(_("Measure %(key)s removed.", key=measure.key), "success")
    return _back_to(Point.get_by_id(measure.point_id), "#measures")


@bp.post("/measures/<int:measure_id>/progress")
@require(EDIT)
def track_measure(measure_id: int):
    """Progress of a measure of the version in force."""
    measure = _measure(measure_id, EDIT)
    row = Point.get_by_id(measure.point_id)
    status = request.form.get("status", "")
    try:
        register.track_measure(current_user, measure, status,
                               done_on=request.form.get("done_on") or None,
                               note=request.form.get("progress_note", ""))
    except FieldError as exc:
        return render_template("risk/point.html", **_point_context(
            row, measure_values={measure.id: dict(request.form)},
            measure_errors={measure.id: exc.errors})), exc.status
    flash(_("Progress of measure %(key)s recorded.", key=measure.key), "success")
    return _back_to(row, "#measures")


@bp.post("/points/<int:point_id>/rules")
@require(EDIT)
def point_rules(point_id: int):
    row = _point(point_id, EDIT)
    register.set_point_rules(current_user, row, request.form.getlist("rules"))
    flash(_("The rules this point rests on are saved."), "success")
    return _back_to(row, "#rules")


@bp.post("/points/<int:point_id>/review")
@require(EDIT)
def review_point(point_id: int):
    """A periodic review (定期复核) of a point in force."""
    row = _point(point_id, EDIT)
    data = {k: request.form.get(k, "") for k in ("outcome", "note", "reviewed_on")}
    try:
        register.review_point(current_user, row, data["outcome"], data["note"],
                              data["reviewed_on"] or None)
    except FieldError as exc:
        return render_template("risk/point.html", **_point_context(
            row, values=data, errors=exc.errors)), exc.status
    flash(_("The review is recorded."), "success")
    return _back_to(row, "#reviews")


# -- import and export ---------------------------------------------------------------------------
@bp.get("/registers/<int:register_id>/export")
@require(VIEW)
def export(register_id: int):
    """The version's points and measures as CSV or XLSX (the import's columns)."""
    reg = _register(register_id)
    fmt = request.args.get("format", "xlsx")
    if fmt not in ("csv", "xlsx"):
        raise FieldError("format", _("Choose CSV or XLSX."))
    dept = Department.get_by_id(reg.department_id)
    headers, rows = transfer.export_rows(reg)
    return export_response(f"{dept.code}-risk-register-v{reg.version}", headers, rows, fmt,
                           title=_("Risk register"))


@bp.get("/registers/<int:register_id>/import")
@require(EDIT)
def import_form(register_id: int):
    reg = _register(register_id, EDIT)
    return render_template("risk/import.html", register=reg,
                           dept=Department.get_by_id(reg.department_id),
                           columns=transfer.columns(), problems=None)


@bp.post("/registers/<int:register_id>/import")
@require(EDIT)
def import_file(register_id: int):
    """All or nothing: every bad row is reported with its line and field, and then
    nothing is imported."""
    reg = _register(register_id, EDIT)
    upload = request.files.get("file")
    dept = Department.get_by_id(reg.department_id)
    mode = request.form.get("mode", "append")
    try:
        result = transfer.import_upload(current_user, reg, upload, mode=mode)
    except transfer.ImportRefused as exc:
        return render_template("risk/import.html", register=reg, dept=dept,
                               columns=transfer.columns(), problems=exc,
                               mode=mode), 422
    flash(_("%(points)d risk points and %(measures)d measures imported.",
            points=result.points, measures=result.measures), "success")
    return redirect(url_for("risk.register_page", register_id=reg.id), 303)


# -- the risk matrix ---------------------------------------------------------------------------
@bp.get("/matrix-levels.css")
@require(VIEW)
def matrix_levels_css():
    """The level colours of every matrix version as classes (no inline styles)."""
    return Response(scoring.matrix_css(), mimetype="text/css")


@bp.get("/matrix")
@require(SETTINGS)
def matrix():
    """The matrix in force and its versions; a city-wide grant saves a new version."""
    return render_template("risk/matrix.html", **_matrix_context())


def _matrix_context(**extra) -> dict:
    current = scoring.current()
    ctx = {"current": current, "grading": scoring.grading(current),
           "versions": list(Matrix.select().order_by(Matrix.version.desc())),
           "may_change": covers_city(current_user, SETTINGS), "errors": {},
           "definition": current.definition, "note": ""}
    ctx.update(extra)
    return ctx


@bp.post("/matrix")
@require(SETTINGS, city_wide=True)
def save_matrix():
    form = request.form
    try:
        definition = matrix_from_form(form)
        row = scoring.save_version(current_user, definition, form.get("note", ""))
    except FieldError as exc:
        return render_template("risk/matrix.html", **_matrix_context(
            errors=exc.errors, note=form.get("note", ""))), exc.status
    flash(_("Matrix version %(v)d saved: new register versions are scored on it.",
            v=row.version), "success")
    return redirect(url_for("risk.matrix"), 303)


def matrix_from_form(form) -> dict:
    """A matrix definition from the settings form (scales keep their number of steps;
    labels, levels, the grid and the criteria grading are edited)."""
    base = scoring.current().definition
    d = {"method": form.get("method", "")}
    for axis in ("likelihood", "impact"):
        d[axis] = [{"value": i + 1,
                    "label": {lang: form.get(f"{axis}.{i}.{lang}", "") for lang in ("zh", "en")}}
                   for i in range(len(base[axis]))]
    d["levels"] = []
    for i in range(3):
        d["levels"].append({
            "colour": form.get(f"levels.{i}.colour", ""),
            "review_months": parse_int(form.get(f"levels.{i}.review_months"),
                                       f"levels.{i}.review_months", min=1, max=36),
            "label": {lang: form.get(f"levels.{i}.label.{lang}", "") for lang in ("zh", "en")},
            "description": {lang: form.get(f"levels.{i}.description.{lang}", "")
                            for lang in ("zh", "en")}})
    d["grid"] = [[parse_int(form.get(f"grid.{li + 1}.{im + 1}"), f"grid.{li + 1}.{im + 1}",
                            min=1, max=3) for im in range(len(d["impact"]))]
                 for li in range(len(d["likelihood"]))]
    d["criteria"] = [{lang: form.get(f"criteria.{i}.{lang}", "") for lang in ("zh", "en")}
                     for i in range(len(base["criteria"]))]
    grades = []
    for level in (1, 2, 3):
        at_least = parse_int(form.get(f"criteria_levels.{level}"),
                             f"criteria_levels.{level}", min=1, max=len(d["criteria"]),
                             default=None)
        if at_least is not None:
            grades.append([at_least, level])
    d["criteria_levels"] = grades
    return d
