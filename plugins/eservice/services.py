"""Service hall rules: the power catalogue (事项) and its versions, cases (办件) and their
state machine with working-day deadlines, the public lookup with its rate limit, and the
evaluation (好差评) with the bad-rating rectification loop."""
from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

import peewee as pw
from flask import current_app

from core.api import (
    Alert,
    Department,
    Post,
    PostHolding,
    _,
    add_workdays,
    db,
    emit,
    is_postgres,
    publish,
    record,
    resolve,
    utcnow,
    workdays_between,
)
from plugins.eservice import idnumber
from plugins.eservice.models import (
    ITEM_TYPES,
    LEVELS,
    SPECIAL_KINDS,
    Case,
    CaseEvent,
    CaseMaterial,
    Evaluation,
    Item,
    ItemBasis,
    ItemMaterial,
    ItemSpecial,
    ItemStep,
    LookupCounter,
    Rectification,
)

RECTIFY_DAYS = 15
ALERT_KIND = "eservice.rating.bad"
SERIAL_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXY"


class ServiceError(ValueError):
    """A rule of the service hall refused the request; ``field`` names the input at fault."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class NoMatch(ServiceError):
    """No case has this serial and ID number (the one answer for every miss)."""


class RateLimited(ServiceError):
    """Too many public lookups from one client or for one serial in a minute."""


def today() -> dt.date:
    """Today in the deployment's time zone (working days are local days)."""
    tz = ZoneInfo(current_app.config["QL_SETTINGS"].timezone)
    return dt.datetime.now(tz).date()


# -- catalogue ---------------------------------------------------------------------
def _decimal(value, field: str) -> Decimal:
    try:
        amount = Decimal(str(value if value not in (None, "") else "0")).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise ServiceError(_("Enter an amount such as 12.50."), field) from None
    if amount < 0:
        raise ServiceError(_("The amount cannot be negative."), field)
    return amount


def check_item(spec: dict) -> dict:
    """Validate an item specification; return it cleaned or raise ServiceError(field)."""
    out = dict(spec)
    name = (spec.get("name") or "").strip()
    if not name or len(name) > 200:
        raise ServiceError(_("The item name is required (at most 200 characters)."), "name")
    out["name"] = name
    if spec.get("type") not in ITEM_TYPES:
        raise ServiceError(_("Unknown item type %(t)s; use one of %(known)s.",
                             t=spec.get("type") or "", known=" ".join(ITEM_TYPES)), "type")
    if spec.get("level", "county") not in LEVELS:
        raise ServiceError(_("Unknown exercise level %(l)s.", l=spec.get("level")), "level")
    if not isinstance(spec.get("department"), Department):
        raise ServiceError(_("Choose the implementing department."), "department")
    try:
        statutory = int(spec.get("statutory_days"))
        committed = int(spec.get("committed_days"))
    except (TypeError, ValueError):
        raise ServiceError(_("Time limits are whole numbers of working days."),
                           "statutory_days") from None
    if statutory < 1:
        raise ServiceError(_("The statutory limit is at least one working day."),
                           "statutory_days")
    if not 1 <= committed <= statutory:
        raise ServiceError(_("The committed limit (%(c)d) must be between 1 and the statutory "
                             "limit (%(s)d) working days.", c=committed, s=statutory),
                           "committed_days")
    out["statutory_days"], out["committed_days"] = statutory, committed
    out["fee_amount"] = _decimal(spec.get("fee_amount"), "fee_amount")
    if out["fee_amount"] and not (spec.get("fee_basis") or "").strip():
        raise ServiceError(_("A charged item needs the legal basis of its fee."), "fee_basis")
    steps = spec.get("steps") or []
    if not steps:
        raise ServiceError(_("An item needs at least one process step."), "steps")
    for s in steps:
        if not (s.get("name") or "").strip() or int(s.get("limit_days") or 0) < 1:
            raise ServiceError(_("Each step needs a name and a limit of at least one day."),
                               "steps")
    for m in spec.get("materials") or []:
        if not (m.get("name") or "").strip():
            raise ServiceError(_("Each material needs a name."), "materials")
    for sp in spec.get("specials") or []:
        if sp.get("kind") not in SPECIAL_KINDS:
            raise ServiceError(_("Unknown special procedure %(k)s.", k=sp.get("kind")),
                               "specials")
    if not isinstance(spec.get("effective_from", dt.date.today()), dt.date):
        raise ServiceError(_("Give the effective date as YYYY-MM-DD."), "effective_from")
    return out


def item_code_prefix(department: Department, type_code: str) -> str:
    """Region code (8 digits) + department code + type: ``51010400ZF-XK-``."""
    return f"{department.region.code.ljust(8, '0')}{department.code}-{type_code}-"


def next_item_code(department: Department, type_code: str) -> str:
    prefix = item_code_prefix(department, type_code)
    last = (Item.select(pw.fn.MAX(Item.code)).where(Item.code.startswith(prefix)).scalar())
    seq = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{seq:04d}"


def _write_children(item: Item, spec: dict) -> None:
    if spec.get("bases"):
        ItemBasis.insert_many([{"item": item.id, "seq": i, "title": b["title"],
                                "article": b.get("article", "")}
                               for i, b in enumerate(spec["bases"], 1)]).execute()
    if spec.get("materials"):
        ItemMaterial.insert_many([{"item": item.id, "seq": i, "name": m["name"].strip(),
                                   "original": bool(m.get("original", True)),
                                   "copies": int(m.get("copies") or 1),
                                   "required": bool(m.get("required", True))}
                                  for i, m in enumerate(spec["materials"], 1)]).execute()
    ItemStep.insert_many([{"item": item.id, "seq": i, "code": s.get("code") or f"s{i}",
                           "name": s["name"].strip(), "limit_days": int(s["limit_days"]),
                           "post_title": s.get("post_title", "")}
                          for i, s in enumerate(spec["steps"], 1)]).execute()
    if spec.get("specials"):
        ItemSpecial.insert_many([{"item": item.id, "kind": s["kind"], "name": s["name"],
                                  "limit_days": int(s.get("limit_days") or 0),
                                  "basis": s.get("basis", "")}
                                 for s in spec["specials"]]).execute()


_ITEM_FIELDS = ("name", "type", "level", "statutory_days", "committed_days", "fee_amount",
                "fee_basis", "conditions", "visits", "consult_phone", "complaint_phone")


def create_item(spec: dict, user=None, *, audit: bool = True) -> Item:
    """Publish a new item (事项) as version 1 with a generated code unless one is given."""
    spec = check_item(spec)
    dept = spec["department"]
    with db.atomic():
        code = spec.get("code") or next_item_code(dept, spec["type"])
        if Item.select().where(Item.code == code).exists():
            raise ServiceError(_("The item code %(c)s exists.", c=code), "code")
        item = Item.create(code=code, version=1, department=dept, region=dept.region,
                           effective_from=spec.get("effective_from") or today(),
                           **{f: spec.get(f, Item._meta.fields[f].default)
                              for f in _ITEM_FIELDS})
        _write_children(item, spec)
        if audit:
            record("eservice.item.create", object_type="eservice_item", object_id=item.id,
                   summary=f"{code} {item.name}", region_id=dept.region_id, user=user)
    return item


def revise_item(code: str, spec: dict, user=None) -> Item:
    """Write the next version of item ``code``; the current one is superseded, not changed."""
    spec = check_item(spec)
    with db.atomic():
        current = current_item(code)
        if current is None:
            raise ServiceError(_("No item in force has the code %(c)s.", c=code), "code")
        start = spec.get("effective_from") or today()
        if start < current.effective_from:
            raise ServiceError(_("The new version cannot take effect before the current one."),
                               "effective_from")
        Item.update(status="superseded", effective_to=start).where(
            Item.id == current.id).execute()
        item = Item.create(code=code, version=current.version + 1,
                           department=spec["department"], region=spec["department"].region,
                           effective_from=start,
                           **{f: spec.get(f, Item._meta.fields[f].default)
                              for f in _ITEM_FIELDS})
        _write_children(item, spec)
        record("eservice.item.revise", object_type="eservice_item", object_id=item.id,
               summary=f"{code} v{item.version}", region_id=item.region_id, user=user,
               changes={k: [str(getattr(current, k)), str(getattr(item, k))]
                        for k in _ITEM_FIELDS if getattr(current, k) != getattr(item, k)})
    return item


def current_item(code: str) -> Item | None:
    return Item.select().where((Item.code == code) & (Item.status == "active")).first()


def item_spec(item: Item) -> dict:
    """The specification of an item version, as accepted by create/revise_item."""
    spec = {f: getattr(item, f) for f in _ITEM_FIELDS}
    spec.update(code=item.code, department=item.department, effective_from=item.effective_from,
                bases=[{"title": b.title, "article": b.article}
                       for b in item.bases.order_by(ItemBasis.seq)],
                materials=[{"name": m.name, "original": m.original, "copies": m.copies,
                            "required": m.required}
                           for m in item.materials.order_by(ItemMaterial.seq)],
                steps=[{"code": s.code, "name": s.name, "limit_days": s.limit_days,
                        "post_title": s.post_title} for s in item.steps.order_by(ItemStep.seq)],
                specials=[{"kind": s.kind, "name": s.name, "limit_days": s.limit_days,
                           "basis": s.basis} for s in item.specials])
    return spec


# -- cases: filing ------------------------------------------------------------------
def serial_check(digits: str) -> str:
    """Check letter of a serial: weighted sum modulo 23 (catches one wrong digit and a swap)."""
    total = sum((i + 1) * int(d) for i, d in enumerate(digits))
    return SERIAL_LETTERS[total % 23]


def make_serial(region_code: str, day: dt.date, seq: int) -> str:
    """``510104-20260302-0007-K``: region, date, sequence of the day, check letter."""
    body = f"{region_code}{day:%Y%m%d}{seq:04d}"
    return f"{region_code}-{day:%Y%m%d}-{seq:04d}-{serial_check(body)}"


def valid_serial(serial: str) -> bool:
    parts = (serial or "").strip().upper().split("-")
    if len(parts) != 4 or not all(p.isdigit() for p in parts[:3]) or len(parts[3]) != 1:
        return False
    return serial_check("".join(parts[:3])) == parts[3]


def acting_post(user, department: Department | None = None) -> Post | None:
    """The post the user holds today, preferring one in ``department``."""
    if user is None or getattr(user, "person_id", None) is None:
        return None
    posts = list(Post.select().join(PostHolding)
                 .where((PostHolding.person == user.person_id)
                        & (PostHolding.end.is_null(True) | (PostHolding.end >= dt.date.today())))
                 .order_by(Post.id))
    for p in posts:
        if department is not None and p.department_id == department.id:
            return p
    return posts[0] if posts else None


def file_case(item: Item, *, applicant_name: str, id_number: str, phone: str = "",
              channel: str = "window", received: list[int] | None = None, user=None,
              note: str = "", on: dt.date | None = None) -> Case:
    """File a case (收件) for an item in force: validates the applicant and records the
    materials checklist; the clock starts only at acceptance."""
    if item.status != "active":
        raise ServiceError(_("The item %(c)s is not in force.", c=item.code), "item")
    name = (applicant_name or "").strip()
    if not name or len(name) > 64:
        raise ServiceError(_("The applicant's name is required."), "applicant_name")
    phone = (phone or "").strip()
    if phone and (not phone.replace("-", "").isdigit() or len(phone) > 20):
        raise ServiceError(_("The phone number may contain only digits and dashes."), "phone")
    try:
        number = idnumber.normalise(id_number)
    except idnumber.IDNumberError as exc:
        raise ServiceError(str(exc), "id_number") from None
    if channel not in ("window", "online"):
        raise ServiceError(_("Unknown channel."), "channel")
    day = on or today()
    received_ids = set(received or [])
    with db.atomic():
        for attempt in range(5):
            seq = Case.select().where((Case.region == item.region_id) & Case.serial.startswith(
                f"{item.region.code}-{day:%Y%m%d}-")).count() + 1 + attempt
            try:
                with db.atomic():
                    case = Case.create(
                        serial=make_serial(item.region.code, day, seq), item=item,
                        region=item.region_id, department=item.department_id, channel=channel,
                        applicant_name=name, applicant_phone=phone,
                        id_enc=idnumber.encrypt(number), id_hash=idnumber.blind_index(number),
                        id_mask=idnumber.mask(number), fee_due=item.fee_amount,
                        handler=user.id if channel == "window" and user else None,
                        created_by=user.id if user else None,
                        submitted_at=utcnow() if on is None else
                        dt.datetime.combine(day, dt.time(1, 0)))
                break
            except pw.IntegrityError:
                continue
        else:
            raise ServiceError(_("Could not number the case; please retry."))
        rows = [{"case": case.id, "name": m.name, "required": m.required,
                 "received": m.id in received_ids}
                for m in item.materials.order_by(ItemMaterial.seq)]
        if rows:
            CaseMaterial.insert_many(rows).execute()
        _log(case, "submitted", "", "submitted", user, note=note, at=case.submitted_at)
        record("eservice.case.submitted", object_type="eservice_case", object_id=case.id,
               summary=case.serial, region_id=case.region_id, user=user)
        _publish("submitted", case, user, at=case.submitted_at if on is not None else None)
    return case


# -- cases: online filing by the applicant ----------------------------------------------
APPLY_LIMIT = 5
APPLY_WINDOW_MINUTES = 10


def item_open_for_application(code: str, on: dt.date | None = None) -> Item | None:
    """The item version in force and already effective on ``on`` (today), or None."""
    day = on or today()
    return (Item.select(Item, Department).join(Department)
            .where((Item.code == code) & (Item.status == "active")
                   & (Item.effective_from <= day)
                   & (Item.effective_to.is_null(True) | (Item.effective_to > day)))
            .first())


def _count_application(client: str) -> int:
    """Count this application against the client's sliding window; return the total."""
    now = utcnow().replace(second=0, microsecond=0)
    key = f"apply:{client}"[:96]
    _count_attempt([key], now)
    since = now - dt.timedelta(minutes=APPLY_WINDOW_MINUTES)
    return (LookupCounter.select(pw.fn.COALESCE(pw.fn.SUM(LookupCounter.count), 0))
            .where((LookupCounter.key == key) & (LookupCounter.window > since)).scalar())


def file_online(item: Item, *, applicant_name: str, id_number: str, phone: str = "",
                received: list[int] | None = None, client: str) -> Case:
    """File a case (网上申报) submitted by the applicant online: the same filing as at the
    window, channel ``online``, no acting user. At most APPLY_LIMIT accepted applications per
    client in APPLY_WINDOW_MINUTES (counters in the database); above it RateLimited."""
    if item.status != "active" or item.effective_from > today():
        raise ServiceError(_("The item %(c)s is not in force.", c=item.code), "item")
    limited = False
    with db.atomic() as txn:
        if _count_application(client) > APPLY_LIMIT:
            txn.rollback()
            limited = True
        else:
            case = file_case(item, applicant_name=applicant_name, id_number=id_number,
                             phone=phone, channel="online", received=received, user=None)
    if limited:
        with db.atomic():
            record("eservice.apply.limited", object_type="eservice_item", object_id=item.id,
                   summary=item.code, region_id=item.region_id, success=False)
        raise RateLimited(_("Too many applications from your connection: at most %(n)d in "
                            "%(m)d minutes. Please wait and try again.",
                            n=APPLY_LIMIT, m=APPLY_WINDOW_MINUTES))
    return case


# -- cases: the state machine ---------------------------------------------------------
# action -> (states it is allowed from, event name, state it leads to)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "accept": (("submitted", "supplement_received"), "accepted", "accepted"),
    "not_accept": (("submitted", "supplement_received"), "not_accepted", "not_accepted"),
    "request_supplement": (("submitted", "accepted", "in_review"), "supplement_requested",
                           "supplement_requested"),
    "receive_supplement": (("supplement_requested",), "supplement_received",
                           "supplement_received"),
    "start_review": (("accepted", "supplement_received"), "step_started", "in_review"),
    "advance": (("in_review",), "step_completed", "in_review"),
    "suspend": (("in_review",), "suspended", "suspended"),
    "resume": (("suspended",), "resumed", "in_review"),
    "decide": (("in_review",), "decided", "decided"),
    "deliver": (("decided",), "delivered", "delivered"),
    "close": (("delivered", "not_accepted"), "closed", "closed"),
    "charge_fee": (("decided", "delivered"), "fee_charged", ""),
}


def allowed_actions(case: Case) -> list[str]:
    """Actions the case's state allows now (the worklist shows one form for each)."""
    out = []
    for action, (sources, _event, _to) in TRANSITIONS.items():
        if case.state not in sources:
            continue
        if action in ("accept", "not_accept") and case.accepted_on is not None:
            continue
        if action == "start_review" and case.state == "supplement_received" \
                and case.accepted_on is None:
            continue
        if action == "request_supplement" and _supplement_asked(case):
            continue
        if action == "advance" and _is_last_step(case):
            continue
        if action == "decide" and not _is_last_step(case):
            continue
        if action == "charge_fee" and not case.fee_due:
            continue
        out.append(action)
    return out


def _supplement_asked(case: Case) -> bool:
    return CaseEvent.select().where((CaseEvent.case == case.id)
                                    & (CaseEvent.event == "supplement_requested")).exists()


def _steps(case: Case) -> list[ItemStep]:
    return list(ItemStep.select().where(ItemStep.item == case.item_id).order_by(ItemStep.seq))


def _is_last_step(case: Case) -> bool:
    steps = _steps(case)
    return not steps or case.step_seq == steps[-1].seq


def _stop_clock(case: Case, day: dt.date) -> None:
    if case.accepted_on is not None and case.stopped_since is None:
        case.stopped_since = day


def _restart_clock(case: Case, day: dt.date) -> int:
    """End a stop: add the working days it lasted and move the deadline; return them."""
    if case.stopped_since is None:
        return 0
    stopped = max(0, workdays_between(case.stopped_since, day))
    case.stopped_days += stopped
    case.stopped_since = None
    case.deadline = compute_deadline(case)
    return stopped


def compute_deadline(case: Case) -> dt.date | None:
    """Acceptance day + committed limit + stopped working days (工作日), by core.calendar."""
    if case.accepted_on is None:
        return None
    return add_workdays(case.accepted_on, case.item.committed_days + case.stopped_days)


def remaining_days(case: Case, on: dt.date | None = None) -> int | None:
    """Working days left until the deadline (negative when late); frozen while stopped."""
    if case.deadline is None:
        return None
    day = case.stopped_since or on or today()
    return workdays_between(day, case.deadline) if day <= case.deadline \
        else -workdays_between(case.deadline, day)


def transition(case: Case, action: str, *, user=None, note: str = "", reason: str = "",
               legal_basis: str = "", rights_notice: str = "", missing: list[str] | None = None,
               decision: str = "", procedure: str = "", expected_days: int | None = None,
               amount=None, on: dt.date | None = None) -> Case:
    """Move a case (办件) by one action, recording actor, post, time and note, auditing it
    and publishing its event — or refuse with a clear message and change nothing."""
    if action not in TRANSITIONS:
        raise ServiceError(_("Unknown action %(a)s.", a=action), "action")
    day = on or today()
    at = None if on is None else dt.datetime.combine(day, dt.time(2))  # 10:00 in Beijing
    with db.atomic():
        case = Case.select().where(Case.id == case.id).for_update().get() \
            if _for_update() else Case.get_by_id(case.id)
        if action not in allowed_actions(case):
            raise ServiceError(_("A case that is %(state)s cannot be moved by “%(action)s”.",
                                 state=str(case.state_label), action=ACTION_LABELS[action]()),
                               "action")
        _sources, event, target = TRANSITIONS[action]
        previous = case.state
        extra: dict = {}
        steps = _steps(case)
        reason = (reason or "").strip()
        if action == "accept":
            missing_now = [m.name for m in case.materials if m.required and not m.received]
            if missing_now:
                raise ServiceError(_("Required materials are missing: %(m)s. Request a "
                                     "supplement instead.", m="; ".join(missing_now)), "action")
            case.accepted_on = day
            case.deadline = compute_deadline(case)
            if case.handler_id is None and user is not None:
                case.handler = user.id
        elif action == "not_accept":
            if not reason:
                raise ServiceError(_("Give the reason for not accepting."), "reason")
            if not (rights_notice or "").strip():
                raise ServiceError(_("State the applicant's rights to administrative review "
                                     "and litigation."), "rights_notice")
            extra = {"reason": reason, "legal_basis": legal_basis.strip() or None,
                     "rights_notice": rights_notice.strip()}
            case.decided_on = day
        elif action == "request_supplement":
            items = [m.strip() for m in (missing or []) if m and m.strip()]
            if not items:
                raise ServiceError(_("List everything that is missing, at once."), "missing")
            extra = {"reason": reason or None, "missing_materials": items}
            _stop_clock(case, day)
            names = set(items)
            CaseMaterial.update(received=False).where(
                (CaseMaterial.case == case.id) & CaseMaterial.name.in_(names)).execute()
        elif action == "receive_supplement":
            CaseMaterial.update(received=True).where(CaseMaterial.case == case.id).execute()
            extra = {"stopped_days": _restart_clock(case, day)}
        elif action == "start_review":
            case.step_seq = case.step_seq or (steps[0].seq if steps else None)
        elif action == "advance":
            current = next(s for s in steps if s.seq == case.step_seq)
            following = next(s for s in steps if s.seq > current.seq)
            _log(case, "step_completed", previous, "in_review", user, note=note, step=current)
            record("eservice.case.step_completed", object_type="eservice_case",
                   object_id=case.id, summary=f"{case.serial} {current.name}",
                   region_id=case.region_id, user=user)
            _publish("step_completed", case, user, step=current, at=at)
            case.step_seq = following.seq
            event = "step_started"
        elif action == "suspend":
            if procedure not in SPECIAL_KINDS:
                raise ServiceError(_("Choose the special procedure."), "procedure")
            if not reason:
                raise ServiceError(_("Give the reason for the special procedure."), "reason")
            try:
                days = int(expected_days or 0)
            except (TypeError, ValueError):
                days = 0
            if days < 1:
                raise ServiceError(_("Give the expected length in working days (at least 1)."),
                                   "expected_days")
            extra = {"reason": reason, "procedure": {"kind": procedure, "expected_days": days}}
            _stop_clock(case, day)
        elif action == "resume":
            extra = {"stopped_days": _restart_clock(case, day)}
        elif action == "decide":
            if decision not in ("approved", "denied"):
                raise ServiceError(_("Choose approved or denied."), "decision")
            if decision == "denied" and not reason:
                raise ServiceError(_("A denial needs its reason."), "reason")
            current = next((s for s in steps if s.seq == case.step_seq), None)
            if current is not None:
                _log(case, "step_completed", previous, "in_review", user, step=current)
                _publish("step_completed", case, user, step=current, at=at)
            case.decision, case.decided_on = decision, day
            extra = {"decision": decision, "reason": reason or None,
                     "legal_basis": legal_basis.strip() or None}
        elif action == "close":
            case.closed_at = utcnow() if on is None else dt.datetime.combine(day, dt.time(9))
        elif action == "charge_fee":
            amount_dec = _decimal(amount, "amount")
            if amount_dec <= 0:
                raise ServiceError(_("Enter the amount charged."), "amount")
            case.fee_charged = case.fee_charged + amount_dec
            extra = {"fee_charged": str(amount_dec)}
            target = previous
        case.state = target
        case.save()
        step = next((s for s in steps if s.seq == case.step_seq), None) \
            if event in ("step_started",) else None
        _log(case, event, previous, target, user, note=note, reason=reason, step=step,
             data=extra, at=at)
        record(f"eservice.case.{event}", object_type="eservice_case", object_id=case.id,
               summary=f"{case.serial}: {previous} → {target}", region_id=case.region_id,
               user=user, changes={"state": [previous, target]})
        _publish(event, case, user, step=step, at=at, **extra)
    return case


def _for_update() -> bool:
    return is_postgres()


def _log(case: Case, event: str, state_from: str, state_to: str, user, *, note: str = "",
         reason: str = "", step: ItemStep | None = None, data: dict | None = None,
         at: dt.datetime | None = None) -> CaseEvent:
    post = acting_post(user, case.department)
    return CaseEvent.create(
        case=case, at=at or utcnow(), event=event, state_from=state_from, state_to=state_to,
        step_seq=step.seq if step else None, step_name=step.name if step else "",
        actor=user.id if user else None, actor_name=getattr(user, "username", "") or "",
        post=post, post_title=post.title if post else "", reason=reason, note=note or "",
        data=json.dumps(data, ensure_ascii=False, default=str) if data else "")


def _iso(value: dt.datetime | None) -> str | None:
    return value.replace(microsecond=0).isoformat() + "Z" if value else None


def event_payload(event: str, case: Case, user=None, *, step: ItemStep | None = None,
                  at: dt.datetime | None = None, **extra) -> dict:
    """The self-contained payload of docs/events.md for ``eservice.case.<event>``;
    ``occurred_at`` is when the act happened (``at``, e.g. a backdated entry), else now."""
    item = case.item
    post = acting_post(user, case.department)
    payload = {
        "event_id": str(uuid.uuid4()),
        "event": f"eservice.case.{event}",
        "occurred_at": _iso(at or utcnow()),
        "source": "eservice",
        "case": {
            "serial": case.serial,
            "region_code": case.region.code,
            "department_code": case.department.code,
            "department_name": case.department.name,
            "item_code": item.code,
            "item_name": item.name,
            "item_type": item.type,
            "item_version": item.version,
            "statutory_limit_days": item.statutory_days,
            "committed_limit_days": item.committed_days,
            "fee_due": str(Decimal(case.fee_due).quantize(Decimal("0.01"))),
            "submitted_at": _iso(case.submitted_at),
            "channel": case.channel,
            "handler": {"username": getattr(user, "username", None),
                        "post_id": post.id if post else None,
                        "post_title": post.title if post else None},
        },
        "step": ({"seq": step.seq, "code": step.code, "name": step.name,
                  "limit_days": step.limit_days, "post_id": None}
                 if step is not None else None),
        "deadline": case.deadline.isoformat() if case.deadline else None,
        "reason": None, "legal_basis": None, "rights_notice": None, "procedure": None,
        "decision": None, "fee_charged": None, "rating": None, "missing_materials": None,
    }
    for key, value in extra.items():
        if key in payload:
            payload[key] = value
    return payload


def _publish(event: str, case: Case, user, *, step: ItemStep | None = None,
             at: dt.datetime | None = None, **extra) -> None:
    publish(f"eservice.case.{event}", event_payload(event, case, user, step=step, at=at,
                                                    **extra))


ACTION_LABELS = {
    "accept": lambda: _("Accept"), "not_accept": lambda: _("Do not accept"),
    "request_supplement": lambda: _("Request a supplement"),
    "receive_supplement": lambda: _("Supplement received"),
    "start_review": lambda: _("Start review"), "advance": lambda: _("Complete step"),
    "suspend": lambda: _("Start a special procedure"), "resume": lambda: _("Resume"),
    "decide": lambda: _("Decide"), "deliver": lambda: _("Deliver"), "close": lambda: _("Close"),
    "charge_fee": lambda: _("Record fee charged"),
}


def reveal_id(case: Case, user) -> str:
    """The full ID number, for a user allowed to see it; every reveal is audited."""
    with db.atomic():
        record("eservice.id.view", object_type="eservice_case", object_id=case.id,
               summary=case.serial, region_id=case.region_id, user=user)
    return idnumber.decrypt(case.id_enc)


# -- public lookup -------------------------------------------------------------------
_COUNTER_SQL: dict[tuple[str, int], str] = {}


def _count_attempt(keys: list[str], window: dt.datetime) -> int:
    """Add one attempt to each key's counter for this minute; return the highest count.

    One upsert with RETURNING, so the counters hold across every web process. The
    statement is fixed (built once per backend and number of keys): this runs on every
    public lookup, where building it through the query builder costs more than running it."""
    database = db.obj
    key = (type(database).__name__, len(keys))
    sql = _COUNTER_SQL.get(key)
    if sql is None:
        q0, q1 = database.quote
        table = f"{q0}{LookupCounter._meta.table_name}{q1}"
        key_col, window_col, count_col = (f"{q0}{f.column_name}{q1}" for f in (
            LookupCounter.key, LookupCounter.window, LookupCounter.count))
        values = ", ".join([f"({database.param}, {database.param}, 1)"] * len(keys))
        sql = _COUNTER_SQL[key] = (
            f"INSERT INTO {table} ({key_col}, {window_col}, {count_col}) VALUES {values} "
            f"ON CONFLICT ({key_col}, {window_col}) DO UPDATE SET "
            f"{count_col} = {table}.{count_col} + 1 RETURNING {count_col}")
    stamp = LookupCounter.window.db_value(window)
    params = [p for k in keys for p in (k[:96], stamp)]
    return max(count for (count,) in db.execute_sql(sql, params).fetchall())


def find_case(serial: str, id_number: str, client: str) -> Case | None:
    """The case for a serial + ID number pair, or None — the same None whether the serial is
    unknown, the number is wrong or malformed (no enumeration). Attempts are counted per
    client and per serial (settings.public_lookup_per_minute, counters in the database);
    above the limit RateLimited is raised. Every attempt is audited.

    The case is read before the write transaction, so the database's write lock is held
    only for the counter upsert and the audit row (concurrent lookups queue on it)."""
    serial = (serial or "").strip().upper()[:32]
    limit = current_app.config["QL_SETTINGS"].public_lookup_per_minute
    window = utcnow().replace(second=0, microsecond=0)
    keys = [f"ip:{client}"] + ([f"serial:{serial}"] if serial else [])
    case = None
    try:
        number = idnumber.normalise(id_number)
    except idnumber.IDNumberError:
        number = None
    if number and valid_serial(serial):
        case = _lookup_case(serial, idnumber.blind_index(number))
    with db.atomic():
        limited = _count_attempt(keys, window) > limit
        if limited:
            record("eservice.lookup.limited", object_type="eservice_case", summary=serial,
                   success=False)
        else:
            record("eservice.lookup", object_type="eservice_case",
                   object_id=case.id if case else None, summary=serial,
                   region_id=case.region_id if case else None, success=case is not None)
    if limited:
        raise RateLimited(_("Too many lookups: at most %(n)d a minute. Please wait a minute "
                            "and try again.", n=limit))
    return case


_PLANS: dict[tuple[str, str], tuple[str, list[tuple[str, object, bool]]]] = {}


def _fetch(model, name: str, build, *params) -> list:
    """Run a fixed query and build light instances of ``model`` from its rows.

    The public lookup is hot: its SQL text and column plan are built once per process and
    backend, and rows become instances directly (no query builder, no per-query column
    resolution). Selected model fields fill the instance's data; aliased columns become
    attributes of the same name."""
    key = (name, type(db.obj).__name__)
    plan = _PLANS.get(key)
    if plan is None:
        query = build()
        columns = []
        for node in query._returning:
            if isinstance(node, pw.Alias):
                field = node.node if isinstance(node.node, pw.Field) else None
                columns.append((node._alias, field.python_value if field else None, False))
            else:
                columns.append((node.name, node.python_value, True))
        plan = _PLANS[key] = (query.sql()[0], columns)
    sql, columns = plan
    out = []
    for row in db.execute_sql(sql, params).fetchall():
        inst = model(__no_default__=1)
        data = inst.__data__
        for (attr, convert, is_field), value in zip(columns, row):
            if convert is not None and value is not None:
                value = convert(value)
            if is_field:
                data[attr] = value
            else:
                setattr(inst, attr, value)
        out.append(inst)
    return out


PUBLIC_CASE_FIELDS = (Case.id, Case.serial, Case.item, Case.region, Case.department,
                      Case.state, Case.deadline, Case.stopped_since, Case.decided_on,
                      Case.closed_at)


def _lookup_case(serial: str, id_hash: str) -> Case | None:
    """The case's public fields (what the lookup page shows and needs to say whether it
    is overdue), with its item's and department's names."""
    def build():
        return (Case.select(*PUBLIC_CASE_FIELDS, Item.name.alias("item_name"),
                            Department.name.alias("department_name"))
                .join(Item).switch(Case).join(Department)
                .where((Case.serial == serial) & (Case.id_hash == id_hash)))
    found = _fetch(Case, "lookup", build, serial, id_hash)
    if not found:
        return None
    case = found[0]
    case.item = Item(id=case.item_id, name=case.item_name)
    case.department = Department(id=case.department_id, name=case.department_name)
    return case


def public_timeline(case: Case) -> list[CaseEvent]:
    """What the applicant sees of the timeline: events and steps, never notes or names."""
    def build():
        return (CaseEvent.select(CaseEvent.id, CaseEvent.at, CaseEvent.event,
                                 CaseEvent.step_name)
                .where((CaseEvent.case == case.id) & (CaseEvent.public == True))
                .order_by(CaseEvent.at, CaseEvent.id))
    return _fetch(CaseEvent, "timeline", build, case.id, True)


def completion_day(case: Case) -> dt.date | None:
    return case.decided_on


def is_overdue(case: Case, on: dt.date | None = None) -> bool:
    if case.deadline is None:
        return False
    done = completion_day(case)
    if done is not None:
        return done > case.deadline
    if case.stopped_since is not None:
        return case.stopped_since > case.deadline
    return (on or today()) > case.deadline


# -- evaluation (好差评) ----------------------------------------------------------------
def evaluate(serial: str, id_number: str, rating, comment: str, client: str) -> Evaluation:
    """Rate a closed case once (一事一评); a rating of 2 or below opens a rectification
    due in 15 working days and raises an alert to the department."""
    found = find_case(serial, id_number, client)
    if found is None:
        raise NoMatch(_("No case matches this serial number and ID number."), "serial")
    return rate_case(Case.get_by_id(found.id), rating, comment)


def rate_case(case: Case, rating, comment: str = "") -> Evaluation:
    """Record the rating of a closed case (once) and open the follow-up of a bad one."""
    try:
        rating = int(rating)
    except (TypeError, ValueError):
        rating = 0
    if rating not in range(1, 6):
        raise ServiceError(_("Choose a rating from 1 to 5."), "rating")
    comment = (comment or "").strip()
    if len(comment) > 1000:
        raise ServiceError(_("The comment is limited to 1000 characters."), "comment")
    if case.state != "closed":
        raise ServiceError(_("A case can be rated once it is closed."), "serial")
    with db.atomic():
        if Evaluation.select().where(Evaluation.case == case.id).exists():
            raise ServiceError(_("This case has already been rated: each case is rated once."),
                               "serial")
        evaluation = Evaluation.create(case=case, rating=rating, comment=comment)
        record("eservice.case.evaluated", object_type="eservice_case", object_id=case.id,
               summary=f"{case.serial} {rating}", region_id=case.region_id)
        if rating <= 2:
            _open_rectification(case, evaluation)
        _publish("evaluated", case, None, rating=rating)
    return evaluation


def _open_rectification(case: Case, evaluation: Evaluation) -> Rectification:
    due = add_workdays(today(), RECTIFY_DAYS)
    rect = Rectification.create(evaluation=evaluation, department=case.department_id,
                                region=case.region_id, due=due)
    record("eservice.rectification.open", object_type="eservice_rectification",
           object_id=rect.id, summary=f"{case.serial} due {due}", region_id=case.region_id)
    alert = emit(**alert_arguments(case, evaluation, rect))
    Rectification.update(alert_id=alert.id).where(Rectification.id == rect.id).execute()
    rect.alert_id = alert.id
    return rect


def alert_arguments(case: Case, evaluation: Evaluation, rect: Rectification) -> dict:
    """The bad-rating alert: to the department head's post (else the department)."""
    args = {
        "kind": ALERT_KIND,
        "region": case.region_id,
        "subject": _("Bad rating (%(r)d) for case %(s)s: rectify by %(d)s",
                     r=evaluation.rating, s=case.serial, d=rect.due.isoformat()),
        "details": {"serial": case.serial, "item": case.item.name, "rating": evaluation.rating,
                    "comment": evaluation.comment, "due": rect.due.isoformat()},
        "ref": f"eservice_rectification:{rect.id}",
        "dedupe_key": f"rating:{case.serial}",
    }
    args.update(_head_target(case.department_id))
    return args


def close_rectification(rect: Rectification, response: str, user) -> Rectification:
    """Record the department's follow-up and rectification (整改) and close it."""
    response = (response or "").strip()
    if not response:
        raise ServiceError(_("Describe the follow-up and the rectification."), "response")
    if rect.status == "closed":
        raise ServiceError(_("This rectification is already closed."), "response")
    with db.atomic():
        Rectification.update(status="closed", response=response, closed_at=utcnow(),
                             closed_by=user.id).where(Rectification.id == rect.id).execute()
        record("eservice.rectification.close", object_type="eservice_rectification",
               object_id=rect.id, summary=response[:200], region_id=rect.region_id, user=user)
        if rect.alert_id is not None:
            alert = Alert.get_or_none(Alert.id == rect.alert_id)
            if alert is not None and alert.state != "resolved":
                resolve(alert, user, response[:2000])
    return Rectification.get_by_id(rect.id)


OVERDUE_KIND = "eservice.rectification.overdue"


def _head_target(department_id: int) -> dict:
    """Alert target: the department head's post, else the department."""
    head = (Post.select().where((Post.department == department_id) & Post.is_head)
            .order_by(Post.id).first())
    return {"target_post": head.id} if head is not None else \
        {"target_department": department_id}


def raise_overdue_rectifications(on: dt.date | None = None) -> list:
    """Raise one red alert per bad-rating rectification (差评整改) still open after its due
    date. Idempotent: a rectification whose overdue alert exists (open or resolved) is
    skipped, and the dedupe key keeps concurrent runs to one alert."""
    day = on or today()
    rows = list(Rectification.select(Rectification, Evaluation, Case)
                .join(Evaluation).join(Case)
                .where((Rectification.status != "closed") & (Rectification.due < day))
                .order_by(Rectification.due, Rectification.id))
    if not rows:
        return []
    refs = {f"eservice_rectification:{r.id}": r for r in rows}
    done = {ref for (ref,) in Alert.select(Alert.ref)
            .where((Alert.kind == OVERDUE_KIND) & Alert.ref.in_(list(refs))).tuples()}
    raised = []
    for ref, rect in refs.items():
        if ref in done:
            continue
        case = rect.evaluation.case
        late = workdays_between(rect.due, day)
        with db.atomic():
            alert = emit(
                OVERDUE_KIND, rect.region_id,
                _("Rectification of the bad rating of case %(s)s is overdue: due %(d)s",
                  s=case.serial, d=rect.due.isoformat()),
                ref=ref, dedupe_key=f"rectification:{rect.id}", level="red",
                details={"serial": case.serial, "rating": rect.evaluation.rating,
                         "due": rect.due.isoformat(), "working_days_late": late},
                **_head_target(rect.department_id))
            if not alert.deduplicated:
                record("eservice.rectification.overdue", object_type="eservice_rectification",
                       object_id=rect.id, summary=f"{case.serial} due {rect.due}",
                       region_id=rect.region_id)
                raised.append(alert)
    return raised


# -- public statistics ------------------------------------------------------------------
def statistics(months: int = 6) -> dict:
    """Cases handled, on-time and early completion, satisfaction: by department and month."""
    done = (Case.select(Case.department, Case.decided_on, Case.deadline)
            .where(Case.decided_on.is_null(False) & Case.deadline.is_null(False)).tuples())
    by_dept: dict = {}
    by_month: dict = {}
    for dept_id, decided, deadline in done:
        for key, bucket in ((dept_id, by_dept), (decided.strftime("%Y-%m"), by_month)):
            row = bucket.setdefault(key, {"handled": 0, "on_time": 0, "early": 0,
                                          "rated": 0, "satisfied": 0})
            row["handled"] += 1
            row["on_time"] += decided <= deadline
            row["early"] += decided < deadline
    ratings = (Evaluation.select(Case.department, Evaluation.at, Evaluation.rating)
               .join(Case).tuples())
    for dept_id, at, rating in ratings:
        for key, bucket in ((dept_id, by_dept), (at.strftime("%Y-%m"), by_month)):
            row = bucket.setdefault(key, {"handled": 0, "on_time": 0, "early": 0,
                                          "rated": 0, "satisfied": 0})
            row["rated"] += 1
            row["satisfied"] += rating >= 3
    names = {d.id: d for d in Department.select().where(Department.id.in_(list(by_dept) or [0]))}
    dept_rows = sorted(((names[k], v) for k, v in by_dept.items() if k in names),
                       key=lambda r: (-r[1]["handled"], r[0].id))
    month_rows = sorted(by_month.items(), reverse=True)[:months]
    return {"departments": dept_rows, "months": month_rows}


def rate(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "—"
