"""Signals of other platforms as items (其他平台移送的问题线索), received through core events
only (never an import): an e-supervision red correction signal on a case an official
handled (``esupervision.signal.raised``, the signal its supervision case is opened for)
and a procurement red flag, the highest level of its risk warnings, on a project an
official runs (``procurement.flag.raised``), and a post integrity-risk warning that reached
the risk plugin's highest level on a post or a person (``risk.warning.raised``).

Each becomes one item of the channel ``platform`` in the region the event names, once per
source event (``Item.source_ref``, unique: a redelivered event registers nothing). It then
follows the rules of every item: the petitions office routes it (5 working days), the
supervision and inspection office may take it up as a problem lead, case management gets
its copy; it is anonymous (the platform is not a reporter) and its text is encrypted.
A signal that names no official (no post held by a person, no account) is not an item: a
lead is about a person. Yellow signals and flags are left to the platforms themselves."""
from __future__ import annotations

from core.api import (
    Department,
    Person,
    Post,
    PostHolding,
    Region,
    User,
    _,
    db,
    deployment_language,
    enabled_for,
    today,
)
from plugins.cases import intake
from plugins.cases.models import Item

RAISED = "esupervision.signal.raised"
FLAG = "procurement.flag.raised"
WARNING = "risk.warning.raised"
# a risk warning folded from another platform's signal reached cases by that signal itself
FROM_OTHER_PLATFORMS = ("signal",)


def handle_event(name: str, payload: dict) -> Item | None:
    """The plugin's ``ql_handle_event``: the events it turns into items, others ignored."""
    if not isinstance(payload, dict):
        return None
    if name == WARNING:
        return risk_warning(payload) if payload.get("alert_level") == "red" else None
    if payload.get("level") != "red":
        return None
    if name == RAISED:
        return esupervision_signal(payload)
    if name == FLAG:
        return procurement_flag(payload)
    return None


def _holder(post: Post):
    """The person holding ``post`` today, or None."""
    day = today()
    holding = (PostHolding.select().where(
        (PostHolding.post == post.id) & (PostHolding.start <= day)
        & (PostHolding.end.is_null(True) | (PostHolding.end >= day)))
        .order_by(PostHolding.id).first())
    return holding.person if holding else None


def _official(post_id=None, username=None, department_id=None):
    """(name, unit and post) of the official a signal is about: the holder of its post,
    else the person of its account (with the post they hold in ``department_id``)."""
    if isinstance(post_id, int) and not isinstance(post_id, bool):
        post = Post.get_or_none(Post.id == post_id)
        person = _holder(post) if post else None
        if person is not None:
            return person.name, f"{post.department.name} {post.title}"
    if isinstance(username, str) and username:
        user = User.get_or_none(User.username == username)
        if user is not None and user.person_id:
            held = (Post.select().join(PostHolding).where(
                (PostHolding.person == user.person_id) & (PostHolding.start <= today())
                & (PostHolding.end.is_null(True) | (PostHolding.end >= today()))))
            if isinstance(department_id, int):
                held = held.where(Post.department == department_id)
            post = held.order_by(Post.id).first()
            where = f"{post.department.name} {post.title}" if post else ""
            return user.person.name, where
    return None


def _region(code) -> Region | None:
    if not isinstance(code, str):
        return None
    region = Region.get_or_none(Region.code == code)
    if region is None or not enabled_for("cases", region):
        return None
    return region


def _register(region: Region, source_ref: str, official, category: str, source: str,
              text: str) -> Item | None:
    if Item.select().where(Item.source_ref == source_ref).exists():
        return None
    name, post = official
    fields = {"channel": "platform", "transferred_from": source[:100], "anonymous": True,
              "reporter_name": None, "reporter_id": None, "reporter_contact": None,
              "subject_name": name, "subject_post": post[:120] or None,
              "subject_rank": "general", "category": category, "text": text}
    with db.atomic():
        return intake.register(region, fields, received_on=today(), subject_region=region,
                               source_ref=source_ref)


def esupervision_signal(payload: dict) -> Item | None:
    """A red correction signal of e-supervision (红牌) on a case an official handled."""
    signal_id = payload.get("signal_id")
    region = _region(payload.get("region_code"))
    official = _official(payload.get("post_id"), payload.get("handler_username"))
    if not isinstance(signal_id, int) or region is None or official is None:
        return None
    case = payload.get("case") if isinstance(payload.get("case"), dict) else {}
    with deployment_language():
        source = _("E-supervision, red signal %(id)s", id=signal_id)
        text = _("Red correction signal %(code)s of the e-supervision platform: %(detail)s. "
                 "Case %(serial)s, %(department)s, %(item)s.",
                 code=payload.get("code") or "", detail=payload.get("detail") or "",
                 serial=case.get("serial") or "", department=case.get("department_name") or "",
                 item=case.get("item_name") or "")
    return _register(region, f"esupervision.signal:{signal_id}", official, "work", source,
                     text[:20000])


def procurement_flag(payload: dict) -> Item | None:
    """A red flag of procurement (风险预警, its highest level) on a project an official
    runs."""
    flag_id = payload.get("flag_id")
    region = _region(payload.get("region_code"))
    department_id = payload.get("department_id")
    official = _official(username=payload.get("officer"), department_id=department_id)
    if not isinstance(flag_id, int) or region is None or official is None:
        return None
    unit = Department.get_or_none(Department.id == department_id) \
        if isinstance(department_id, int) else None
    with deployment_language():
        source = _("Procurement, red flag %(id)s", id=flag_id)
        text = _("Red flag %(code)s of the procurement platform on %(project)s (%(unit)s).",
                 code=payload.get("code") or "",
                 project=payload.get("project_number") or payload.get("subject") or "",
                 unit=unit.name if unit else "")
    return _register(region, f"procurement.flag:{flag_id}", official, "integrity", source,
                     text[:20000])


def risk_warning(payload: dict) -> Item | None:
    """A post integrity-risk warning at the risk plugin's highest level (its red) on a post
    or a person: the post's holder, or the person, is the official concerned. A warning on
    a whole department names no official; one folded from another platform's signal is
    already an item by that signal."""
    warning_id = payload.get("warning_id")
    region = _region(payload.get("region_code"))
    if not isinstance(warning_id, int) or isinstance(warning_id, bool) or region is None \
            or payload.get("source") in FROM_OTHER_PLATFORMS:
        return None
    official = None
    if payload.get("target") == "post":
        official = _official(payload.get("post_id"))
    elif payload.get("target") == "person" and isinstance(payload.get("person_id"), int):
        person = Person.get_or_none(Person.id == payload["person_id"])
        if person is not None:
            official = (person.name, "")
    if official is None:
        return None
    with deployment_language():
        source = _("Risk prevention, warning %(id)s", id=warning_id)
        text = _("Highest-level integrity-risk warning of the risk prevention platform: "
                 "%(subject)s.", subject=payload.get("subject") or "")
    return _register(region, f"risk.warning:{warning_id}", official, "integrity", source,
                     text[:20000])
