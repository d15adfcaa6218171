"""Public procurement pages (no login): notices of the 13 types with search, each
process's page (opening record, result, contract), OCDS downloads and supplier
registration."""
from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from jinja2_fragments.flask import render_block
from peewee import JOIN

from core.api import FieldError, Region, _, paginate, parse_id
from plugins.procurement import ocds, suppliers
from plugins.procurement.forms import RegisterForm
from plugins.procurement.methods import ANNOUNCEMENT_KINDS
from plugins.procurement.models import (
    Announcement,
    Auction,
    Award,
    Bid,
    Contract,
    Project,
    Supplier,
)

bp = Blueprint("public_procurement", __name__, url_prefix="/public/procurement",
               template_folder="templates")
PUBLIC = ("tendering", "opening", "evaluation", "auction", "awarded", "contracted",
          "complete", "cancelled", "unsuccessful")
# Notices public whatever the project's state: published before the bidding, or by the
# supervisor (an inspection may concern a project still in planning).
ALWAYS_PUBLIC = ("intention", "single_source", "inspection")  # and those of no project


@bp.get("/")
def notices():
    """Notices, newest first, searchable by title or project number, by type and region."""
    query = (Announcement.select(Announcement, Project).join(Project, JOIN.LEFT_OUTER)
             .where(Project.status.in_(PUBLIC) | Announcement.kind.in_(ALWAYS_PUBLIC)
                    | Announcement.project.is_null()))
    kind = request.args.get("kind", "")
    if kind in ANNOUNCEMENT_KINDS:
        query = query.where(Announcement.kind == kind)
    region = parse_id(request.args.get("region"), "region", default=None)
    if region is not None:
        query = query.where(Announcement.region == region)
    q = request.args.get("q", "").strip()[:100]
    if q:
        query = query.where(Announcement.title.contains(q) | Project.number.contains(q))
    page = paginate(query, {"published": Announcement.published_at}, "published",
                    target="pc-notices")
    ctx = {"page": page, "kind": kind, "q": q, "region": region, "kinds": ANNOUNCEMENT_KINDS,
           "regions": list(Region.select().order_by(Region.sort, Region.id))}
    if request.headers.get("HX-Request") == "true":
        return render_block("procurement/public_notices.html", "results", **ctx)
    return render_template("procurement/public_notices.html", **ctx)


@bp.get("/notices/<int:notice_id>")
def notice(notice_id: int):
    row = Announcement.get_or_none(Announcement.id == notice_id)
    if row is None or (row.project_id and row.project.status == "planning"
                       and row.kind not in ALWAYS_PUBLIC):
        abort(404)
    return render_template("procurement/public_notice.html", notice=row)


def _public_project(project_id: int) -> Project:
    row = Project.get_or_none(Project.id == project_id)
    if row is None or not row.releases.exists():
        abort(404)
    return row


@bp.get("/projects/<int:project_id>")
def project(project_id: int):
    """A process as the public sees it: stages, the opening record (bidders and prices,
    once opened), the award, the contract."""
    row = _public_project(project_id)
    opened = row.opening_state == "opened" or row.status in ("awarded", "contracted",
                                                             "complete") \
        and row.method == "auction"
    bids = list(Bid.select(Bid, Supplier).join(Supplier).where(
        (Bid.project == row.id) & Bid.status.in_(("valid", "disqualified", "unopened")))
        .order_by(Bid.price)) if opened else []
    return render_template("procurement/public_project.html", project=row, bids=bids,
                           notices=list(row.announcements.order_by(Announcement.published_at)),
                           awards=list(Award.select(Award, Supplier).join(Supplier).where(
                               Award.project == row.id)),
                           contract=Contract.get_or_none(Contract.project == row.id),
                           auction=Auction.get_or_none(Auction.project == row.id))


def _uri(endpoint: str, **values) -> str:
    return url_for(endpoint, _external=True, **values)


@bp.get("/ocds/<int:project_id>/releases.json")
def releases(project_id: int):
    row = _public_project(project_id)
    return jsonify(ocds.release_package(row, _uri("public_procurement.releases",
                                                  project_id=project_id)))


@bp.get("/ocds/<int:project_id>/record.json")
def record(project_id: int):
    row = _public_project(project_id)
    return jsonify(ocds.record_package(row, _uri("public_procurement.record",
                                                 project_id=project_id)))


@bp.get("/ocds/<kind>.json")
def bulk(kind: str):
    """Every process as one release package (``releases``) or record package
    (``records``), streamed."""
    if kind not in ("releases", "records"):
        abort(404)
    ids = Project.select(Project.id).where(Project.release_seq > 0)
    uri = _uri("public_procurement.bulk", kind=kind)
    resp = Response(stream_with_context(ocds.stream_bulk(uri, kind[:-1], ids)),
                    mimetype="application/json")
    resp.headers["Content-Disposition"] = f"attachment; filename=ocds-{kind}.json"
    return resp


@bp.route("/suppliers/register", methods=["GET", "POST"])
def register():
    form = RegisterForm()
    status = 200
    if request.method == "POST":
        if form.validate():
            try:
                suppliers.register(name=form.name.data, uscc=form.uscc.data,
                                   contact=form.contact.data, phone=form.phone.data,
                                   email=form.email.data, address=form.address.data,
                                   password=form.password.data)
            except FieldError as exc:
                form.apply_error(exc)
                status = 422
            else:
                flash(_("Registered. Log in with your credit code and password."), "success")
                return redirect(url_for("auth.login"), 303)
        else:
            status = 422
    return render_template("procurement/public_register.html", form=form), status
