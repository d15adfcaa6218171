"""The audit viewer (审计查询) for the audit administrator: filters, paging, CSV export
(itself audited), a "verify now" check of the seal chain and the off-site anchor panel
with its "send now" button (audited)."""
from __future__ import annotations

import logging

from flask import (
    Blueprint,
    abort,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from jinja2_fragments.flask import render_block
from wtforms.fields import SelectChoice

from core import clock
from core.audit import anchor, labels, queries
from core.audit.forms import AuditFilterForm
from core.audit.models import AuditEvent
from core.audit.queries import PERM, AuditFilter
from core.audit.seal import ChainError, verify
from core.audit.service import record
from core.auth.scope import require
from core.db import db
from core.export import export_response
from core.i18n import _
from core.org.models import Region
from core.web.paging import paginate

log = logging.getLogger("qinglian.audit")

bp = Blueprint("audit", __name__, url_prefix="/audit")

SORTABLE = {"time": AuditEvent.id, "user": AuditEvent.username,
            "action": AuditEvent.action, "object": AuditEvent.object_type}
CSV_COLUMNS = ("id", "seq", "ts_utc", "user_id", "username", "role", "region", "ip",
               "user_agent", "request_id", "action", "object_type", "object_id", "summary",
               "changes", "success")


def _filter(formdata) -> tuple[AuditFilterForm, AuditFilter]:
    """Parse the filters; a bad value answers 400 naming the field."""
    form = AuditFilterForm(formdata=formdata)
    regions = queries.scope_regions(current_user)
    form.region.choices = [SelectChoice("", _("All regions in scope"))] + [
        SelectChoice(str(r.id), f"{r.name} ({r.code})") for r in regions]
    if not form.validate():
        problems = "; ".join(f"{name}: {' '.join(str(e) for e in errors)}"
                             for name, errors in form.errors.items())
        abort(400, description=problems)
    return form, AuditFilter(
        user=(form.user.data or "").strip(), action=(form.action.data or "").strip(),
        object_type=(form.object_type.data or "").strip(),
        object_id=(form.object_id.data or "").strip(),
        region_id=int(form.region.data) if form.region.data else None,
        date_from=form.date_from.data, date_to=form.date_to.data,
        outcome=form.outcome.data or "")


def _events(f: AuditFilter):
    return queries.apply_filter(queries.visible_events(current_user), f)


@bp.route("/")
@require(PERM)
def index():
    if "sort" not in request.args:  # newest first unless the user chose an order
        args = {"order": "desc", **request.args.to_dict(), "sort": "time"}
        return redirect(url_for("audit.index", **args))
    form, f = _filter(request.args)
    page = paginate(_events(f), SORTABLE, "time", target="results", per_page=50)
    ids = {ev.region_id for ev in page.items if ev.region_id is not None}
    region_names = {r.id: r.name for r in Region.select().where(Region.id.in_(sorted(ids)))}
    export_args = {k: v for k, v in request.args.items()
                   if k not in ("sort", "order", "page") and v}
    context = {"form": form, "page": page, "region_names": region_names,
               "export_args": export_args, "audit_action": labels.action_label,
               "audit_summary": labels.summary_text}
    if request.htmx and not request.htmx.boosted:
        return render_block("audit/index.html", "results", **context)
    context.update(anchor=anchor.panel(), can_send_anchor=queries.sees_unregioned(current_user))
    return render_template("audit/index.html", **context)


@bp.route("/export.csv", methods=["POST"])
@require(PERM)
def export():
    """CSV of the filtered events; the export itself is recorded as ``audit.export``."""
    _form, f = _filter(request.form)
    query = _events(f)
    with db.atomic():
        count = query.count()
        record("audit.export", object_type="audit_event", success=True,
               summary=f"exported {count} audit event(s) as CSV ({f.as_text()})")
    regions = {r.id: r.code for r in Region.select(Region.id, Region.code)}
    stamp = clock.now().strftime("%Y%m%d-%H%M%S")
    return export_response(f"audit-{stamp}.csv", list(CSV_COLUMNS), _csv_rows(query, regions))


def _csv_rows(query, regions):
    for row in queries.export_rows(query):
        yield (row["id"], row.get("seq") or "", row["ts"].strftime("%Y-%m-%d %H:%M:%S.%f"),
               row["user_id"] or "", row["username"], row["role"],
               regions.get(row["region_id"], ""), row["ip"], row["user_agent"],
               row["request_id"], row["action"], row["object_type"], row["object_id"],
               row["summary"], row["changes"], row["success"])


@bp.route("/verify", methods=["POST"])
@require(PERM)
def verify_now():
    """Recompute the seal chain now and show its status (an HTMX fragment)."""
    result = verify()
    with db.atomic():
        record("audit.verify", object_type="audit_chain", success=result.ok,
               summary="chain intact" if result.ok
               else f"chain broken at block {result.block_id}: {result.reason}")
    html = render_template("audit/_verify.html", result=result)
    if request.htmx:
        return html
    return render_template("audit/verify.html", result=result)


@bp.route("/anchor")
@require(PERM)
def anchor_panel():
    """The off-site anchor panel (an HTMX fragment; it polls itself while a delivery is
    under way)."""
    return render_template("audit/_anchor.html", anchor=anchor.panel(),
                           can_send_anchor=queries.sees_unregioned(current_user))


@bp.route("/anchor/send", methods=["POST"])
@require(PERM)
def anchor_send():
    """Send the newest anchor to every destination now (recorded as ``audit.anchor.send``);
    a worker sends it. Only an audit reader of the whole deployment (a top region) may."""
    if not queries.sees_unregioned(current_user):
        abort(403)
    dests = anchor.destinations()
    if not dests:
        abort(409, description=_("No off-site destination is configured: set "
                                 "QL_AUDIT_ANCHOR_EMAIL or QL_AUDIT_ANCHOR_URL."))
    error = ""
    try:
        with db.atomic():
            ids = anchor.queue(force=True, trigger="page")
            if not ids:
                abort(409, description=_("Nothing has been sealed yet: there is no anchor "
                                         "to send."))
            head = anchor.newest_block()
            record("audit.anchor.send", object_type="audit_block", object_id=head.id,
                   summary=f"send the anchor of block {head.id} now to {len(ids)} "
                           "destination(s)")
    except ChainError as exc:
        error = str(exc)
        with db.atomic():
            record("audit.anchor.send", object_type="audit_chain", success=False,
                   summary=f"anchor not sent: {error}"[:500])
    else:
        from core.audit.tasks import send_anchor_task
        try:
            send_anchor_task(ids)
        except Exception:  # queued rows are sent by the minute job
            log.exception("audit anchor: could not reach the job queue; the minute job sends")
    if not request.htmx:
        if error:
            abort(409, description=error)
        return redirect(url_for("audit.index"), code=303)
    state = anchor.panel()
    state.error = error
    return render_template("audit/_anchor.html", anchor=state, can_send_anchor=True)
