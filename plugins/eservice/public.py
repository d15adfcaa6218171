"""Public pages of the service hall (no login): the service guide with active search, each
item's guide, online application, progress lookup by serial + ID number, rating, and the
statistics."""
from __future__ import annotations

import datetime as dt

from flask import (
    Blueprint,
    abort,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from jinja2_fragments.flask import render_block
from wtforms.fields.choices import SelectChoice

from core.api import (
    Department,
    FieldError,
    RateLimited,
    Region,
    _,
    descendants,
    local_time,
    parse_id,
    parse_int,
    public_cacheable,
    today,
)
from plugins.eservice import (
    applications,
    cases,
    contact,
    lookup,
    rating,
    statistics,
    timeline,
)
from plugins.eservice.forms import (
    ApplyForm,
    LookupForm,
    RatingForm,
    StatsFilterForm,
    SupplementForm,
)
from plugins.eservice.models import (
    EVENT_LABELS,
    ITEM_TYPES,
    LEVELS,
    RATINGS,
    SPECIAL_KINDS,
    Case,
    Item,
    ItemBasis,
    ItemMaterial,
    ItemStep,
    Rating,
)

bp = Blueprint("public_eservice", __name__, url_prefix="/public/services",
               template_folder="templates")

PUBLIC_MAX_AGE = 300


@bp.app_template_filter("es_local")
def local_minute(value: dt.datetime | None) -> str:
    """A stored UTC time as local ``YYYY-MM-DD HH:MM`` (cheaper than Babel per row)."""
    if value is None:
        return ""
    t = local_time(value)
    return f"{t.year:04d}-{t.month:02d}-{t.day:02d} {t.hour:02d}:{t.minute:02d}"


@bp.route("/")
@public_cacheable(PUBLIC_MAX_AGE)
def catalogue():
    """Browse items in force by region, department and type; search as you type."""
    args = request.args
    q = (args.get("q") or "").strip()[:50]
    closed = applications.closed_regions()
    query = (Item.select(Item, Department).join(Department)
             .where(Item.status == "active"))
    if closed:
        query = query.where(Item.region.not_in(list(closed)))
    region = Region.get_or_none(Region.code == args.get("region")) if args.get("region") \
        else None
    if region is not None and region.id in closed:
        region = None
    if region is not None:
        query = query.where(Item.region == region.id)
    dept_id = parse_id(args.get("department"), "department", default=None)
    if dept_id:
        query = query.where(Item.department == dept_id)
    if args.get("type") in ITEM_TYPES:
        query = query.where(Item.type == args["type"])
    if q:
        query = query.where(Item.name.contains(q) | Item.code.contains(q))
    page = parse_int(args.get("page"), "page", min=1, max=10 ** 6, default=1)
    total = query.count()
    items = list(query.order_by(Item.code).paginate(page, 30))
    regions = [r for r in Region.select().where(Region.id.in_(
        Item.select(Item.region).where(Item.status == "active"))).order_by(Region.sort,
                                                                           Region.code)
               if r.id not in closed]
    departments = list(Department.select().where(
        Department.region == region.id).order_by(Department.sort, Department.code)) \
        if region is not None else []
    ctx = {"items": items, "total": total, "page": page, "pages": max(1, -(-total // 30)),
           "q": q, "regions": regions, "departments": departments, "region": region,
           "dept_id": dept_id, "type": args.get("type", ""), "types": ITEM_TYPES}
    if request.headers.get("HX-Request") == "true" and \
            request.headers.get("HX-Target") == "results":
        html = render_block("eservice/public_catalogue.html", "results", **ctx)
    else:
        html = render_template("eservice/public_catalogue.html", **ctx)
    return _response(html)


def _response(html: str):
    return make_response(html)


@bp.route("/items/<code>")
@public_cacheable(PUBLIC_MAX_AGE)
def item_page(code: str):
    """The service guide (办事指南) of one item in force (none where the hall is off)."""
    item = (Item.select(Item, Department).join(Department)
            .where((Item.code == code) & (Item.status == "active")).first())
    if item is None or not applications.hall_open(item.region_id):
        abort(404)
    html = render_template(
        "eservice/public_item.html", item=item,
        bases=list(item.bases.order_by(ItemBasis.seq)),
        materials=list(item.materials.order_by(ItemMaterial.seq)),
        steps=list(item.steps.order_by(ItemStep.seq)), specials=list(item.specials),
        levels=LEVELS, special_kinds=SPECIAL_KINDS,
        can_apply=item.effective_from <= today() and applications.applied_for_online(item),
        applied_for=applications.applied_for_online(item))
    return _response(html)


def _client() -> str:
    return request.remote_addr or "unknown"


APPLIED_KEY = "eservice_applied"


def _no_store(resp, status: int = 200):
    resp.status_code = status
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.route("/items/<code>/apply", methods=["GET", "POST"])
def apply(code: str):
    """Online application (网上申报) for an item in force: the applicant's details and the
    materials they will provide; filed as a case on the channel ``online``."""
    item = applications.item_open_for_application(code)
    if item is None:
        abort(404)
    materials = list(item.materials.order_by(ItemMaterial.seq))
    form = ApplyForm()
    form.received.choices = [SelectChoice(m.id, m.name) for m in materials]
    status, message, file_errors = 200, None, {}
    if request.method == "POST":
        status = 422
        if form.validate():
            uploads = {m.id: upload for m in materials
                       if (upload := request.files.get(f"file_{m.id}")) and upload.filename}
            try:
                case = applications.file_online(
                    item, applicant_name=form.applicant_name.data,
                    id_number=form.id_number.data, phone=form.phone.data,
                    received=[m for m in form.received.data or []
                              if m in {x.id for x in materials}],
                    client=_client(), uploads=uploads)
            except RateLimited as exc:
                status, message = 429, exc.message
            except FieldError as exc:
                if exc.field and exc.field in form:
                    form[exc.field].errors = [exc.message]
                elif exc.field and exc.field.startswith("file_"):
                    file_errors[exc.field] = exc.message
                else:
                    message = exc.message
            else:
                session[APPLIED_KEY] = case.id
                return redirect(url_for("public_eservice.applied"), 303)
    html = render_template("eservice/public_apply.html", item=item, materials=materials,
                           form=form, message=message, file_errors=file_errors,
                           max_mb=applications.MATERIAL_MAX_BYTES // (1024 * 1024))
    return _no_store(_response(html), status)


@bp.route("/applied")
def applied():
    """Confirmation of an online application: the serial to keep, the ID number masked."""
    case_id = session.get(APPLIED_KEY)
    case = (Case.select(Case, Item).join(Item).where(Case.id == case_id).first()
            if isinstance(case_id, int) else None)
    if case is None or not applications.hall_open(case.region_id):
        return redirect(url_for("public_eservice.catalogue"), 303)
    html = render_template("eservice/public_applied.html", case=case,
                           materials=cases.case_materials(case),
                           latest=applications.committed_by(case),
                           contact=contact.contact_for(case.region_id))
    return _no_store(_response(html))


@bp.route("/track", methods=["GET", "POST"])
def track():
    """Progress lookup by serial + ID number: one generic answer for every miss. The form
    posted by htmx gets only the answer (swapped in above the form); without JavaScript the
    whole page comes back."""
    form = LookupForm()
    status, case, message = 200, None, None
    answer_only = request.method == "POST" and request.headers.get("HX-Request") == "true"
    if request.method == "POST":
        if not form.validate():
            status = 422
            if answer_only:  # the form is not re-rendered: name the fields in the answer
                message = "; ".join(f"{form[k].label.text}: {v[0]}"
                                    for k, v in form.errors.items())
        else:
            try:
                case = lookup.find_case(form.serial.data, form.id_number.data, _client())
            except RateLimited as exc:
                status, message = 429, exc.message
            else:
                if case is None:
                    status = 404
                    message = _("No case matches this serial number and ID number.")
    ctx = {"form": form, "case": case, "message": message}
    if case is not None:
        ctx.update(_progress(case))
        if case.state == "closed" and ctx["rating"] is None:
            rating_form = RatingForm(formdata=None)
            rating_form.serial.data = case.serial
            ctx["rating_form"] = rating_form
    if answer_only:  # the form posted by htmx: only the answer, swapped in above the form
        html = render_block("eservice/public_track.html", "result", **ctx)
    else:
        html = render_template("eservice/public_track.html", **ctx)
    resp = _response(html)
    resp.status_code = status
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.route("/supplement", methods=["POST"])
def supplement():
    """Online supplement (网上补正): the applicant uploads what the supplement request
    listed, found by serial + ID number like the lookup (the one answer for every miss)."""
    form = SupplementForm()
    status, message, case, listed, file_errors = 422, None, None, [], {}
    if not form.validate():
        message = "; ".join(f"{form[k].label.text}: {v[0]}" for k, v in form.errors.items())
    else:
        uploads = {}
        for key, upload in request.files.items():
            index = key.removeprefix("file_")
            if key.startswith("file_") and index.isdigit() and upload and upload.filename:
                uploads[int(index)] = upload
        try:
            case = applications.supplement_online(form.serial.data, form.id_number.data,
                                                  uploads, _client())
            status = 200
        except RateLimited as exc:
            status, message = 429, exc.message
        except FieldError as exc:  # NoMatch among them: 404
            status = exc.status
            if exc.field.startswith("file_"):
                file_errors[exc.field] = exc.message
                listed = getattr(exc, "listed", [])
            else:
                message = exc.message
    html = render_template("eservice/public_supplement.html", form=form, message=message,
                           case=case if status == 200 else None, listed=listed,
                           file_errors=file_errors, done=status == 200,
                           materials=cases.case_materials(case) if status == 200 else [],
                           max_mb=applications.MATERIAL_MAX_BYTES // (1024 * 1024))
    return _no_store(_response(html), status)


def _progress(case) -> dict:
    day = today()
    events = lookup.public_timeline(case)
    return {"events": events, "details": timeline.public_details,
            "decision": timeline.latest_public(events, "decided")
            or timeline.latest_public(events, "not_accepted"),
            "missing": timeline.latest_public(events, "supplement_requested")
            if case.state == "supplement_requested" else [],
            "listed": applications.missing_listed(case)
            if case.state == "supplement_requested" else [],
            "max_mb": applications.MATERIAL_MAX_BYTES // (1024 * 1024),
            "overdue": cases.is_overdue(case, day),
            "rating": Rating.get_or_none(Rating.case == case.id)
            if case.state == "closed" else None,
            "ratings": RATINGS, "labels": EVENT_LABELS}


@bp.route("/rate", methods=["POST"])
def rate():
    """The applicant's rating (好差评) of a closed case, once, by serial + ID number."""
    form = RatingForm()
    status, message, done = 200, None, False
    if not form.validate():
        status = 422
        message = "; ".join(f"{form[k].label.text}: {v[0]}" for k, v in form.errors.items())
    else:
        try:
            rating.rate_online(form.serial.data, form.id_number.data, form.rating.data,
                               form.comment.data or "", _client())
            done = True
        except RateLimited as exc:
            status, message = 429, exc.message
        except FieldError as exc:  # NoMatch among them: 404
            status, message = exc.status, exc.message
    resp = _response(render_template("eservice/public_rate.html", form=form, message=message,
                                     done=done))
    resp.status_code = status
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.route("/stats")
@public_cacheable(PUBLIC_MAX_AGE)
def stats():
    """Public statistics: cases handled, on-time and early rates, satisfaction — for a
    region, a department and a month if chosen (a bad choice: 400 naming the field)."""
    form = StatsFilterForm(request.args)
    closed = applications.closed_regions()
    regions = [r for r in Region.select().order_by(Region.sort, Region.code)
               if r.id not in closed]
    form.region.choices = [SelectChoice("", _("All regions"))] + \
        [SelectChoice(r.code, r.name) for r in regions]
    region = next((r for r in regions if r.code == request.args.get("region")), None)
    departments = list(Department.select().where(Department.region == region.id)
                       .order_by(Department.sort, Department.code)) if region else []
    form.department.choices = [SelectChoice("", _("All departments"))] + \
        [SelectChoice(str(d.id), d.name) for d in departments]
    if request.args and not form.validate():
        return _no_store(_response(render_template(
            "eservice/public_stats.html", form=form, data={"departments": [], "months": []},
            percent=statistics.percent)), 400)
    data = statistics.statistics(
        regions=sorted(descendants(region.id)) if region else None,
        department=form.department_id(), month=form.month.data)
    return _response(render_template("eservice/public_stats.html", data=data, form=form,
                                     percent=statistics.percent))
