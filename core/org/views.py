"""Organisation staff pages: regions, departments, posts (岗位), people, post holdings,
import and export. Lists answer HTMX with their table block only; rows edit in place."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    get_template_attribute,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from jinja2_fragments.flask import render_block
from wtforms.fields.choices import SelectChoice

from core.auth.scope import (
    descendants,
    get_scoped,
    has_permission,
    region_ids,
    regions_in_scope,
    require,
    scoped,
)
from core.clock import today
from core.export import export_response
from core.i18n import _
from core.org import importer, services
from core.org.forms import (
    DepartmentEditForm,
    DepartmentForm,
    EndHoldingForm,
    HoldingForm,
    ImportForm,
    PersonEditForm,
    PersonForm,
    PostEditForm,
    PostForm,
    RegionEditForm,
    RegionForm,
)
from core.org.models import Department, Person, Post, PostHolding, Region
from core.org.services import MANAGE, READ, OrgError
from core.parse import parse_id
from core.web.paging import paginate
from core.web.redirects import safe_redirect_target

bp = Blueprint("org", __name__, url_prefix="/org")


@bp.after_request
def _vary(resp):
    """List pages answer HTMX with a fragment: caches must key on HX-Request."""
    if not request.headers.get("HX-Request"):
        resp.headers.add("Vary", "HX-Request")
    return resp


def _is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def _can_manage() -> bool:
    return has_permission(current_user, MANAGE)


def _search() -> str:
    return (request.args.get("q") or "").strip()[:100]


def _region_filter(query, field):
    """Narrow a list to ``?region=`` and the regions below it (when in scope)."""
    rid = parse_id(request.args.get("region"), "region", default=0)
    if rid and rid in region_ids(current_user, READ):
        query = query.where(field.in_(sorted(descendants(rid))))
    return query, rid


def _regions_in_scope(perm: str) -> list[Region]:
    return regions_in_scope(current_user, perm)


def _region_choices() -> list[SelectChoice]:
    return [SelectChoice(r.id, f"{r.code} {r.name}") for r in _regions_in_scope(MANAGE)]


def _list(template: str, query, sortable: dict, default: str, **ctx):
    page = paginate(query, sortable, default, target="results")
    ctx.update(page=page, q=_search(), can_manage=_can_manage())
    if _is_htmx():
        return render_block(template, "results", **ctx)
    return render_template(template, **ctx)


def _apply_error(form, exc: OrgError) -> str | None:
    """Put a service error on its form field; return it when no field matches."""
    for name in (exc.field, f"{exc.field}_id"):
        if name and name in form:
            form[name].errors = [*form[name].errors, str(exc)]
            return None
    return str(exc)


def _form_page(form, title: str, action: str, cancel: str, error: str | None = None,
               status: int = 200):
    return render_template("org/form.html", form=form, title=title, action=action,
                           cancel=cancel, error=error), status


def _message(text: str, status: int = 422):
    """An error shown above the table for an HTMX action (retargeted, not in the row)."""
    resp = make_response(render_template("errors/_fragment.html", code=status,
                                         title=_("Not saved"), message=text), status)
    resp.headers["HX-Retarget"] = "#org-messages"
    resp.headers["HX-Reswap"] = "innerHTML"
    return resp


# -- generic in-place editing of a table row --------------------------------------
@dataclass
class Editable:
    """One kind of record whose table rows can be edited in place."""

    name: str
    plural: str
    get: Callable[[int, str], object]
    form: type
    update: Callable
    delete: Callable
    row: str
    values: Callable[[object], dict]
    back: Callable[[object], str]


def _get_region(rid: int, perm: str) -> Region:
    return get_scoped(Region.select().where(Region.id == rid), Region.id, perm)


def _get_department(did: int, perm: str) -> Department:
    return get_scoped(Department.select(Department, Region).join(Region)
                      .where(Department.id == did), Department.region, perm)


def _get_post(pid: int, perm: str) -> Post:
    return get_scoped(Post.select(Post, Department, Region).join(Department).join(Region)
                      .where(Post.id == pid), Department.region, perm)


def _get_person(pid: int, perm: str) -> Person:
    return get_scoped(Person.select(Person, Region).join(Region).where(Person.id == pid),
                      Person.region, perm)


EDITABLE = {
    "regions": Editable(
        "region", "regions", _get_region, RegionEditForm, services.update_region,
        services.delete_region, "region_row",
        lambda r: {"code": r.code, "name": r.name, "level": r.level, "sort": r.sort},
        lambda r: url_for("org.regions")),
    "departments": Editable(
        "department", "departments", _get_department, DepartmentEditForm,
        services.update_department, services.delete_department, "department_row",
        lambda d: {"code": d.code, "name": d.name, "short_name": d.short_name,
                   "is_supervision_office": d.is_supervision_office, "sort": d.sort},
        lambda d: url_for("org.departments")),
    "posts": Editable(
        "post", "posts", _get_post, PostEditForm, services.update_post, services.delete_post,
        "post_row",
        lambda p: {"title": p.title, "risk_level": p.risk_level, "is_head": p.is_head},
        lambda p: url_for("org.department", did=p.department_id)),
    "people": Editable(
        "person", "people", _get_person, PersonEditForm, services.update_person,
        services.delete_person, "person_row",
        lambda p: {"name": p.name, "phone": p.phone, "email": p.email},
        lambda p: url_for("org.person", pid=p.id)),
}


def _editable(kind: str) -> Editable:
    if kind not in EDITABLE:
        abort(404)
    return EDITABLE[kind]


def _row_html(ed: Editable, obj) -> str:
    macro = get_template_attribute("org/_rows.html", ed.row)
    extra = {}
    if ed.name == "post":
        extra["holders"] = services.current_holders([obj.id]).get(obj.id, [])
    if ed.name == "region":
        visible = region_ids(current_user, READ)
        extra["depth"] = sum(1 for r in obj.lineage()[1:] if r.id in visible)
    return macro(obj, can_manage=_can_manage(), **extra)


def _edit_html(ed: Editable, obj, form) -> str:
    macro = get_template_attribute("org/_rows.html", "edit_row")
    return macro(form, url_for("org.update", kind=ed.plural, oid=obj.id),
                 url_for("org.row", kind=ed.plural, oid=obj.id))


@bp.route("/<kind>/<int:oid>/row")
@require(READ)
def row(kind: str, oid: int):
    ed = _editable(kind)
    return _row_html(ed, ed.get(oid, READ))


@bp.route("/<kind>/<int:oid>/edit")
@require(MANAGE)
def edit(kind: str, oid: int):
    ed = _editable(kind)
    obj = ed.get(oid, MANAGE)
    form = ed.form(data=ed.values(obj))
    if _is_htmx():
        return _edit_html(ed, obj, form)
    return _form_page(form, _("Edit %(name)s", name=str(obj)),
                      url_for("org.update", kind=kind, oid=oid), ed.back(obj))


@bp.route("/<kind>/<int:oid>", methods=["PUT", "POST"])
@require(MANAGE)
def update(kind: str, oid: int):
    ed = _editable(kind)
    obj = ed.get(oid, MANAGE)
    form = ed.form()
    error = None
    if form.validate_on_submit():
        try:
            obj = ed.update(current_user, obj, {k: v for k, v in form.data.items()
                                                if k != "csrf_token"})
        except OrgError as exc:
            error = _apply_error(form, exc)
        else:
            if _is_htmx():
                return _row_html(ed, ed.get(oid, READ))
            flash(_("Saved."), "success")
            return redirect(ed.back(obj), 303)
    if _is_htmx():
        return (_edit_html(ed, obj, form), 422) if error is None else _message(error)
    return _form_page(form, _("Edit %(name)s", name=str(obj)), request.path, ed.back(obj),
                      error, 422)


@bp.route("/<kind>/<int:oid>/delete", methods=["POST"])
@require(MANAGE)
def delete(kind: str, oid: int):
    ed = _editable(kind)
    obj = ed.get(oid, MANAGE)
    back = ed.back(obj) if ed.name == "post" else url_for(f"org.{kind}")
    try:
        ed.delete(current_user, obj)
    except OrgError as exc:
        if _is_htmx():
            return _message(str(exc))
        flash(str(exc), "error")
        return redirect(safe_redirect_target(request.referrer, back), 303)
    if _is_htmx():
        return ""
    flash(_("Deleted."), "success")
    return redirect(back, 303)


# -- regions ------------------------------------------------------------------------
def _tree(regions: list[Region]) -> list[tuple[Region, int]]:
    """Regions in depth-first order with their depth below the top of the user's scope."""
    ids = {r.id for r in regions}
    children: dict = {}
    for r in sorted(regions, key=lambda r: (r.sort, r.code)):
        children.setdefault(r.parent_id if r.parent_id in ids else None, []).append(r)
    out: list[tuple[Region, int]] = []
    stack = [(r, 0) for r in reversed(children.get(None, []))]
    while stack:
        node, depth = stack.pop()
        out.append((node, depth))
        stack.extend((c, depth + 1) for c in reversed(children.get(node.id, [])))
    return out


@bp.route("/")
@require(READ)
def index():
    return redirect(url_for("org.departments"))


@bp.route("/regions")
@require(READ)
def regions():
    rows = _tree(list(scoped(Region.select(), Region.id, READ)))
    return render_template("org/regions.html", rows=rows, can_manage=_can_manage())


@bp.route("/regions/new", methods=["GET", "POST"])
@require(MANAGE)
def region_new():
    form = RegionForm()
    choices = _regions_in_scope(MANAGE)
    form.parent_id.choices = [SelectChoice(r.id, f"{r.code} {r.name}") for r in choices]
    if request.method == "GET" and request.args.get("parent"):
        form.parent_id.data = parse_id(request.args.get("parent"), "parent")
    error = None
    if form.validate_on_submit():
        try:
            services.create_region(current_user, form.data)
        except OrgError as exc:
            error = _apply_error(form, exc)
        else:
            flash(_("Region created."), "success")
            return redirect(url_for("org.regions"), 303)
    status = 422 if request.method == "POST" else 200
    return _form_page(form, _("New region"), request.path, url_for("org.regions"), error,
                      status)


# -- departments --------------------------------------------------------------------
@bp.route("/departments")
@require(READ)
def departments():
    query = scoped(Department.select(Department, Region).join(Region), Department.region,
                   READ)
    q = _search()
    if q:
        query = query.where(Department.name.contains(q) | Department.code.contains(q)
                            | Department.short_name.contains(q))
    query, rid = _region_filter(query, Department.region)
    return _list("org/departments.html", query,
                 {"code": Department.code, "name": Department.name, "region": Region.code},
                 "region", regions=_regions_in_scope(READ), region_id=rid)


@bp.route("/departments/new", methods=["GET", "POST"])
@require(MANAGE)
def department_new():
    form = DepartmentForm()
    form.region_id.choices = _region_choices()
    error = None
    if form.validate_on_submit():
        try:
            dept = services.create_department(current_user, form.data)
        except OrgError as exc:
            error = _apply_error(form, exc)
        else:
            flash(_("Department created."), "success")
            return redirect(url_for("org.department", did=dept.id), 303)
    status = 422 if request.method == "POST" else 200
    return _form_page(form, _("New department"), request.path, url_for("org.departments"),
                      error, status)


@bp.route("/departments/<int:did>")
@require(READ)
def department(did: int):
    dept = _get_department(did, READ)
    posts = list(Post.select().where(Post.department == dept.id)
                 .order_by(Post.is_head.desc(), Post.title))
    holders = services.current_holders([p.id for p in posts])
    return render_template("org/department.html", dept=dept, posts=posts, holders=holders,
                           can_manage=has_permission(current_user, MANAGE, dept.region_id))


# -- posts --------------------------------------------------------------------------
@bp.route("/posts")
@require(READ)
def posts():
    query = scoped(Post.select(Post, Department, Region).join(Department).join(Region),
                   Department.region, READ)
    q = _search()
    if q:
        query = query.where(Post.title.contains(q) | Department.name.contains(q))
    query, rid = _region_filter(query, Department.region)
    page_view = _list("org/posts.html", query,
                      {"title": Post.title, "department": Department.name,
                       "risk": Post.risk_level, "region": Region.code}, "department",
                      regions=_regions_in_scope(READ), region_id=rid, holders=_holders_for)
    return page_view


def _holders_for(page) -> dict:
    return services.current_holders([p.id for p in page.items])


@bp.route("/posts/new", methods=["GET", "POST"])
@require(MANAGE)
def post_new():
    form = PostForm()
    ids = sorted(region_ids(current_user, MANAGE))
    depts = (Department.select(Department, Region).join(Region)
             .where(Department.region.in_(ids)).order_by(Region.code, Department.code))
    form.department_id.choices = [SelectChoice(d.id, f"{d.region.name} / {d.name}")
                                  for d in depts]
    if request.method == "GET" and request.args.get("department"):
        form.department_id.data = parse_id(request.args.get("department"), "department")
    error = None
    if form.validate_on_submit():
        try:
            post = services.create_post(current_user, form.data)
        except OrgError as exc:
            error = _apply_error(form, exc)
        else:
            flash(_("Post created."), "success")
            return redirect(url_for("org.department", did=post.department_id), 303)
    status = 422 if request.method == "POST" else 200
    return _form_page(form, _("New post"), request.full_path.rstrip("?"),
                      url_for("org.posts"), error, status)


# -- people -------------------------------------------------------------------------
def _people_query():
    query = scoped(Person.select(Person, Region).join(Region), Person.region, READ)
    q = _search()
    if q:
        query = query.where(Person.name.contains(q) | Person.phone.contains(q)
                            | Person.email.contains(q))
    return _region_filter(query, Person.region)


@bp.route("/people")
@require(READ)
def people():
    query, rid = _people_query()
    return _list("org/people.html", query,
                 {"name": Person.name, "region": Region.code, "phone": Person.phone,
                  "email": Person.email, "created": Person.created_at}, "name",
                 regions=_regions_in_scope(READ), region_id=rid)


@bp.route("/people/export.csv")
@require(READ)
def people_export():
    query, _rid = _people_query()
    rows = importer.export_people(current_user, query.order_by(Region.code, Person.name))
    stamp = today().strftime("%Y%m%d")
    return export_response(f"people-{stamp}.csv", importer.COLUMNS["people"], rows)


@bp.route("/people/new", methods=["GET", "POST"])
@require(MANAGE)
def person_new():
    form = PersonForm()
    form.region_id.choices = _region_choices()
    error = None
    if form.validate_on_submit():
        try:
            person = services.create_person(current_user, form.data)
        except OrgError as exc:
            error = _apply_error(form, exc)
        else:
            flash(_("Person created."), "success")
            return redirect(url_for("org.person", pid=person.id), 303)
    status = 422 if request.method == "POST" else 200
    return _form_page(form, _("New person"), request.path, url_for("org.people"), error,
                      status)


def _holding_form(person: Person, form: HoldingForm | None = None) -> HoldingForm:
    form = form or HoldingForm()
    ids = sorted(region_ids(current_user, MANAGE))
    posts = (Post.select(Post, Department, Region).join(Department).join(Region)
             .where(Department.region.in_(ids)).order_by(Region.code, Department.code,
                                                         Post.title))
    form.post_id.choices = [SelectChoice(p.id, f"{p.department.region.name} / "
                                         f"{p.department.name} / {p.title}")
                            for p in posts]
    return form


def _person_page(person: Person, form=None, error=None, status=200):
    holdings = list(PostHolding.select(PostHolding, Post, Department)
                    .join(Post).join(Department)
                    .where(PostHolding.person == person.id)
                    .order_by(PostHolding.end.is_null(False), PostHolding.start.desc()))
    can_manage = has_permission(current_user, MANAGE, person.region_id)
    return render_template("org/person.html", person=person, holdings=holdings,
                           form=_holding_form(person, form) if can_manage else None,
                           end_form=EndHoldingForm(formdata=None, data={
                               "end": today()}),
                           can_manage=can_manage, error=error, today=today(),
                           visible=region_ids(current_user, READ)), status


@bp.route("/people/<int:pid>")
@require(READ)
def person(pid: int):
    return _person_page(_get_person(pid, READ))


@bp.route("/people/<int:pid>/holdings", methods=["POST"])
@require(MANAGE)
def holding_new(pid: int):
    person = _get_person(pid, MANAGE)
    form = _holding_form(person)
    error = None
    if form.validate_on_submit():
        try:
            services.assign_post(current_user, person, form.data)
        except OrgError as exc:
            error = _apply_error(form, exc)
        else:
            flash(_("Post assigned."), "success")
            return redirect(url_for("org.person", pid=pid), 303)
    return _person_page(person, form, error, 422)


@bp.route("/holdings/<int:hid>/end", methods=["POST"])
@require(MANAGE)
def holding_end(hid: int):
    holding = get_scoped(PostHolding.select(PostHolding, Person).join(Person)
                         .where(PostHolding.id == hid), Person.region, MANAGE)
    form = EndHoldingForm()
    if not form.validate_on_submit():
        flash(_("end: expected a date YYYY-MM-DD."), "error")
        return _person_page(holding.person, status=422)
    try:
        services.end_holding(current_user, holding, form.end.data)
    except OrgError as exc:
        flash(str(exc), "error")
        return _person_page(holding.person, status=422)
    flash(_("Post holding ended."), "success")
    return redirect(url_for("org.person", pid=holding.person_id), 303)


# -- import -------------------------------------------------------------------------
def _instance() -> str:
    return current_app.instance_path


def _template_columns() -> dict:
    return {k: importer.COLUMNS[k] for k in importer.KINDS}


@bp.route("/import", methods=["GET", "POST"])
@require(MANAGE)
def import_upload():
    form = ImportForm()
    error = None
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read()
        try:
            importer.read_rows(data, importer.file_type(upload.filename, data))
        except importer.ImportFileError as exc:
            form.file.errors = [str(exc)]
        else:
            token = importer.store_upload(_instance(), current_user.id, form.kind.data,
                                          upload.filename or "", data)
            return redirect(url_for("org.import_preview", token=token), 303)
    status = 422 if request.method == "POST" else 200
    return render_template("org/import.html", form=form, error=error,
                           columns=_template_columns()), status


def _stored(token: str) -> tuple[dict, bytes]:
    found = importer.load_upload(_instance(), token, current_user.id)
    if found is None:
        abort(404)
    return found


@bp.route("/import/<token>")
@require(MANAGE)
def import_preview(token: str):
    meta, data = _stored(token)
    return _preview_page(token, meta, data)


def _preview_page(token: str, meta: dict, data: bytes, error: str | None = None,
                  status: int = 200):
    result = file_error = None
    try:
        result = importer.preview(current_user, meta["kind"], data, meta["filename"])
    except importer.ImportFileError as exc:
        file_error = str(exc)
        status = 422
    return render_template("org/import_preview.html", token=token, meta=meta, result=result,
                           file_error=file_error, error=error), status


@bp.route("/import/<token>/apply", methods=["POST"])
@require(MANAGE)
def import_apply(token: str):
    meta, data = _stored(token)
    try:
        counts = importer.apply(current_user, meta["kind"], data, meta["filename"])
    except importer.ImportRejected as exc:
        return _preview_page(token, meta, data, str(exc), 422)
    except importer.ImportFileError as exc:
        return _preview_page(token, meta, data, str(exc), 422)
    importer.discard_upload(_instance(), token)
    flash(_("Imported: %(d)d departments created, %(p)d posts created, %(n)d people "
            "created, %(h)d post holdings created.", d=counts["departments_created"],
            p=counts["posts_created"], n=counts["people_created"],
            h=counts["holdings_created"]), "success")
    return redirect(url_for("org.people" if meta["kind"] == "people"
                            else "org.departments"), 303)


@bp.route("/import/<token>/discard", methods=["POST"])
@require(MANAGE)
def import_discard(token: str):
    _stored(token)
    importer.discard_upload(_instance(), token)
    flash(_("The uploaded file was discarded."), "info")
    return redirect(url_for("org.import_upload"), 303)


@bp.app_template_filter("org_risk")
def _risk_label(level: int) -> str:
    return {1: _("low"), 2: _("medium"), 3: _("high")}.get(level, str(level))

