"""Problem leads from other platforms (其他平台移送的问题线索), received through core events
only (never an import):

* a supervision case (督办) of e-supervision whose signal was verified as confirmed, which a
  supervisor transfers as a problem lead (``esupervision.supervision.transferred``);
* a post integrity-risk warning on a post or a person, which a supervisor transfers
  (``risk.warning.transferred``);
* a procurement red flag (``procurement.flag.raised``, level red: the rule registry's
  integrity indicators) on a project an official runs.

E-supervision's signals and risk's warnings are not leads by themselves: most are lateness
handled by the supervision workflow, and a supervisor decides which one concerns an
official's conduct. Each becomes one item of the channel ``platform`` in the region the
event names, once per source (``Item.source_ref``, unique: a redelivered event or a second
transfer registers nothing). It then follows the rules of every item: the petitions office
routes it (5 working days), the supervision and inspection office may take it up as a
problem lead, case management gets its copy; it is anonymous (the platform is not a
reporter) and its text is encrypted. One that names no official (no post held by a person,
no account, no person) is not an item: a lead is about a person."""
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

TRANSFERRED = "esupervision.supervision.transferred"
FLAG = "procurement.flag.raised"
WARNING = "risk.warning.transferred"


def handle_event(name: str, payload: dict) -> Item | None:
    """The plugin's ``ql_handle_event``: the events it turns into items, others ignored."""
    if not isinstance(payload, dict):
        return None
    if name == TRANSFERRED:
        return esupervision_transfer(payload)
    if name == WARNING:
        return risk_warning(payload)
    if name == FLAG and payload.get("level") == "red":
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


def _int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def esupervision_transfer(payload: dict) -> Item | None:
    """A supervision case (督办) a supervisor transferred as a problem lead: its confirmed
    signal on a case an official handled, with the supervisor's reason."""
    sc_id = payload.get("supervision_id")
    region = _region(payload.get("region_code"))
    official = _official(payload.get("post_id"), payload.get("handler_username"))
    if not _int(sc_id) or region is None or official is None:
        return None
    case = payload.get("case") if isinstance(payload.get("case"), dict) else {}
    with deployment_language():
        source = _("E-supervision, supervision case %(id)s", id=sc_id)
        text = _("Transferred by the e-supervision platform (%(who)s): %(reason)s\n"
                 "Signal %(code)s, verified as confirmed. Case %(serial)s, %(department)s, "
                 "%(item)s.", who=payload.get("transferred_by") or "",
                 reason=payload.get("reason") or "", code=payload.get("code") or "",
                 serial=case.get("serial") or "", department=case.get("department_name") or "",
                 item=case.get("item_name") or "")
    return _register(region, f"esupervision.supervision:{sc_id}", official, "work", source,
                     text[:20000])


def procurement_flag(payload: dict) -> Item | None:
    """A red flag of procurement (风险预警, its highest level) on a project an official
    runs."""
    flag_id = payload.get("flag_id")
    region = _region(payload.get("region_code"))
    department_id = payload.get("department_id")
    official = _official(username=payload.get("officer"), department_id=department_id)
    if not _int(flag_id) or region is None or official is None:
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
    """A post integrity-risk warning a supervisor transferred as a problem lead: on a post
    (its holder is the official concerned) or a person, with the supervisor's reason."""
    warning_id = payload.get("warning_id")
    region = _region(payload.get("region_code"))
    if not _int(warning_id) or region is None:
        return None
    official = None
    if payload.get("target") == "post":
        official = _official(payload.get("post_id"))
    elif payload.get("target") == "person" and _int(payload.get("person_id")):
        person = Person.get_or_none(Person.id == payload["person_id"])
        if person is not None:
            official = (person.name, "")
    if official is None:
        return None
    with deployment_language():
        source = _("Risk prevention, warning %(id)s", id=warning_id)
        text = _("Transferred by the risk prevention platform (%(who)s): %(reason)s\n"
                 "Post integrity-risk warning: %(subject)s.",
                 who=payload.get("transferred_by") or "", reason=payload.get("reason") or "",
                 subject=payload.get("subject") or "")
    return _register(region, f"risk.warning:{warning_id}", official, "integrity", source,
                     text[:20000])
