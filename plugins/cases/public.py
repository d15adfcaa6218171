"""Public pages of case supervision (no login): the web report form (网络举报) and the
reporter's follow-up by receipt code. The code travels only in POST bodies, never in a
URL; a hit opens a short portal session; every answer is ``no-store``."""
from __future__ import annotations

import time

from flask import (
    Blueprint,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from core.api import FieldError, RateLimited, Region, _, client_address, db, record
from plugins.cases import portal
from plugins.cases.forms import MessageForm, PublicReportForm, ReceiptForm
from plugins.cases.models import Item
from plugins.cases.vocab import PUBLIC_STATES, label

bp = Blueprint("public_cases", __name__, url_prefix="/public/cases",
               template_folder="templates")
PORTAL_KEY = "cases_portal"
PORTAL_SECONDS = 30 * 60


def _answer(html: str, status: int = 200):
    resp = make_response(html, status)
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["Referrer-Policy"] = "no-referrer"
    return resp


def _uploads(name: str = "files") -> list:
    return [f for f in request.files.getlist(name) if f and f.filename]


@bp.route("/", methods=["GET", "POST"])
def report():
    """The web report form; the receipt code is shown once, in the answer to the POST."""
    regions = list(Region.select().order_by(Region.sort, Region.id))
    form = PublicReportForm(regions=regions)
    status, message = 200, None
    if request.method == "POST":
        status = 422
        if form.validate():
            region = next((r for r in regions if r.id == form.region.data), None)
            try:
                if region is None:
                    raise FieldError("region", _("Choose a region."))
                item, code = portal.file_web_report(region, form.data_dict(), _uploads(),
                                                    client_address())
            except RateLimited as exc:
                status, message = 429, exc.message
            except FieldError as exc:
                form.apply_error(exc)
                if exc.field and exc.field.startswith("file"):
                    message = exc.message
            else:
                html = render_template("cases/public_filed.html", item=item,
                                       code=portal.show_code(code))
                return _answer(html, 201)
    html = render_template("cases/public_report.html", form=form, message=message,
                           max_mb=portal.FILE_MAX_BYTES // (1024 * 1024),
                           max_files=portal.FILES_PER_REPORT)
    return _answer(html, status)


@bp.route("/follow", methods=["GET", "POST"])
def follow():
    """Enter the receipt code: one answer for every miss."""
    form = ReceiptForm()
    status, message = 200, None
    if request.method == "POST":
        try:
            item = portal.find_by_code(form.code.data or "", client_address())
        except RateLimited as exc:
            status, message = 429, exc.message
        else:
            if item is None:
                status, message = 404, _("No report matches this code.")
            else:
                session[PORTAL_KEY] = {"id": item.id, "until": int(time.time()) +
                                       PORTAL_SECONDS}
                return redirect(url_for("public_cases.mine"), 303)
    # the code typed is never echoed back: the answer is the same for every miss
    return _answer(render_template("cases/public_follow.html",
                                   form=ReceiptForm(formdata=None), message=message), status)


def _portal_item() -> Item | None:
    value = session.get(PORTAL_KEY)
    if not isinstance(value, dict) or not isinstance(value.get("id"), int) \
            or int(value.get("until") or 0) < time.time():
        session.pop(PORTAL_KEY, None)
        return None
    return Item.get_or_none(Item.id == value["id"])


@bp.route("/mine", methods=["GET", "POST"])
def mine():
    """The reporter's page: the state (always shown), the office's messages, and a form
    to add information and files. Every view and addition is audited."""
    item = _portal_item()
    if item is None:
        return redirect(url_for("public_cases.follow"), 303)
    form = MessageForm()
    status, message = 200, None
    if request.method == "POST":
        status = 422
        try:
            portal.reporter_adds(item, request.form.get("text", ""), _uploads())
        except RateLimited as exc:
            status, message = 429, exc.message
        except FieldError as exc:
            form.apply_error(exc)
            message = exc.message
        else:
            return redirect(url_for("public_cases.mine") + "#messages", 303)
    else:
        with db.atomic():
            record("cases.reporter.view", object_type="cases_item", object_id=item.id,
                   summary=item.number, region_id=item.region_id)
    html = render_template("cases/public_mine.html", item=item, form=form, message=message,
                           state=label(PUBLIC_STATES, item.status),
                           messages=portal.reporter_reads(item),
                           files=list(item.attachments), max_mb=portal.FILE_MAX_BYTES
                           // (1024 * 1024))
    return _answer(html, status)


@bp.post("/leave")
def leave():
    session.pop(PORTAL_KEY, None)
    return redirect(url_for("public_cases.follow"), 303)
