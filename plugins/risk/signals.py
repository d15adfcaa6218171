"""Signals of other platforms, received through core events (never an import): an
e-supervision red signal on a case a post handled (``esupervision.signal.raised`` /
``.closed``) and a procurement red flag on a project a post runs
(``procurement.flag.raised``). Each is kept once (``Signal.ref``) and folded into the
post's open signal warning; repeated signals on one post within the configured window
(``config.get("repeat")``: ``threshold`` signals in ``window_days`` days) raise that
warning's level one step per ``threshold`` signals. A signal dismissed on verification
no longer counts."""
from __future__ import annotations

import datetime as dt

from core.api import (
    Department,
    Post,
    PostHolding,
    Region,
    User,
    _,
    db,
    deployment_language,
    enabled_for,
    parse_datetime,
    record,
    today,
    utcnow,
)
from plugins.risk import config
from plugins.risk import warnings as warn
from plugins.risk.models import RiskWarning, Signal

RAISED = "esupervision.signal.raised"
CLOSED = "esupervision.signal.closed"
FLAG = "procurement.flag.raised"


def handle_event(name: str, payload: dict) -> None:
    """The plugin's ``ql_handle_event``: the events it reacts to, others ignored."""
    if name == RAISED:
        esupervision_raised(payload)
    elif name == CLOSED:
        esupervision_closed(payload)
    elif name == FLAG:
        procurement_flag(payload)


def _when(value) -> dt.datetime:
    if not value:
        return utcnow()
    moment = parse_datetime(str(value), "raised_at", require_offset=False)
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment


def _post(post_id) -> Post | None:
    if not isinstance(post_id, int) or isinstance(post_id, bool):
        return None
    return Post.get_or_none(Post.id == post_id)


def _post_of_user(username, department_id: int | None = None) -> Post | None:
    """The post a user's person holds today (in ``department_id`` when given)."""
    if not username:
        return None
    user = User.get_or_none(User.username == str(username))
    if user is None or not user.person_id:
        return None
    day = today()
    query = (Post.select().join(PostHolding)
             .where((PostHolding.person == user.person_id) & (PostHolding.start <= day)
                    & (PostHolding.end.is_null(True) | (PostHolding.end >= day))))
    if department_id:
        query = query.where(Post.department == department_id)
    return query.order_by(Post.id).first()


def esupervision_raised(payload: dict) -> RiskWarning | None:
    """A red signal of e-supervision: warn the post that handled the case."""
    if payload.get("level") != "red":
        return None
    post = _post(payload.get("post_id")) or _post_of_user(payload.get("handler_username"))
    if post is None:
        return None
    case = payload.get("case") or {}
    with deployment_language():
        subject = _("Red signal %(code)s on case %(serial)s", code=payload.get("code", ""),
                    serial=case.get("serial", ""))
    return receive("esupervision", f"esupervision:{payload['signal_id']}", post=post,
                   code=str(payload.get("code", ""))[:40], description=subject,
                   detail=str(payload.get("detail", "")), occurred_at=_when(
                       payload.get("raised_at")))


def esupervision_closed(payload: dict) -> Signal | None:
    """A signal closed (``closed``) or dismissed on verification (``dismissed``: it no
    longer counts as a repeat)."""
    signal = Signal.get_or_none(Signal.ref == f"esupervision:{payload.get('signal_id')}")
    if signal is None:
        return None
    outcome = "dismissed" if payload.get("outcome") == "dismissed" else "closed"
    with db.atomic():
        Signal.update(closed_at=_when(payload.get("closed_at")), outcome=outcome).where(
            Signal.id == signal.id).execute()
        record("risk.signal.close", object_type="risk_signal", object_id=signal.id,
               region_id=signal.region_id, summary=f"{signal.ref} {outcome}")
    return Signal.get_by_id(signal.id)


def procurement_flag(payload: dict) -> RiskWarning | None:
    """A red flag of procurement: warn the post of the officer who runs the project
    (``officer``), else the buying unit (``department_id``)."""
    if payload.get("level") != "red":
        return None
    dept_id = payload.get("department_id")
    dept = Department.get_or_none(Department.id == dept_id) \
        if isinstance(dept_id, int) and not isinstance(dept_id, bool) else None
    post = _post_of_user(payload.get("officer"), dept.id if dept else None)
    if post is None and dept is None:
        return None
    with deployment_language():
        subject = _("Procurement red flag %(code)s on %(project)s",
                    code=payload.get("code", ""),
                    project=payload.get("project_number") or payload.get("subject", ""))
    return receive("procurement", f"procurement:{payload['flag_id']}", post=post,
                   department=dept, code=str(payload.get("code", ""))[:40],
                   description=subject, detail=str(payload.get("detail", "")),
                   occurred_at=_when(payload.get("raised_at")))


def receive(source: str, ref: str, *, post: Post | None = None,
            department: Department | None = None, code: str = "", description: str = "",
            detail: str = "", occurred_at: dt.datetime | None = None) -> RiskWarning | None:
    """Keep a signal once and fold it into its post's (or department's) open warning,
    raising the level when signals repeat within the window. Idempotent per ``ref``."""
    dept = department or (Department.get_by_id(post.department_id) if post else None)
    region = Region.get_by_id(dept.region_id)
    if not enabled_for("risk", region):
        return None
    occurred_at = occurred_at or utcnow()
    with db.atomic():
        inserted = (Signal.insert(source=source, ref=ref[:120], region=region.id,
                                  department=dept.id, post=post.id if post else None,
                                  code=code, description=description[:300],
                                  occurred_at=occurred_at)
                    .on_conflict_ignore().execute())
        signal = Signal.get(Signal.ref == ref[:120])
        if not inserted or signal.warning_id:
            return RiskWarning.get_or_none(RiskWarning.id == signal.warning_id)
        record("risk.signal.receive", object_type="risk_signal", object_id=signal.id,
               region_id=region.id, summary=f"{source} signal {code} ({ref})")
        window = config.get("repeat")
        since = occurred_at - dt.timedelta(days=window["window_days"])
        same = (Signal.post == post.id) if post else (
            (Signal.department == dept.id) & Signal.post.is_null(True))
        count = (Signal.select().where(same & (Signal.occurred_at >= since)
                                       & (Signal.occurred_at <= occurred_at)
                                       & (Signal.outcome != "dismissed")).count())
        wanted = config.higher(config.rule_level("signal"), count // window["threshold"])
        key = f"signal:post:{post.id}" if post else f"signal:department:{dept.id}"
        warning = RiskWarning.get_or_none(RiskWarning.dedupe_key == key)
        if warning is None:
            with deployment_language():
                subject = (_("Signals on post %(post)s: %(what)s", post=post.title,
                             what=description) if post else
                           _("Signals on %(dept)s: %(what)s", dept=dept.name, what=description))
            warning = warn.raise_warning(
                None, source="signal", target="post" if post else "department",
                post=post, department=None if post else dept, subject=subject,
                detail=detail, level=wanted, source_ref=ref, dedupe_key=key)
        else:
            RiskWarning.update(signals=RiskWarning.signals + 1).where(
                RiskWarning.id == warning.id).execute()
            codes = config.level_codes()
            steps = codes.index(wanted) - codes.index(warning.level) \
                if warning.level in codes else 0
            if steps > 0:
                with deployment_language():
                    note = _("%(n)d signals within %(days)d days.", n=count,
                             days=window["window_days"])
                warning = warn.escalate(None, warning, note, steps=steps,
                                        action="risk.warning.repeat")
        Signal.update(warning=warning.id).where(Signal.id == signal.id).execute()
    return RiskWarning.get_by_id(warning.id)
