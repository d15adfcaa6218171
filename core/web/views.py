"""Home, dashboard, public portal, health check and the plugin and calendar admin."""
from __future__ import annotations

import datetime as dt

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
from markupsafe import Markup

from core import calendar, jobs
from core.auth.kinds import home_endpoint
from core.auth.scope import has_permission, region_ids, regions_in_scope, require
from core.clock import today
from core.db import db
from core.errors import FieldError
from core.i18n import _
from core.models import PluginSwitch
from core.org.models import Region
from core.parse import parse_date, parse_int
from core.plugins import host
from core.queue import huey
from core.web import admin as admin_service
from core.web.forms import CalendarRulingForm, SwitchForm, submitted

bp = Blueprint("web", __name__)
public = Blueprint("public_portal", __name__, url_prefix="/public")
admin = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/")
def home():
    if current_user.is_authenticated:
        return redirect(url_for(home_endpoint(current_user)))
    return redirect(url_for("public_portal.index"))


@bp.route("/dashboard")
@require("core.dashboard")
def dashboard():
    return render_template("web/dashboard.html", widgets=_widgets())


def _widgets():
    items = host().collect("ql_dashboard_widgets", region=g.ql_region, user=current_user)
    out = []
    for w in sorted(items, key=lambda w: w.get("order", 50)):
        perm = w.get("permission")
        if perm and not has_permission(current_user, perm):
            continue
        entry = {"title": w["title"], "url": w.get("url")}
        if w.get("render"):
            entry["html"] = Markup(w["render"](current_user, g.ql_region))
        out.append(entry)
    return out


@bp.route("/healthz")
def healthz():
    """For the load balancer: 200 while the database and the queue answer, else 503
    naming what failed. Late periodic jobs are reported (status ``degraded``) but do not
    fail it: a stopped worker must not take every web process out of service."""
    checks = {}
    try:
        db.execute_sql("SELECT 1").fetchone()
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - report any failure to the load balancer
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        huey.storage.queue_size()
        checks["queue"] = "ok"
    except Exception as exc:  # noqa: BLE001
        checks["queue"] = f"error: {type(exc).__name__}"
    ok = all(v == "ok" for v in checks.values())
    if checks["database"] == "ok":
        states = jobs.states()
        late = jobs.late_names(states)
        checks["jobs"] = ("late: " + ", ".join(late)) if late else ("ok" if states else "none")
    status = "fail" if not ok else ("degraded" if checks["jobs"].startswith("late") else "ok")
    resp = jsonify(status=status, **checks)
    resp.status_code = 200 if ok else 503
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.route("/csrf-token")
def csrf_token():
    """This visitor's CSRF token, for a form on a page a shared cache keeps (which
    carries none of its own): fetched when the form is submitted; never cached. Another
    site cannot read it (same-origin policy; no CORS)."""
    from flask import current_app
    resp = jsonify(token=current_app.jinja_env.globals["csrf_token"]())
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.route("/healthz/jobs")
def healthz_jobs():
    """For monitoring: 200 when every periodic job completed within its last
    QL_JOB_LATE_PERIODS runs, 503 when one is late or no worker ever registered any."""
    states = jobs.states()
    late = jobs.late_names(states)
    status = "late" if late else ("ok" if states else "none")
    resp = jsonify(status=status, late=late, jobs=[_job_json(s) for s in states])
    resp.status_code = 200 if status == "ok" else 503
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _job_json(state) -> dict:
    def iso(value):
        return value.isoformat() + "Z" if value else None
    job = state.job
    return {"name": job.name, "late": state.late, "last_completed_at": iso(job.last_completed_at),
            "due_by": iso(job.due_by), "last_failed_at": iso(job.last_failed_at),
            "last_error": job.last_error or None, "runs": job.runs}


@public.route("/")
def index():
    links = host().collect("ql_public_links")
    return render_template("public/index.html", links=links)


# -- administration: plugins ------------------------------------------------------
@admin.route("/plugins")
@require("core.settings.manage")
def plugins():
    h = host()
    regions = regions_in_scope(current_user, "core.settings.manage")
    off = {(s.plugin, s.region_id) for s in PluginSwitch.select()}
    return render_template("admin/plugins.html", records=list(h.records.values()),
                           regions=regions, off=off)


@admin.route("/plugins/<name>/regions/<int:region_id>", methods=["POST"])
@require("core.settings.manage")
def switch_plugin(name, region_id):
    h = host()
    if name not in h.records:
        abort(404)
    if region_id not in region_ids(current_user, "core.settings.manage"):
        abort(404)
    form = submitted(SwitchForm(), "state")
    region = Region.get_by_id(region_id)
    admin_service.switch_plugin(current_user, name, region, form.state.data == "on")
    g.pop("_ql_off", None)
    g.pop("_ql_regions_off", None)
    if request.htmx:
        off = {(s.plugin, s.region_id) for s in PluginSwitch.select()}
        return render_template("admin/_plugin_cell.html", rec=h.records[name], region=region,
                               off=off)
    flash(_("Saved."), "success")
    return redirect(url_for("admin.plugins"), 303)


# -- administration: background jobs ------------------------------------------------
@admin.route("/jobs")
@require("core.settings.manage")
def jobs_page():
    from core.tasks import last_heartbeat
    return render_template("admin/jobs.html", states=jobs.states(),
                           heartbeat=last_heartbeat())


# -- administration: calendar -----------------------------------------------------
@admin.route("/calendar")
@require("core.settings.manage")
def calendar_page():
    first, last = calendar.FIRST_DAY, calendar.LAST_DAY
    now = today()
    year = parse_int(request.args.get("year"), "year", min=first.year, max=last.year,
                     default=now.year)
    month = parse_int(request.args.get("month"), "month", min=1, max=12, default=now.month)
    first_of_month = dt.date(year, month, 1)
    try:
        days = calendar.month_view(year, month)
    except calendar.CalendarError as exc:
        raise FieldError("year", str(exc)) from None
    prev = (first_of_month - dt.timedelta(days=1)).replace(day=1)
    nxt = (first_of_month + dt.timedelta(days=32)).replace(day=1)
    return _calendar_page(days, first_of_month, prev, nxt)


def _calendar_page(days, first_of_month, prev, nxt, import_errors=None, status=200):
    from core.models import CalendarChange, CalendarOverride
    overrides = {o.day: o for o in CalendarOverride.select()}
    source = calendar.year_source(first_of_month.year)
    changes = list(CalendarChange.select().order_by(CalendarChange.id.desc()).limit(20))
    return render_template(
        "admin/calendar.html", days=days, first=first_of_month, prev=prev, nxt=nxt,
        overrides=overrides, lead=first_of_month.weekday(), source=source,
        source_label=calendar.SOURCE_LABELS.get(source, ""), changes=changes,
        holiday_label=calendar.holiday_label, change_label=calendar.change_label,
        import_errors=import_errors), status


@admin.route("/calendar/schedule", methods=["POST"])
@require("core.settings.manage", city_wide=True)
def calendar_import():
    """Import a published schedule (file upload); bad rows: 422 listing each, no change."""
    upload = request.files.get("schedule")
    try:
        year, change = admin_service.import_calendar_schedule(
            current_user, upload.read(admin_service.SCHEDULE_MAX_BYTES + 1) if upload else b"")
    except calendar.ScheduleError as exc:
        day = today()
        first_of_month = day.replace(day=1)
        return _calendar_page(calendar.month_view(day.year, day.month), first_of_month,
                              (first_of_month - dt.timedelta(days=1)).replace(day=1),
                              (first_of_month + dt.timedelta(days=32)).replace(day=1),
                              import_errors=exc.errors, status=422)
    flash(_("The published schedule of %(year)d is imported; %(n)d working day(s) changed.",
            year=year, n=change.count if change else 0), "success")
    return redirect(url_for("admin.calendar_page", year=year, month=1), 303)


@admin.route("/calendar/<day>", methods=["POST"])
@require("core.settings.manage", city_wide=True)
def calendar_override(day):
    d = parse_date(day, "day", min=calendar.FIRST_DAY, max=calendar.LAST_DAY)
    form = submitted(CalendarRulingForm(), "action")
    admin_service.override_calendar_day(current_user, d, form.action.data, form.note.data or "")
    flash(_("Saved."), "success")
    return redirect(url_for("admin.calendar_page", year=d.year, month=d.month), 303)
