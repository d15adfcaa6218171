"""Pages of the effect evaluation (防控效果评估): the runs with the forms to run one and to
set the weights, a run's ranking tables and chart, its XLSX, a department's scores over
the periods, and the counter board of the seed's four headline figures."""
from __future__ import annotations

import json

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from core.api import (
    Department,
    FieldError,
    Region,
    _,
    covers_city,
    export_response,
    get_scoped,
    parse_id,
    region_ids,
    require,
    today,
)
from plugins.risk import config, evaluation
from plugins.risk.models import EvaluationRun

bp = Blueprint("risk_evaluation", __name__, url_prefix="/risk/evaluation",
               template_folder="templates")
VIEW, RUN = "risk.view", evaluation.PERM


def _visible_runs() -> list[EvaluationRun]:
    allowed = region_ids(current_user, VIEW)
    runs = EvaluationRun.select().order_by(EvaluationRun.period.desc(),
                                           EvaluationRun.version.desc()).limit(500)
    return [r for r in runs if evaluation.run_regions(r, allowed)][:60]


def _runs_page(error: str | None = None, status: int = 200, period: str | None = None):
    ids = region_ids(current_user, RUN)
    regions = list(Region.select().where(Region.id.in_(sorted(ids))).order_by(Region.id)) \
        if ids else []
    return render_template(
        "risk/evaluation_runs.html", runs=_visible_runs(), regions=regions, error=error,
        period=period or evaluation.previous_periods(today())[0],
        weights=config.get("weights"), labels=evaluation.INDICATOR_LABELS,
        may_weights=covers_city(current_user, evaluation.SETTINGS_PERM),
        region_names=dict(Region.select(Region.id, Region.name).tuples()),
        period_label=evaluation.period_label,
        education=evaluation.education_available()), status


@bp.get("/")
@require(VIEW)
def runs():
    return _runs_page()


@bp.post("/run")
@require(RUN)
def run():
    form = request.form
    try:
        region_id = parse_id(form.get("region"), "region")
        if region_id not in region_ids(current_user, RUN):
            raise FieldError("region", _("Choose a region of your scope."))
        result = evaluation.evaluate(current_user, Region.get_by_id(region_id),
                                     form.get("period", ""))
    except FieldError as exc:
        return _runs_page(f"{exc.field}: {exc.message}", 422, form.get("period", "")[:20])
    flash(_("Evaluation %(period)s version %(v)d stored.",
            period=evaluation.period_label(result.period), v=result.version), "success")
    return redirect(url_for("risk_evaluation.detail", run_id=result.id), 303)


@bp.post("/weights")
@require(evaluation.SETTINGS_PERM, city_wide=True)
def weights():
    try:
        evaluation.save_weights(current_user, request.form.to_dict())
    except FieldError as exc:
        return _runs_page(f"{exc.field}: {exc.message}", 422)
    flash(_("Evaluation weights saved."), "success")
    return redirect(url_for("risk_evaluation.runs"), 303)


def _run(run_id: int) -> tuple[EvaluationRun, set[int]]:
    run = EvaluationRun.get_or_none(EvaluationRun.id == run_id)
    allowed = evaluation.run_regions(run, region_ids(current_user, VIEW)) if run else set()
    if not allowed:
        abort(404)
    return run, allowed


@bp.get("/<int:run_id>")
@require(VIEW)
def detail(run_id: int):
    run, allowed = _run(run_id)
    departments = evaluation.scores(run, "department", allowed)
    regions = evaluation.scores(run, "region", allowed)
    chart = {"labels": [s.label for s in departments if s.rank][:30],
             "scores": [s.score for s in departments if s.rank][:30],
             "name": _("Score")}
    others = list(EvaluationRun.select().where((EvaluationRun.region == run.region_id)
                                               & (EvaluationRun.period == run.period))
                  .order_by(EvaluationRun.version))
    return render_template("risk/evaluation.html", run=run, departments=departments,
                           regions=regions, chart=json.dumps(chart, ensure_ascii=False),
                           versions=others, region=Region.get_by_id(run.region_id),
                           parts={s.id: evaluation.parts_of(s, run)
                                  for s in departments + regions},
                           labels=evaluation.INDICATOR_LABELS,
                           period_label=evaluation.period_label)


@bp.get("/<int:run_id>.xlsx")
@require(VIEW)
def xlsx(run_id: int):
    run, allowed = _run(run_id)
    return export_response(f"risk-evaluation-{run.period}-v{run.version}", [], [], "xlsx",
                           sheets=evaluation.export_sheets(run, allowed))


@bp.get("/departments/<int:dept_id>")
@require(VIEW)
def department(dept_id: int):
    dept = get_scoped(Department.select().where(Department.id == dept_id), Department.region,
                      VIEW)
    history = evaluation.department_history(dept.id)
    chart = {"labels": [evaluation.period_label(h["period"]) for h in history],
             "scores": [h["score"] for h in history], "ranks": [h["rank"] for h in history],
             "name": _("Score"), "rank": _("Rank")}
    return render_template("risk/evaluation_department.html", dept=dept, history=history,
                           chart=json.dumps(chart, ensure_ascii=False),
                           period_label=evaluation.period_label)


@bp.get("/board")
@require(VIEW)
def board():
    return render_template("risk/evaluation_board.html",
                           rows=evaluation.board(region_ids(current_user, VIEW)))
