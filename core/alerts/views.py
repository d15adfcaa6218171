"""Alert pages: the inbox, the header badge, actions in place, the supervisors' board,
delivery problems (投递异常) and their retry."""
from __future__ import annotations

import datetime as dt

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from peewee import fn
from wtforms.fields.choices import SelectChoice

from core.alerts import board as boardmod
from core.alerts import deliveries, service
from core.alerts.forms import (
    BoardForm,
    DeliveryFilterForm,
    QueryForm,
    ResolveForm,
    RetrySelectedForm,
    preferences_form,
)
from core.alerts.models import Alert, InboxItem, Notification
from core.auth.models import User
from core.auth.scope import (
    get_scoped,
    has_permission,
    region_ids,
    regions_in_scope,
    require,
    scoped,
)
from core.db import utcnow
from core.errors import FieldError
from core.i18n import _, ngettext
from core.org.models import Region
from core.web.paging import paginate

bp = Blueprint("alerts", __name__, url_prefix="/alerts")

SORTS = {"age": Alert.id * -1, "level": Alert.level, "kind": Alert.kind,
         "state": Alert.state, "region": Region.code}
DELIVERY_SORTS = {"recent": Notification.id * -1, "last": Notification.last_attempt_at,
                  "attempts": Notification.attempts, "channel": Notification.channel,
                  "recipient": User.username, "kind": Alert.kind, "region": Region.code}


@bp.app_context_processor
def _badge():
    def alerts_unread() -> int:
        return service.unread_count(current_user) if current_user.is_authenticated else 0
    return {"alerts_unread": alerts_unread, "alert_title": service.title,
            "alert_kind": service.kind_label, "alert_link": service.link,
            "alert_channel": service.channel_label}


def _bad(form) -> None:
    field, errors = next(iter(form.errors.items()))
    abort(400, description=f"{field}: {errors[0]}")


def _filtered(query, form):
    if form.level.data:
        query = query.where(Alert.level == form.level.data)
    if form.state.data == "unresolved":
        query = query.where(Alert.state != "resolved")
    elif form.state.data:
        query = query.where(Alert.state == form.state.data)
    return query


@bp.route("/")
@login_required
def inbox():
    form = QueryForm(request.args)
    if not form.validate():
        _bad(form)
    query = (Alert.select(Alert, Region, InboxItem.read_at.is_null().alias("unread"))
             .join(InboxItem, on=(InboxItem.alert == Alert.id)).switch(Alert).join(Region)
             .where(InboxItem.user == current_user.id))
    page = paginate(_filtered(query, form), SORTS, "age", target="alert-list")
    on_board = None
    if has_permission(current_user, "core.alerts.board"):
        on_board = scoped(Alert.select(), Alert.region, "core.alerts.board") \
            .where(Alert.state != "resolved").count()
    return render_template("alerts/inbox.html", page=page, form=form,
                           unread=service.unread_count(current_user),
                           posts=service.reach(current_user), on_board=on_board)


@bp.route("/badge")
@login_required
def badge():
    return render_template("alerts/_badge.html")


@bp.route("/read", methods=["POST"])
@login_required
def read_all():
    service.mark_read(current_user)
    flash(_("Every alert in your inbox is marked read."), "success")
    return redirect(url_for("alerts.inbox"), 303)


def _get_alert(alert_id: int) -> Alert:
    """The alert, if the user received it or supervises its region; else 404."""
    alert = Alert.select(Alert, Region).join(Region).where(Alert.id == alert_id).first()
    if alert is None or not service.can_act(current_user, alert):
        abort(404)
    return alert


@bp.route("/<int:alert_id>")
@login_required
def detail(alert_id):
    alert = _get_alert(alert_id)
    if (InboxItem.select().where((InboxItem.alert == alert.id) & (InboxItem.user == current_user.id)
                                 & InboxItem.read_at.is_null(True)).exists()):
        service.mark_read(current_user, [alert.id])
    notes = list(Notification.select().where(Notification.alert == alert.id)
                 .order_by(Notification.escalation_level, Notification.id))
    return render_template("alerts/detail.html", alert=alert, notifications=notes)


def _card(alert: Alert, form=None, error=None, status=200):
    alert = Alert.select(Alert, Region).join(Region).where(Alert.id == alert.id).get()
    template = "alerts/_card_inner.html" if status >= 400 else "alerts/_card.html"
    return render_template(template, alert=alert, error=error,
                           note_value=form.note.data if form is not None else ""), status


@bp.route("/<int:alert_id>/acknowledge", methods=["POST"])
@login_required
def acknowledge(alert_id):
    alert = _get_alert(alert_id)
    try:
        service.acknowledge(alert, current_user)
    except service.AlertError as exc:
        return _answer(alert, str(exc), 422)
    return _answer(alert, None, 200, _("Alert acknowledged."))


@bp.route("/<int:alert_id>/resolve", methods=["POST"])
@login_required
def resolve(alert_id):
    alert = _get_alert(alert_id)
    form = ResolveForm()
    if not form.validate():
        return _answer(alert, f"note: {form.note.errors[0]}", 422, form=form)
    try:
        service.resolve(alert, current_user, form.note.data)
    except service.AlertError as exc:
        return _answer(alert, str(exc), 422, form=form)
    return _answer(alert, None, 200, _("Alert resolved."))


def _answer(alert, error, status, message=None, form=None):
    if request.htmx:
        body, code = _card(alert, form=form, error=error, status=status)
        headers = {"HX-Trigger": "ql-alerts-changed"} if code < 400 else {}
        return body, code, headers
    if error:
        abort(status, description=error)
    flash(message, "success")
    return redirect(url_for("alerts.detail", alert_id=alert.id), 303)


@bp.route("/board")
@require("core.alerts.board")
def board():
    """Every alert in the user's regions, one row per subject (事由) with its recipients."""
    regions = regions_in_scope(current_user, "core.alerts.board")
    form = BoardForm(request.args)
    form.region.choices = [SelectChoice("", _("All regions"))] + [
        SelectChoice(str(r.id), f"{r.name} {r.code}") for r in regions]
    known = service.kinds()
    form.kind.choices = [SelectChoice("", _("All kinds"))] + sorted(
        (SelectChoice(code, str(spec["label"])) for code, spec in known.items()),
        key=lambda c: c.label)
    if not form.validate():
        _bad(form)
    query = scoped(Alert.select(), Alert.region, "core.alerts.board")
    query = _filtered(query, form)
    if form.kind.data:
        query = query.where(Alert.kind == form.kind.data)
    if form.region.data:
        query = query.where(Alert.region == int(form.region.data))
    if form.older_than.data is not None:
        query = query.where(Alert.created_at <= utcnow() - dt.timedelta(days=form.older_than.data))
    start = boardmod.since(form.period.data)
    if start is not None:
        query = query.where(Alert.created_at >= start)
    page = paginate(boardmod.grouped(query), boardmod.SORTS, "age", target="board-list",
                    tiebreak=[fn.MIN(Alert.id).asc()])
    page.items = boardmod.subjects(page.items, query)
    failed = None
    if has_permission(current_user, deliveries.VIEW):
        failed = deliveries.counts(scoped(Notification.select().join(Alert), Alert.region,
                                          deliveries.VIEW))["failed"]
    return render_template("alerts/board.html", page=page, form=form,
                           by_level=boardmod.counts(query), kinds=known, now=utcnow(),
                           failed=failed, period=boardmod.PERIODS[form.period.data])


@bp.route("/preferences", methods=["GET", "POST"])
@login_required
def preferences():
    chans = service.channels()
    settings = current_app.config["QL_SETTINGS"]
    form = preferences_form(chans)
    if form.validate_on_submit():
        wanted = {code: bool(form[code].data) for code in chans}
        try:
            service.set_preferences(current_user, wanted)
        except service.AlertError as exc:
            abort(400, description=str(exc))
        flash(_("Saved."), "success")
        return redirect(url_for("alerts.preferences"), 303)
    prefs = service.preferences(current_user)
    rows = [{"code": c.code, "label": c.label, "on": prefs.get(c.code, False),
             "available": getattr(c, "available", lambda u, s: True)(current_user, settings)}
            for c in chans.values()]
    return render_template("alerts/preferences.html", rows=rows)


# -- delivery problems (投递异常) --------------------------------------------------------
def _delivery_filter() -> DeliveryFilterForm:
    """The page's filters from the query string (the actions carry them too); 400 naming
    the field when one is bad."""
    regions = regions_in_scope(current_user, deliveries.VIEW)
    form = DeliveryFilterForm(request.args)
    form.channel.choices = [SelectChoice("", _("All channels"))] + [
        SelectChoice(code, str(ch.label)) for code, ch in sorted(service.channels().items())]
    form.region.choices = [SelectChoice("", _("All regions"))] + [
        SelectChoice(str(r.id), f"{r.name} {r.code}") for r in regions]
    if not form.validate():
        _bad(form)
    return form


def _region_filter(form) -> int | None:
    return int(form.region.data) if form.region.data else None


def _delivery_list(form, message=None, error=None):
    """The context of the list: the scoped, filtered page and what the user may do."""
    query = scoped(deliveries.problems(form.state.data, channel=form.channel.data,
                                       region_id=_region_filter(form)),
                   Alert.region, deliveries.VIEW)
    page = paginate(query, DELIVERY_SORTS, "recent", target="delivery-list",
                    endpoint="alerts.deliveries_page")
    retry_scope = region_ids(current_user, deliveries.RETRY)
    matching_failed = 0
    if retry_scope and form.state.data != "retrying":
        matching_failed = (scoped(deliveries.problems("failed", channel=form.channel.data,
                                                      region_id=_region_filter(form)),
                                  Alert.region, deliveries.RETRY).count())
    kinds = service.kinds()
    args = {**page.args, "sort": page.sort, "order": page.order, "page": page.number}
    return {"page": page, "form": form, "message": message, "error": error,
            "retry_scope": retry_scope, "matching_failed": matching_failed,
            "kind_labels": {code: spec["label"] for code, spec in kinds.items()},
            "channel_labels": {code: ch.label for code, ch in service.channels().items()},
            "list_args": {k: v for k, v in args.items() if v not in (None, "")},
            "board": has_permission(current_user, "core.alerts.board")}


@bp.route("/deliveries")
@require(deliveries.VIEW)
def deliveries_page():
    form = _delivery_filter()
    ctx = _delivery_list(form)
    if request.htmx.target == "delivery-list" and not request.htmx.history_restore_request:
        return render_template("alerts/_deliveries.html", **ctx)
    scope = scoped(Notification.select().join(Alert), Alert.region, deliveries.VIEW)
    return render_template("alerts/deliveries.html", counts=deliveries.counts(scope), **ctx)


def _retried(result: deliveries.RetryResult) -> str:
    text = ngettext("%(num)d notification is queued for delivery again.",
                    "%(num)d notifications are queued for delivery again.", result.count)
    if result.skipped:
        text += " " + _("Skipped: %(reasons)s.", reasons=result.skipped_text())
    return text


def _after_retry(action):
    """Run a retry and answer: the list again (htmx) or a redirect to it; a refusal is
    422 naming the reasons, and nothing changed."""
    form = _delivery_filter()
    try:
        message = _retried(action(form))
    except service.AlertError as exc:
        if request.htmx:
            ctx = _delivery_list(form, error=str(exc))
            return render_template("alerts/_deliveries_inner.html", **ctx), 422
        abort(422, description=str(exc))
    if request.htmx:
        return render_template("alerts/_deliveries.html", **_delivery_list(form, message))
    flash(message, "success")
    return redirect(url_for("alerts.deliveries_page", **request.args), 303)


@bp.route("/deliveries/<int:notification_id>/retry", methods=["POST"])
@require(deliveries.RETRY)
def retry_one(notification_id):
    get_scoped(Notification.select(Notification.id).join(Alert)
               .where(Notification.id == notification_id), Alert.region, deliveries.RETRY)
    return _after_retry(lambda form: deliveries.retry(
        [notification_id], user=current_user,
        within=region_ids(current_user, deliveries.RETRY)))


@bp.route("/deliveries/retry", methods=["POST"])
@require(deliveries.RETRY)
def retry_selected():
    picked = RetrySelectedForm()
    if not picked.validate():
        bad = next((v for v in picked.id.raw_data
                    if not (v.isascii() and v.isdigit())), "")
        raise FieldError("id", _("id: not a notification number: %(value)s.",
                                 value=bad[:40]), status=400)
    return _after_retry(lambda form: deliveries.retry(
        picked.id.data, user=current_user,
        within=region_ids(current_user, deliveries.RETRY)))


@bp.route("/deliveries/retry-failed", methods=["POST"])
@require(deliveries.RETRY)
def retry_matching():
    return _after_retry(lambda form: deliveries.retry_failed(
        channel=form.channel.data, region_id=_region_filter(form), user=current_user,
        within=region_ids(current_user, deliveries.RETRY)))
