"""Pages of post warnings (岗位预警): the board (counts by level, the list with filters),
a warning's page with its signals and alert delivery, the manual raise form, and the
handling steps (acknowledge, handle with a note, escalate) and the transfer of a warning
as a problem lead to the case supervision platform (移送问题线索)."""
from __future__ import annotations

from flask import Blueprint, flash, render_template, request
from flask_login import current_user

from core.api import (
    Alert,
    Department,
    Person,
    Post,
    _,
    has_permission,
    notifications_of,
    paginate,
    parse_id,
    region_ids,
    regions_in_scope,
    require,
    scoped,
)
from plugins.risk import config
from plugins.risk import warnings as warn
from plugins.risk.models import RiskWarning, Signal
from plugins.risk.web import back, in_scope, refusals
from plugins.risk.wording import (
    SIGNAL_SOURCE_LABELS,
    TARGET_LABELS,
    WARNING_SOURCE_LABELS,
    WARNING_STATE_BADGES,
    WARNING_STATE_LABELS,
)

bp = Blueprint("risk_warnings", __name__, url_prefix="/risk/warnings",
               template_folder="templates")
VIEW, MANAGE = "risk.view", "risk.warning.manage"


@bp.context_processor
def _labels():
    return {"source_labels": WARNING_SOURCE_LABELS, "state_labels": WARNING_STATE_LABELS,
            "state_badges": WARNING_STATE_BADGES, "target_labels": TARGET_LABELS,
            "levels": {lv["code"]: lv for lv in config.levels()},
            "level_label": lambda code: config.label(config.level(code)["label"])
            if code in config.level_codes() else code}


@bp.get("/")
@require(VIEW)
def board():
    query = scoped(RiskWarning.select(), RiskWarning.region, VIEW)
    counts = warn.counts_by_level(scoped(RiskWarning.select(), RiskWarning.region, VIEW))
    state = request.args.get("state", "active")
    if state == "active":
        query = query.where(RiskWarning.state != "handled")
    elif state in WARNING_STATE_LABELS:
        query = query.where(RiskWarning.state == state)
    level = request.args.get("level", "")
    if level in config.level_codes():
        query = query.where(RiskWarning.level == level)
    source = request.args.get("source", "")
    if source in WARNING_SOURCE_LABELS:
        query = query.where(RiskWarning.source == source)
    region_id = parse_id(request.args.get("region"), "region", default=None)
    region = str(region_id) if region_id else ""
    if region_id in region_ids(current_user, VIEW):
        query = query.where(RiskWarning.region == region_id)
    page = paginate(query, {"raised": RiskWarning.raised_at, "level": RiskWarning.level,
                            "state": RiskWarning.state}, "raised", target="risk-warnings")
    return render_template("risk/warnings.html", page=page, counts=counts, state=state,
                           level=level, source=source, region=region,
                           regions=regions_in_scope(current_user, VIEW),
                           names=warn.targets_of(page.items),
                           may_manage=has_permission(current_user, MANAGE))


@bp.get("/<int:warning_id>")
@require(VIEW)
def detail(warning_id: int):
    w = in_scope(RiskWarning.get_or_none(RiskWarning.id == warning_id), VIEW)
    alerts = list(Alert.select().where(Alert.ref == f"risk.warning:{w.id}").order_by(Alert.id))
    deliveries = notifications_of([a.id for a in alerts])
    signals = list(Signal.select().where(Signal.warning == w.id).order_by(Signal.occurred_at))
    may_manage = has_permission(current_user, MANAGE, w.region_id)
    transfer = warn.transfer_of(w)
    offer_transfer = (may_manage and transfer is None and w.target in warn.LEAD_TARGETS
                      and warn.cases_enabled(w))
    return render_template("risk/warning.html", w=w, names=warn.targets_of([w]),
                           alerts=alerts, deliveries=deliveries, signals=signals,
                           signal_labels=SIGNAL_SOURCE_LABELS, may_manage=may_manage,
                           transfer=transfer, offer_transfer=offer_transfer,
                           top=w.level == config.level_codes()[-1])


@bp.route("/new", methods=["GET", "POST"])
@require(MANAGE)
@refusals
def new():
    ids = sorted(region_ids(current_user, MANAGE))
    if request.method == "POST":
        w = warn.manual(current_user, request.form.to_dict())
        flash(_("Warning raised."), "success")
        return back("risk_warnings.detail", warning_id=w.id)
    departments = list(Department.select().where(Department.region.in_(ids))
                       .order_by(Department.region, Department.name))
    posts = list(Post.select(Post, Department).join(Department)
                 .where(Department.region.in_(ids)).order_by(Department.name, Post.title))
    people = list(Person.select().where(Person.region.in_(ids)).order_by(Person.name))
    return render_template("risk/warning_new.html", departments=departments, posts=posts,
                           people=people, default_level=config.rule_level("manual"))


def _managed(warning_id: int) -> RiskWarning:
    return in_scope(RiskWarning.get_or_none(RiskWarning.id == warning_id), MANAGE)


@bp.post("/<int:warning_id>/acknowledge")
@require(MANAGE)
@refusals
def acknowledge(warning_id: int):
    warn.acknowledge(current_user, _managed(warning_id))
    flash(_("Warning acknowledged."), "success")
    return back("risk_warnings.detail", warning_id=warning_id)


@bp.post("/<int:warning_id>/handle")
@require(MANAGE)
@refusals
def handle(warning_id: int):
    warn.handle(current_user, _managed(warning_id), request.form.get("note", ""))
    flash(_("Warning handled."), "success")
    return back("risk_warnings.detail", warning_id=warning_id)


@bp.post("/<int:warning_id>/escalate")
@require(MANAGE)
@refusals
def escalate(warning_id: int):
    warn.escalate(current_user, _managed(warning_id), request.form.get("note", ""))
    flash(_("Warning escalated."), "success")
    return back("risk_warnings.detail", warning_id=warning_id)


@bp.post("/<int:warning_id>/transfer")
@require(MANAGE)
@refusals
def transfer(warning_id: int):
    """Transfer the warning to the case supervision platform as a problem lead, with the
    supervisor's reason (a missing reason answers 422 naming it, nothing written)."""
    warn.transfer_as_lead(current_user, _managed(warning_id), request.form.get("reason", ""))
    flash(_("Warning transferred to the case supervision platform as a problem lead."),
          "success")
    return back("risk_warnings.detail", warning_id=warning_id)


@bp.get("/levels.css")
@require(VIEW)
def levels_css():
    """The colours of the configured warning levels as classes (the policy allows no
    inline styles): ``.risk-level-<code>``."""
    from flask import Response
    css = "".join(f".risk-level-{lv['code']}{{background:{lv['colour']};color:#fff}}\n"
                  for lv in config.levels())
    css += (".risk-counters{display:flex;gap:1.5rem;list-style:none;padding:0}"
            ".risk-count{font-size:1.6rem;margin-left:.4rem}"
            ".risk-note{white-space:pre-wrap}.risk-actions{display:grid;gap:1rem}"
            ".risk-filter{display:flex;flex-wrap:wrap;gap:.8rem;align-items:end}"
            ".risk-facts{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem}\n")
    resp = Response(css, mimetype="text/css")
    return resp
