"""Pages and API of triggered reminders: the reminder log (who, what, why, when, channel,
delivered), project sites, the phone check-in page (browser geolocation, vendored
script, no map tiles) and the check-in API for attendance and GPS systems
(``POST /api/risk/checkins``, an API token of scope ``risk.checkin``)."""
from __future__ import annotations

from flask import Blueprint, flash, jsonify, make_response, render_template, request
from flask_login import current_user
from peewee import fn

from core.api import (
    Department,
    FieldError,
    Person,
    Post,
    User,
    _,
    api_token_required,
    current_api_token,
    descendants,
    has_permission,
    notifications_of,
    paginate,
    parse_datetime,
    parse_json,
    region_ids,
    require,
    scoped,
)
from plugins.risk import reminders
from plugins.risk.models import Reminder, Site, SitePost
from plugins.risk.web import back, refusals
from plugins.risk.wording import REMINDER_KIND_LABELS

bp = Blueprint("risk_reminders", __name__, url_prefix="/risk/reminders",
               template_folder="templates", static_folder="static",
               static_url_path="/static")
api = Blueprint("risk_api", __name__, url_prefix="/api/risk")
VIEW, SITES, SELF = "risk.view", reminders.SITES_PERM, "risk.self"
CHECKIN_SCOPE = "risk.checkin"


@bp.get("/")
@require(VIEW)
def log():
    query = scoped(Reminder.select(), Reminder.region, VIEW)
    kind = request.args.get("kind", "")
    if kind in REMINDER_KIND_LABELS:
        query = query.where(Reminder.kind == kind)
    counts = dict(scoped(Reminder.select(Reminder.kind, fn.COUNT(Reminder.id)),
                         Reminder.region, VIEW).group_by(Reminder.kind).tuples())
    page = paginate(query, {"sent": Reminder.created_at}, "sent", target="risk-reminders")
    page.order = request.args.get("order", "desc")
    people = dict(Person.select(Person.id, Person.name).where(
        Person.id.in_([r.person_id for r in page.items if r.person_id])).tuples()) \
        if page.items else {}
    return render_template("risk/reminders.html", page=page, kind=kind, counts=counts,
                           labels=REMINDER_KIND_LABELS, people=people,
                           may_sites=has_permission(current_user, SITES),
                           deliveries=notifications_of([r.alert_id for r in page.items
                                                        if r.alert_id]))


@bp.route("/sites", methods=["GET", "POST"])
@require(SITES)
@refusals
def sites():
    if request.method == "POST":
        data = request.form.to_dict()
        data["posts"] = request.form.getlist("posts")
        reminders.save_site(current_user, data)
        flash(_("Site saved."), "success")
        return back("risk_reminders.sites")
    ids = sorted(region_ids(current_user, SITES))
    rows = list(scoped(Site.select(), Site.region, SITES).order_by(Site.region, Site.code))
    posts_of = {}
    for site_id, title in (SitePost.select(SitePost.site, Post.title).join(Post)
                           .where(SitePost.site.in_([s.id for s in rows]) if rows else False)
                           .tuples()):
        posts_of.setdefault(site_id, []).append(title)
    return render_template(
        "risk/sites.html", sites=rows, posts_of=posts_of,
        departments=list(Department.select().where(Department.region.in_(ids))
                         .order_by(Department.name)),
        posts=list(Post.select(Post, Department).join(Department)
                   .where(Department.region.in_(ids)).order_by(Department.name, Post.title)))


@bp.route("/checkin", methods=["GET", "POST"])
@require(SELF)
def checkin():
    """The phone page: the browser's position is posted here (no map is shown)."""
    if request.method == "POST":
        if not current_user.person_id:
            raise FieldError("person", _("Your account is not linked to a person."))
        row = reminders.check_in(Person.get_by_id(current_user.person_id),
                                 request.form.get("latitude"), request.form.get("longitude"),
                                 accuracy_m=request.form.get("accuracy_m") or None,
                                 source="phone")
        site = Site.get_by_id(row.site_id) if row.site_id else None
        return _may_locate(render_template("risk/checkin.html", result=row, site=site))
    return _may_locate(render_template("risk/checkin.html", result=None, site=None))


def _may_locate(html: str):
    """The check-in page, the one page allowed the browser's position: the core's
    Permissions-Policy (``geolocation=()`` everywhere) would make the browser refuse it
    before asking the user."""
    resp = make_response(html)
    resp.headers["Permissions-Policy"] = "geolocation=(self), camera=(), microphone=()"
    return resp


@api.post("/checkins")
@api_token_required(CHECKIN_SCOPE)
def api_checkin():
    """One check-in of an attendance or GPS system: 201 with the outcome, 422 naming the
    field, 401 without a token of scope ``risk.checkin``."""
    token = current_api_token()
    body = parse_json(request.get_data(cache=False), "body")
    if not isinstance(body, dict):
        raise FieldError("body", _("Expected a JSON object."))
    user = User.get_or_none(User.username == str(body.get("username") or "")) \
        if body.get("username") else None
    person = Person.get_or_none(Person.id == user.person_id) if user and user.person_id \
        else None
    if person is None:
        raise FieldError("username", _("No person with this account."))
    scope = descendants(token.region_id) if token.region_id else None
    if scope is not None and person.region_id not in scope:
        raise FieldError("username", _("No person with this account."))
    at = None
    if body.get("at"):
        at = parse_datetime(body["at"], "at")
    row = reminders.check_in(person, body.get("latitude"), body.get("longitude"),
                             accuracy_m=body.get("accuracy_m"), at=at,
                             source=f"api:{token.subject}"[:64],
                             external_id=body.get("external_id"), region_ids=scope)
    return jsonify(id=row.id, inside=row.inside, site_id=row.site_id,
                   distance_m=row.distance_m, reminder_id=row.reminder_id), 201

