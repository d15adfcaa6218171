"""Staff pages of e-supervision: monitored cases, a case's clocks and signals, settings."""
from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from core.api import (
    Department,
    FieldError,
    Region,
    _,
    enabled_for,
    export_response,
    get_scoped,
    has_permission,
    paginate,
    parse_id,
    region_ids,
    regions_in_scope,
    require,
    scoped,
    today,
)
from plugins.esupervision import clocks as clockmod
from plugins.esupervision import (
    evaluation,
    labels,
    pickers,
    regional,
    reports,
    services,
    supervision,
)
from plugins.esupervision import screen as screenmod
from plugins.esupervision.detectors import all_detectors
from plugins.esupervision.forms import (
    SCOPE_LABELS,
    AccountabilityForm,
    CloseForm,
    DemandForm,
    DetectorForm,
    FindingForm,
    ReportForm,
    ReturnForm,
    RunForm,
    ThresholdForm,
    TransferForm,
    VerifyForm,
    WeightsForm,
    detector_form,
)
from plugins.esupervision.models import (
    SUPERVISION_STATES,
    Accountability,
    CaseEvent,
    Clock,
    EvaluationRun,
    InspectionFinding,
    MonitoredCase,
    Signal,
    SuggestionLetter,
    SupervisionCase,
    Threshold,
)
from plugins.esupervision.widgets import signal_label

bp = Blueprint("esupervision", __name__, url_prefix="/esupervision",
               template_folder="templates", static_folder="static")
bp.add_app_template_global(signal_label, "esv_signal_label")
bp.add_app_template_global(labels.label, "esv_label")
bp.add_app_template_global(labels.clock_label, "esv_clock")
bp.add_app_template_global(today, "esv_today")

STATUSES = ("received", "accepted", "stopped", "decided", "not_accepted", "closed")


@bp.get("/")
@require("esupervision.view")
def cases():
    """Monitored cases in the user's scope, filterable by status and serial."""
    query = scoped(MonitoredCase.select(), MonitoredCase.region, "esupervision.view")
    status = request.args.get("status", "")
    if status in STATUSES:
        query = query.where(MonitoredCase.status == status)
    q = request.args.get("q", "").strip()
    if q:
        query = query.where(MonitoredCase.serial.contains(q)
                            | MonitoredCase.item_name.contains(q))
    page = paginate(query, {"serial": MonitoredCase.serial,
                            "submitted": MonitoredCase.submitted_at,
                            "due": MonitoredCase.completion_due}, "submitted",
                    target="esv-cases")
    signals = scoped(Signal.select(), Signal.region, "esupervision.view") \
        .order_by(Signal.id.desc()).limit(10)
    return render_template("esupervision/cases.html", page=page, status=status, q=q,
                           statuses=STATUSES, signals=list(signals))


@bp.get("/cases/<int:case_id>")
@require("esupervision.view")
def case(case_id: int):
    row = get_scoped(MonitoredCase.select().where(MonitoredCase.id == case_id),
                     MonitoredCase.region, "esupervision.view")
    clocks = list(Clock.select().where(Clock.case == row).order_by(Clock.start_day, Clock.id))
    events = list(CaseEvent.select().where(CaseEvent.case == row)
                  .order_by(CaseEvent.occurred_at, CaseEvent.id))
    signals = list(Signal.select().where(Signal.case == row).order_by(Signal.id))
    supervised = {sc.signal_id: sc for sc in SupervisionCase.select().where(
        SupervisionCase.signal.in_([s.id for s in signals]))} if signals else {}
    day = today()
    return render_template("esupervision/case.html", case=row, clocks=clocks, events=events,
                           levels={c.id: clockmod.level(c, day) for c in clocks},
                           signals=signals, today=day, supervised=supervised,
                           open_form=CloseForm())


# -- settings: detectors and yellow thresholds, the city default and county overrides ---
MANAGE = "esupervision.manage"


def _may_set_defaults() -> bool:
    """The city defaults belong to whoever manages e-supervision for the whole city."""
    roots = [rid for (rid,) in Region.select(Region.id).where(Region.parent.is_null())
             .tuples()]
    return bool(roots) and all(has_permission(current_user, MANAGE, rid) for rid in roots)


def _settings_region(region_id: int | None) -> Region | None:
    """The region whose overrides are edited, None for the city defaults; 404 when out of
    the user's scope (the defaults: unless the user manages the whole city)."""
    if region_id is None:
        if not _may_set_defaults():
            abort(404)
        return None
    if region_id not in region_ids(current_user, MANAGE):
        abort(404)
    region = Region.get_by_id(region_id)
    if region.parent_id is None:
        return _settings_region(None)
    return region


def _settings_url(region: Region | None) -> str:
    if region is None:
        return url_for("esupervision.settings")
    return url_for("esupervision.region_settings", region_id=region.id)


def _regions_in_scope() -> list[Region]:
    """The districts and counties in scope (the city's settings are the defaults)."""
    return [r for r in regions_in_scope(current_user, MANAGE) if r.parent_id is not None]


def _source(source, region: Region | None, names: dict) -> tuple[str, bool]:
    """(label, set on this page) of where an effective value comes from."""
    if source == regional.BUILTIN:
        return _("Built-in default"), False
    if source is None:
        return _("City default"), region is None
    return _("Set for %(region)s", region=names.get(source, "?")), \
        region is not None and source == region.id


def _render_settings(region: Region | None, form: ThresholdForm | None = None,
                     error: str | None = None, status: int = 200):
    tree = regional.Tree()
    region_id = region.id if region else None
    names = dict(Region.select(Region.id, Region.name).tuples())
    resolved_all = regional.Detectors(tree).for_region(region_id)
    detectors = []
    for det in all_detectors():
        res = resolved_all[det.code]
        label, own = _source(res.source, region, names)
        detectors.append({"det": det, "enabled": res.enabled, "params": res.params,
                          "source": label, "own": own})
    thresholds = []
    for view in regional.Thresholds(tree).in_force(region_id):
        label, own = _source(view.source, region, names)
        thresholds.append({"row": view.row, "source": label, "own": own})
    return render_template("esupervision/settings.html", region=region,
                           regions=_regions_in_scope(), defaults=_may_set_defaults(),
                           form=form or ThresholdForm(), error=error, detectors=detectors,
                           thresholds=thresholds, action=_settings_url(region),
                           scope_labels=SCOPE_LABELS), status


def _settings_page(region_id: int | None):
    region = _settings_region(region_id)
    form = ThresholdForm()
    if request.method == "GET":
        return _render_settings(region, form)
    error = None
    if form.validate_on_submit():
        try:
            services.set_threshold(form.scope.data, form.key.data, form.share_percent.data,
                                   form.days_left.data, user=current_user, region=region)
        except ValueError as exc:
            error = str(exc)
        else:
            flash(_("Threshold saved."), "success")
            return redirect(_settings_url(region), 303)
    return _render_settings(region, form, error, 422)


@bp.route("/settings", methods=["GET", "POST"])
@require(MANAGE, city_wide=True)
def settings():
    """The city defaults: detectors (on/off, parameters) and yellow thresholds. A county's
    supervisor is sent to the county's own page."""
    if request.method == "GET" and not _may_set_defaults():
        acting = g.get("ql_region")
        regions = _regions_in_scope()
        home = next((r for r in regions if acting is not None and r.id == acting.id),
                    regions[0] if regions else None)
        if home is None:
            abort(404)
        return redirect(_settings_url(home))
    return _settings_page(None)


@bp.route("/settings/regions/<int:region_id>", methods=["GET", "POST"])
@require(MANAGE)
def region_settings(region_id: int):
    """A county's settings: the value in force for each, with where it comes from, and
    the county's own overrides."""
    return _settings_page(region_id)


def _save_detector(region_id: int | None, code: str):
    region = _settings_region(region_id)
    det = {d.code: d for d in all_detectors()}.get(code)
    if det is None:
        abort(404)
    form = detector_form(det)
    if not form.validate_on_submit():
        if form.csrf_token.errors or not form.errors:
            abort(400, _("The form expired. Please submit it again."))
        name, errors = next((n, e) for n, e in form.errors.items() if e)
        raise FieldError(name, f"{code}.{name.removeprefix('param_')}: {errors[0]}")
    params = {k: form[f"param_{k}"].data for k in (det.params or {})}
    try:
        services.set_detector(code, bool(form.enabled.data), params, user=current_user,
                              region=region)
    except ValueError as exc:
        abort(422, str(exc))
    flash(_("Detector %(code)s saved.", code=code), "success")
    return redirect(_settings_url(region), 303)


@bp.post("/settings/detectors/<code>")
@require(MANAGE, city_wide=True)
def detector(code: str):
    return _save_detector(None, code)


@bp.post("/settings/regions/<int:region_id>/detectors/<code>")
@require(MANAGE)
def region_detector(region_id: int, code: str):
    return _save_detector(region_id, code)


@bp.post("/settings/regions/<int:region_id>/detectors/<code>/clear")
@require(MANAGE)
def region_detector_clear(region_id: int, code: str):
    """Clear a county's override: its cases follow the city default again."""
    region = _settings_region(region_id)
    if region is None or code not in {d.code for d in all_detectors()}:
        abort(404)
    if not DetectorForm().validate_on_submit():
        abort(400, _("The form expired. Please submit it again."))
    services.clear_detector(code, region, user=current_user)
    flash(_("Detector %(code)s follows the city default again.", code=code), "success")
    return redirect(_settings_url(region), 303)


@bp.post("/settings/thresholds/<int:threshold_id>/delete")
@require(MANAGE)
def threshold_delete(threshold_id: int):
    row = Threshold.get_or_none(Threshold.id == threshold_id)
    if row is None:
        abort(404)
    region = _settings_region(row.region_id)
    form = DetectorForm()
    if not form.validate_on_submit():
        abort(400, _("The form expired. Please submit it again."))
    services.delete_threshold(threshold_id, user=current_user)
    flash(_("Threshold removed."), "success")
    return redirect(_settings_url(region), 303)


# -- supervision cases (督办) -----------------------------------------------------------
@bp.get("/supervision")
@require("esupervision.supervise")
def supervision_list():
    query = scoped(SupervisionCase.select(), SupervisionCase.region, "esupervision.supervise")
    state = request.args.get("state", "")
    if state in SUPERVISION_STATES:
        query = query.where(SupervisionCase.state == state)
    page = paginate(query, {"opened": SupervisionCase.opened_at,
                            "due": SupervisionCase.rectification_due}, "opened",
                    target="esv-supervision")
    return render_template("esupervision/supervision_list.html", page=page, state=state,
                           states=SUPERVISION_STATES)


@bp.post("/signals/<int:signal_id>/supervise")
@require("esupervision.supervise")
def supervision_open(signal_id: int):
    signal = get_scoped(Signal.select().where(Signal.id == signal_id), Signal.region,
                        "esupervision.supervise")
    if not CloseForm().validate_on_submit():
        abort(400, _("The form expired. Please submit it again."))
    try:
        sc = supervision.open_case(signal, current_user)
    except supervision.SupervisionError as exc:
        abort(422, str(exc))
    return redirect(url_for("esupervision.supervision_detail", sc_id=sc.id), 303)


def _forms():
    return {"verify_form": VerifyForm(prefix="v"), "demand_form": DemandForm(prefix="d"),
            "report_form": ReportForm(prefix="r"), "close_form": CloseForm(prefix="c"),
            "return_form": ReturnForm(prefix="b"),
            "acc_form": AccountabilityForm(prefix="a"),
            "transfer_form": TransferForm(prefix="t")}


@bp.get("/supervision/<int:sc_id>")
@require("esupervision.supervise")
def supervision_detail(sc_id: int, error: str | None = None, forms: dict | None = None,
                       status: int = 200):
    sc = get_scoped(SupervisionCase.select().where(SupervisionCase.id == sc_id),
                    SupervisionCase.region, "esupervision.supervise")
    records = list(Accountability.select().where(Accountability.supervision == sc)
                   .order_by(Accountability.id))
    forms = forms or _forms()
    transfer = supervision.transfer_record(sc)
    return render_template("esupervision/supervision.html", sc=sc, records=records,
                           error=error, files=reports.files_of(supervision=sc),
                           transfer=transfer,
                           leads_on=enabled_for("cases", Region.get_by_id(sc.region_id)),
                           people=_people_options(sc.region_id, "",
                                                  forms["acc_form"].person.data),
                           **forms), status


def _options(found: list[tuple[int, str]], chosen: tuple[int, str] | None) -> dict:
    """A picker's options: the first ``pickers.LIMIT`` matches (``found`` holds one more
    when more match), with the chosen one first when it is not among them."""
    options = found[:pickers.LIMIT]
    if chosen is not None and chosen[0] not in {value for value, _label in options}:
        options.insert(0, chosen)
    return {"options": options, "more": len(found) > pickers.LIMIT,
            "selected": chosen[0] if chosen else None}


def _people_options(region_id: int, q: str, chosen: int | None = None) -> dict:
    """The accountability picker's options: people of the region (see ``_options``)."""
    found = pickers.people(region_id, q, limit=pickers.LIMIT + 1)
    person = pickers.person_in_region(region_id, chosen)
    return _options([(p.id, label) for p, label in found],
                    (person.id, pickers.labels([person])[0]) if person is not None else None)


@bp.get("/supervision/<int:sc_id>/people")
@require("esupervision.supervise")
def supervision_people(sc_id: int):
    """The accountability picker's matches (HTMX fragment): people of the case's region
    whose name, post or department contains ``q``."""
    sc = get_scoped(SupervisionCase.select().where(SupervisionCase.id == sc_id),
                    SupervisionCase.region, "esupervision.supervise")
    return render_template("esupervision/_picker_options.html",
                           **_people_options(sc.region_id, request.args.get("q", "")))


@bp.post("/supervision/<int:sc_id>/transfer")
@require("esupervision.supervise")
def supervision_transfer(sc_id: int):
    """Transfer the supervision case to the case supervision platform as a problem lead."""
    sc = get_scoped(SupervisionCase.select().where(SupervisionCase.id == sc_id),
                    SupervisionCase.region, "esupervision.supervise")
    forms = _forms()
    form = forms["transfer_form"]
    failed = _submit(sc_id, forms, form,
                     lambda: supervision.transfer_as_lead(sc, current_user, form.reason.data))
    if failed is not None:
        return failed
    flash(_("Transferred to the case supervision platform as a problem lead."), "success")
    return redirect(url_for("esupervision.supervision_detail", sc_id=sc.id), 303)


@bp.post("/supervision/<int:sc_id>/<step>")
@require("esupervision.supervise")
def supervision_step(sc_id: int, step: str):
    """One step of the supervision case: verify, demand, report (received on paper),
    close (the report accepted), return (sent back for more), accountability."""
    sc = get_scoped(SupervisionCase.select().where(SupervisionCase.id == sc_id),
                    SupervisionCase.region, "esupervision.supervise")
    forms = _forms()
    key = {"verify": "verify_form", "demand": "demand_form", "report": "report_form",
           "close": "close_form", "return": "return_form",
           "accountability": "acc_form"}.get(step)
    if key is None:
        abort(404)
    form = forms[key]
    failed = _submit(sc_id, forms, form, lambda: _step(sc, step, form))
    if failed is not None:
        return failed
    flash(_("Saved."), "success")
    return redirect(url_for("esupervision.supervision_detail", sc_id=sc.id), 303)


def _submit(sc_id: int, forms: dict, form, act):
    """Validate ``form`` and run ``act``: None when done, else the page again (422) with
    the form's errors or the step's refusal."""
    if not form.validate_on_submit():
        return supervision_detail(sc_id, forms=forms, status=422)
    try:
        act()
    except supervision.SupervisionError as exc:
        return supervision_detail(sc_id, error=str(exc), forms=forms, status=422)
    except FieldError as exc:
        form.apply_error(exc)
        return supervision_detail(sc_id, forms=forms, status=422)
    return None


def _step(sc: SupervisionCase, step: str, form) -> None:
    """Run one step of the supervision case with its form's data."""
    if step == "verify":
        supervision.verify(sc, current_user, form.finding.data, form.reason.data)
    elif step == "demand":
        supervision.demand_rectification(sc, current_user, form.demand.data,
                                         form.days.data)
    elif step == "report":
        supervision.report_rectification(
            sc, current_user, form.report.data,
            reports.uploads_of(request.files.getlist(form.files.name)))
    elif step == "close":
        supervision.close(sc, current_user, form.note.data)
    elif step == "return":
        supervision.return_report(sc, current_user, form.reason.data, form.days.data)
    else:
        supervision.record_accountability(sc, current_user, form.person.data,
                                          form.what.data, form.outcome.data)


# -- monitoring screen (监控大屏) -----------------------------------------------------------
def _screen_region():
    """The region shown: ``?region=`` if in scope (else 404), else the acting region."""
    allowed = region_ids(current_user, "esupervision.view")
    rid = parse_id(request.args.get("region"), "region", default=None)
    if rid is not None:
        if rid not in allowed:
            abort(404)
        return Region.get_by_id(rid), allowed
    region = g.get("ql_region")
    if region is None or region.id not in allowed:
        abort(404)
    return region, allowed


def _screen_context():
    region, allowed = _screen_region()
    day = today()
    total, tiles = screenmod.region_tiles(region, allowed, day)
    departments = screenmod.department_tiles(region, allowed, day) if not tiles else []
    parent = region.parent if region.parent_id and region.parent_id in allowed else None
    return {"region": region, "total": total, "tiles": tiles, "departments": departments,
            "parent": parent, "today": day, "cols": screenmod.columns(len(tiles)),
            "signals": screenmod.newest_signals(screenmod.below(region.id) & allowed)}


@bp.get("/screen")
@require("esupervision.view")
def screen():
    """The wall display: tiles per district or department, trend, live signal feed."""
    return render_template("esupervision/screen.html", **_screen_context())


@bp.get("/screen/tiles")
@require("esupervision.view")
def screen_tiles():
    return render_template("esupervision/_screen_tiles.html", **_screen_context())


@bp.get("/screen/feed")
@require("esupervision.view")
def screen_feed():
    region, allowed = _screen_region()
    return render_template("esupervision/_screen_feed.html",
                           signals=screenmod.newest_signals(screenmod.below(region.id)
                                                            & allowed))


@bp.get("/screen/trend.json")
@require("esupervision.view")
def screen_trend():
    region, allowed = _screen_region()
    data = screenmod.trend(screenmod.below(region.id) & allowed, today())
    data["labels"] = {"yellow": _("Yellow warnings"), "red": _("Red signals")}
    return jsonify(data)


# -- daily supervision findings (日常监察) and the monthly evaluation (效能评估) ----------------
SUPERVISE = "esupervision.supervise"


def _department_label(d: Department) -> str:
    return _("%(department)s (%(region)s)", department=d.name, region=d.region.name)


def _department_options(q: str, chosen: int | None = None) -> dict:
    """The department picker's options in the user's scope (see ``_options``)."""
    found = pickers.departments(current_user, SUPERVISE, q, limit=pickers.LIMIT + 1)
    dept = pickers.department_in_scope(current_user, SUPERVISE, chosen)
    return _options([(d.id, _department_label(d)) for d in found],
                    (dept.id, _department_label(dept)) if dept is not None else None)


@bp.get("/pickers/departments")
@require(SUPERVISE)
def department_picker():
    """The department picker's matches (HTMX fragment): departments in the user's scope
    whose name, code or region contains ``q``."""
    return render_template("esupervision/_picker_options.html",
                           **_department_options(request.args.get("q", "")))


@bp.route("/findings", methods=["GET", "POST"])
@require(SUPERVISE)
def findings():
    form = FindingForm()
    error, status = None, 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            dept = pickers.department_in_scope(current_user, SUPERVISE, form.department.data)
            try:
                if dept is None:
                    raise evaluation.EvaluationError(_("department: not within your scope"))
                evaluation.record_finding(current_user, dept, form.day.data,
                                          form.category.data, form.description.data,
                                          form.severity.data)
            except evaluation.EvaluationError as exc:
                error = str(exc)
            else:
                flash(_("Finding recorded."), "success")
                return redirect(url_for("esupervision.findings"), 303)
    query = scoped(InspectionFinding.select(), InspectionFinding.region, SUPERVISE)
    page = paginate(query, {"day": InspectionFinding.day, "points": InspectionFinding.points},
                    "day", target="esv-findings")
    return render_template("esupervision/findings.html", form=form, page=page, error=error,
                           departments=_department_options("", form.department.data)), status


@bp.get("/evaluation")
@require("esupervision.supervise")
def evaluation_runs():
    runs = list(EvaluationRun.select().order_by(EvaluationRun.month.desc(),
                                                EvaluationRun.version.desc()).limit(36))
    cfg = evaluation.config()
    return render_template("esupervision/evaluation_runs.html", runs=runs,
                           run_form=RunForm(month=evaluation.previous_month(today())),
                           weights_form=WeightsForm(data=cfg), error=None)


@bp.post("/evaluation/run")
@require("esupervision.manage", city_wide=True)
def evaluation_run():
    form = RunForm()
    if form.validate_on_submit():
        try:
            run = evaluation.evaluate(form.month.data.strip(), current_user)
        except evaluation.EvaluationError as exc:
            error = str(exc)
        else:
            flash(_("Evaluation %(month)s version %(v)d stored.", month=run.month,
                    v=run.version), "success")
            return redirect(url_for("esupervision.evaluation_detail", run_id=run.id), 303)
    else:
        error = _("month: expected YYYY-MM")
    runs = list(EvaluationRun.select().order_by(EvaluationRun.month.desc(),
                                                EvaluationRun.version.desc()).limit(36))
    return render_template("esupervision/evaluation_runs.html", runs=runs, run_form=form,
                           weights_form=WeightsForm(data=evaluation.config()),
                           error=error), 422


@bp.post("/evaluation/weights")
@require("esupervision.manage", city_wide=True)
def evaluation_weights():
    form = WeightsForm()
    error = None
    if form.validate_on_submit():
        try:
            evaluation.set_config(form.data, current_user)
        except evaluation.EvaluationError as exc:
            error = str(exc)
        else:
            flash(_("Evaluation settings saved."), "success")
            return redirect(url_for("esupervision.evaluation_runs"), 303)
    runs = list(EvaluationRun.select().order_by(EvaluationRun.month.desc(),
                                                EvaluationRun.version.desc()).limit(36))
    return render_template("esupervision/evaluation_runs.html", runs=runs,
                           run_form=RunForm(month=evaluation.previous_month(today())),
                           weights_form=form, error=error), 422


@bp.get("/evaluation/<int:run_id>")
@require("esupervision.supervise")
def evaluation_detail(run_id: int):
    run = EvaluationRun.get_or_none(EvaluationRun.id == run_id)
    if run is None:
        abort(404)
    allowed = region_ids(current_user, "esupervision.supervise")
    sent = dict(SuggestionLetter.select(SuggestionLetter.number, SuggestionLetter.id)
                .where(SuggestionLetter.run == run).tuples())
    return render_template("esupervision/evaluation.html", run=run,
                           departments=evaluation.scores(run, "department", allowed),
                           regions=evaluation.scores(run, "region", allowed), letters=sent)


@bp.get("/evaluation/<int:run_id>.xlsx")
@require("esupervision.supervise")
def evaluation_xlsx(run_id: int):
    run = EvaluationRun.get_or_none(EvaluationRun.id == run_id)
    if run is None:
        abort(404)
    allowed = region_ids(current_user, "esupervision.supervise")
    headers = {"department": _("Departments"), "region": _("Regions"),
               **{k: _(label) for k, label in evaluation.COLUMNS}}
    return export_response(f"evaluation-{run.month}-v{run.version}", [], [], "xlsx",
                           sheets=evaluation.export_sheets(run, allowed, headers))


@bp.get("/evaluation/departments/<int:dept_id>")
@require("esupervision.supervise")
def evaluation_department(dept_id: int):
    dept = get_scoped(Department.select().where(Department.id == dept_id), Department.region,
                      "esupervision.supervise")
    return render_template("esupervision/evaluation_department.html", dept=dept)


@bp.get("/evaluation/departments/<int:dept_id>.json")
@require("esupervision.supervise")
def evaluation_department_json(dept_id: int):
    dept = get_scoped(Department.select().where(Department.id == dept_id), Department.region,
                      "esupervision.supervise")
    data = evaluation.department_history(dept.id)
    data["labels"] = {"total": _("Score"), "rank": _("Rank")}
    return jsonify(data)
