"""Cases (办件): filing at the window, the state machine with its working-day deadline,
the case events published to other plugins, and revealing the ID number."""
from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal

import peewee as pw

from core.api import (
    Department,
    FieldError,
    Post,
    PostHolding,
    StoredFile,
    _,
    add_workdays,
    blind_index,
    db,
    is_postgres,
    mask_resident_id,
    normalize_phone,
    parse_int,
    publish,
    record,
    today,
    utcnow,
    validate_resident_id,
    workdays_between,
    workdays_left,
)
from plugins.eservice import delegation as delegations
from plugins.eservice.catalogue import parse_amount
from plugins.eservice.models import (
    ID_PURPOSE,
    SPECIAL_KINDS,
    SPECIAL_MAX_DAYS,
    Case,
    CaseEvent,
    CaseMaterial,
    Item,
    ItemMaterial,
    ItemStep,
)

SERIAL_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXY"
ACCEPT_DAYS = 5  # 受理时限: decide on acceptance within 5 working days of receipt


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
                        & (PostHolding.end.is_null(True) | (PostHolding.end >= today())))
                 .order_by(Post.id))
    for p in posts:
        if department is not None and p.department_id == department.id:
            return p
    return posts[0] if posts else None


def file_case(item: Item, *, applicant_name: str, id_number: str, phone: str = "",
              channel: str = "window", received: list[int] | None = None, user=None,
              note: str = "", on: dt.date | None = None,
              files: dict[int, StoredFile] | None = None) -> Case:
    """File a case (收件) for an item in force: validates the applicant and records the
    materials checklist (``received`` and ``files`` keyed by the item's material ids; a
    material with a file counts as received). The acceptance clock starts: accept, refuse
    or ask for a supplement within ``ACCEPT_DAYS`` working days of receipt (``accept_by``);
    the completion clock starts at acceptance."""
    if item.status != "active":
        raise FieldError("item", _("The item %(c)s is not in force.", c=item.code))
    name = (applicant_name or "").strip()
    if not name or len(name) > 64:
        raise FieldError("applicant_name", _("The applicant's name is required."))
    try:
        phone = normalize_phone(phone, "phone") if (phone or "").strip() else None
        number = validate_resident_id(id_number, "id_number")
    except FieldError as exc:
        raise FieldError(exc.field, exc.message) from None
    if channel not in ("window", "online"):
        raise FieldError("channel", _("Unknown channel."))
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
                        id_number=number, id_hash=blind_index(number, ID_PURPOSE),
                        id_mask=mask_resident_id(number), fee_due=item.fee_amount,
                        handler=user.id if channel == "window" and user else None,
                        created_by=user.id if user else None,
                        submitted_at=utcnow() if on is None else
                        dt.datetime.combine(day, dt.time(1, 0)),
                        accept_by=add_workdays(day, ACCEPT_DAYS))
                break
            except pw.IntegrityError:
                continue
        else:
            raise FieldError("", _("Could not number the case; please retry."))
        files = files or {}
        rows = [{"case": case.id, "name": m.name, "required": m.required,
                 "received": m.id in received_ids or m.id in files,
                 "file": files[m.id].id if m.id in files else None}
                for m in item.materials.order_by(ItemMaterial.seq)]
        if rows:
            CaseMaterial.insert_many(rows).execute()
        _log(case, "submitted", "", "submitted", user, note=note, at=case.submitted_at)
        record("eservice.case.submitted", object_type="eservice_case", object_id=case.id,
               summary=case.serial, region_id=case.region_id, user=user)
        publish_event("submitted", case, user, at=case.submitted_at if on is not None else None)
    return case


# The rights a denial tells the applicant of when the clerk states none (行政许可法第三十八条;
# 行政复议法第二十条: 60 days; 行政诉讼法第四十六条: 6 months). Document text in the
# official language, stored with the decision as notified, not a label of the interface.
RIGHTS_NOTICE = ("如不服本决定，可以自收到本决定之日起六十日内依法申请行政复议，"
                 "或者自收到本决定之日起六个月内依法向人民法院提起行政诉讼。")

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


def current_step_posts(rows: list[Case]) -> dict[int, str]:
    """{case id: the post title its current step is assigned to} for the cases of ``rows``
    under review (or suspended in review) whose current step names a post; one query."""
    pending = [c for c in rows if c.state in ("in_review", "suspended") and c.step_seq is not None]
    if not pending:
        return {}
    steps = {(item, seq): title.strip() for item, seq, title in
             ItemStep.select(ItemStep.item, ItemStep.seq, ItemStep.post_title)
             .where(ItemStep.item.in_({c.item_id for c in pending})).tuples()}
    return {c.id: steps[(c.item_id, c.step_seq)] for c in pending
            if steps.get((c.item_id, c.step_seq))}


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


# -- the deadline rule: one for the worklist, the case page, the widget and the lookup ----
FINISHED_STATES = ("decided", "delivered", "closed", "not_accepted")


def due(case: Case) -> dt.date | None:
    """The day the case's running time limit ends: the completion deadline once accepted,
    before that the day by which acceptance must be decided (受理时限, ``accept_by``)."""
    return case.deadline or case.accept_by


def clock_day(case: Case, on: dt.date | None = None) -> dt.date:
    """The day the case's clock stands at: the decision day once decided, the day it
    stopped while stopped (补正, 特别程序: not counted, 行政许可法 Art. 45), else ``on``."""
    return case.decided_on or case.stopped_since or on or today()


def remaining_days(case: Case, on: dt.date | None = None) -> int | None:
    """Working days left until the time limit (negative when late); frozen while stopped."""
    if due(case) is None:
        return None
    return workdays_between(clock_day(case, on), due(case))


def remaining_many(rows: list[Case], on: dt.date) -> dict[int, int | None]:
    """``remaining_days`` of many cases with one calendar query."""
    left = workdays_left({c.id: (clock_day(c, on), due(c)) for c in rows if due(c)})
    return {c.id: left.get(c.id) for c in rows}


def is_overdue(case: Case, on: dt.date | None = None) -> bool:
    """Past the time limit: decided after it, stopped after it, or still running after it
    (a case still waiting for acceptance past ``accept_by`` is late too)."""
    return due(case) is not None and clock_day(case, on) > due(case)


def urgency(case: Case, days: int | None, on: dt.date | None = None) -> str:
    """The colour of a case (worklist row, case page): red when overdue — also once
    decided late —, yellow with two working days or fewer left, neutral when there is no
    running clock."""
    if due(case) is None or case.state == "not_accepted":
        return "neutral"
    if is_overdue(case, on):
        return "red"
    if case.state in FINISHED_STATES or days is None:
        return "neutral"
    return "yellow" if days <= 2 else "ok"


def overdue_condition(on: dt.date):
    """``is_overdue`` as SQL, for counting many cases (the dashboard widget)."""
    stands = pw.fn.COALESCE(Case.decided_on, Case.stopped_since, on)
    limit = pw.fn.COALESCE(Case.deadline, Case.accept_by)
    return limit.is_null(False) & (stands > limit)


def due_soon_condition(on: dt.date):
    """Running clocks (not decided, not stopped) due within two working days of ``on``."""
    return (Case.decided_on.is_null() & Case.stopped_since.is_null()
            & pw.fn.COALESCE(Case.deadline, Case.accept_by).between(on, add_workdays(on, 2)))


def transition(case: Case, action: str, *, user=None, note: str = "", reason: str = "",
               legal_basis: str = "", rights_notice: str = "", missing: list[str] | None = None,
               decision: str = "", procedure: str = "", expected_days: int | None = None,
               amount=None, on: dt.date | None = None) -> Case:
    """Move a case (办件) by one action, recording actor, post, time and note, auditing it
    and publishing its event — or refuse with a clear message and change nothing."""
    if action not in TRANSITIONS:
        raise FieldError("action", _("Unknown action %(a)s.", a=action))
    day = on or today()
    at = None if on is None else dt.datetime.combine(day, dt.time(2))  # 10:00 in Beijing
    with db.atomic():
        case = Case.select().where(Case.id == case.id).for_update().get() \
            if _for_update() else Case.get_by_id(case.id)
        if action not in allowed_actions(case):
            raise FieldError("action",
                             _("A case that is %(state)s cannot be moved by “%(action)s”.",
                               state=str(case.state_label), action=ACTION_LABELS[action]()))
        _sources, event, target = TRANSITIONS[action]
        previous = case.state
        extra: dict = {}
        steps = _steps(case)
        reason = (reason or "").strip()
        if action == "accept":
            missing_now = [m.name for m in case.materials if m.required and not m.received]
            if missing_now:
                raise FieldError("action", _("Required materials are missing: %(m)s. Request a "
                                             "supplement instead.", m="; ".join(missing_now)))
            case.accepted_on, case.accept_by = day, None
            case.deadline = compute_deadline(case)
            if case.handler_id is None and user is not None:
                case.handler = user.id
        elif action == "not_accept":
            if not reason:
                raise FieldError("reason", _("Give the reason for not accepting."))
            if not (rights_notice or "").strip():
                raise FieldError("rights_notice",
                                 _("State the applicant's rights to administrative review "
                                   "and litigation."))
            extra = {"reason": reason, "legal_basis": legal_basis.strip() or None,
                     "rights_notice": rights_notice.strip()}
            case.decided_on, case.accept_by = day, None
        elif action == "request_supplement":
            items = [m.strip() for m in (missing or []) if m and m.strip()]
            if not items:
                raise FieldError("missing", _("List everything that is missing, at once."))
            extra = {"reason": reason or None, "missing_materials": items}
            _stop_clock(case, day)
            case.accept_by = None  # the applicant's time: acceptance waits for the materials
            names = set(items)
            CaseMaterial.update(received=False).where(
                (CaseMaterial.case == case.id) & CaseMaterial.name.in_(names)).execute()
        elif action == "receive_supplement":
            CaseMaterial.update(received=True).where(CaseMaterial.case == case.id).execute()
            extra = {"stopped_days": _restart_clock(case, day)}
            if case.accepted_on is None:  # complete at last: the acceptance clock starts again
                case.accept_by = add_workdays(day, ACCEPT_DAYS)
        elif action == "start_review":
            case.step_seq = case.step_seq or (steps[0].seq if steps else None)
        elif action == "advance":
            current = next(s for s in steps if s.seq == case.step_seq)
            following = next(s for s in steps if s.seq > current.seq)
            post, delegated = delegations.step_authority(case, current, user, day)
            _log(case, "step_completed", previous, "in_review", user, note=note, step=current,
                 at=at, post=post, data=_delegation_data(delegated))
            record("eservice.case.step_completed", object_type="eservice_case",
                   object_id=case.id, summary=f"{case.serial} {current.name}"
                   + (f" (delegation {delegated.id})" if delegated else ""),
                   region_id=case.region_id, user=user)
            publish_event("step_completed", case, user, step=current, at=at)
            case.step_seq = following.seq
            event = "step_started"
        elif action == "suspend":
            if procedure not in SPECIAL_KINDS:
                raise FieldError("procedure", _("Choose the special procedure."))
            if not reason:
                raise FieldError("reason", _("Give the reason for the special procedure."))
            try:  # the event contract's range (docs/events.md), with or without supervision
                days = parse_int(expected_days, "expected_days", min=1,
                                 max=SPECIAL_MAX_DAYS)
            except FieldError:
                raise FieldError("expected_days", _(
                    "Give the expected length in working days (1 to %(n)d).",
                    n=SPECIAL_MAX_DAYS)) from None
            extra = {"reason": reason, "procedure": {"kind": procedure, "expected_days": days}}
            _stop_clock(case, day)
        elif action == "resume":
            extra = {"stopped_days": _restart_clock(case, day)}
        elif action == "decide":
            if decision not in ("approved", "denied"):
                raise FieldError("decision", _("Choose approved or denied."))
            if decision == "denied" and not reason:
                raise FieldError("reason", _("A denial needs its reason."))
            current = next((s for s in steps if s.seq == case.step_seq), None)
            if current is not None:
                post, delegated = delegations.step_authority(case, current, user, day)
                _log(case, "step_completed", previous, "in_review", user, step=current, at=at,
                     post=post, data=_delegation_data(delegated))
                publish_event("step_completed", case, user, step=current, at=at)
            case.decision, case.decided_on = decision, day
            extra = {"decision": decision, "reason": reason or None,
                     "legal_basis": legal_basis.strip() or None}
            if decision == "denied":  # 行政许可法第三十八条: the denial tells the rights
                extra["rights_notice"] = (rights_notice or "").strip() or RIGHTS_NOTICE
        elif action == "close":
            case.closed_at = utcnow() if on is None else dt.datetime.combine(day, dt.time(9))
        elif action == "charge_fee":
            amount_dec = parse_amount(amount, "amount")
            if amount_dec <= 0:
                raise FieldError("amount", _("Enter the amount charged."))
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
        publish_event(event, case, user, step=step, at=at, **extra)
    return case


def _for_update() -> bool:
    return is_postgres()


def _delegation_data(delegated) -> dict | None:
    """What a step completed under a delegation (委托) records on the timeline."""
    if delegated is None:
        return None
    grantor = delegated.delegator
    return {"delegation": {"id": delegated.id, "post": delegated.post.title,
                           "delegator": grantor.username,
                           "valid_from": delegated.valid_from.isoformat(),
                           "valid_until": delegated.valid_until.isoformat()}}


def _log(case: Case, event: str, state_from: str, state_to: str, user, *, note: str = "",
         reason: str = "", step: ItemStep | None = None, data: dict | None = None,
         at: dt.datetime | None = None, public: bool = True,
         post: Post | None = None) -> CaseEvent:
    post = post or acting_post(user, case.department)
    return CaseEvent.create(
        case=case, at=at or utcnow(), event=event, state_from=state_from, state_to=state_to,
        step_seq=step.seq if step else None, step_name=step.name if step else "",
        actor=user.id if user else None, actor_name=getattr(user, "username", "") or "",
        post=post, post_title=post.title if post else "", reason=reason, note=note or "",
        data=json.dumps(data, ensure_ascii=False, default=str) if data else "", public=public)


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


def publish_event(event: str, case: Case, user, *, step: ItemStep | None = None,
             at: dt.datetime | None = None, **extra) -> None:
    publish(f"eservice.case.{event}", event_payload(event, case, user, step=step, at=at,
                                                    **extra))


# actions that complete the current step: only its post's holder or a delegate (委托)
STEP_HOLDER_ACTIONS = ("advance", "decide")

ACTION_LABELS = {
    "accept": lambda: _("Accept"), "not_accept": lambda: _("Do not accept"),
    "request_supplement": lambda: _("Request a supplement"),
    "receive_supplement": lambda: _("Supplement received"),
    "start_review": lambda: _("Start review"), "advance": lambda: _("Complete step"),
    "suspend": lambda: _("Start a special procedure"), "resume": lambda: _("Resume"),
    "decide": lambda: _("Decide"), "deliver": lambda: _("Deliver"), "close": lambda: _("Close"),
    "charge_fee": lambda: _("Record fee charged"),
}


def case_materials(case: Case) -> list[CaseMaterial]:
    """The case's materials checklist with the uploaded files' rows (one query)."""
    return list(CaseMaterial.select(CaseMaterial, StoredFile)
                .join(StoredFile, pw.JOIN.LEFT_OUTER, on=(CaseMaterial.file == StoredFile.id))
                .where(CaseMaterial.case == case.id).order_by(CaseMaterial.id))


def material_file(case: Case, material_id: int) -> StoredFile | None:
    """The file uploaded for one of ``case``'s materials (None if it has none)."""
    material = (CaseMaterial.select(CaseMaterial, StoredFile).join(StoredFile)
                .where((CaseMaterial.id == material_id) & (CaseMaterial.case == case.id))
                .first())
    return material.file if material is not None else None


def reveal_id(case: Case, user) -> str:
    """The full ID number, for a user allowed to see it; every reveal is audited."""
    with db.atomic():
        record("eservice.id.view", object_type="eservice_case", object_id=case.id,
               summary=case.serial, region_id=case.region_id, user=user)
    return case.id_number


# -- the calendar re-numbered (core.calendar.changed) -----------------------------------
def calendar_changed(payload: dict) -> list[Case]:
    """Working days changed (an official schedule replaced a provisional year, a ruling):
    each open case whose deadline runs over a changed day keeps the deadline it was told
    on its acceptance notice (受理通知书) — the applicant relies on that date — and its
    timeline and the audit trail record the date the new calendar would give. Returns the
    cases whose deadline was kept."""
    first, last = dt.date.fromisoformat(payload["first"]), dt.date.fromisoformat(payload["last"])
    rows = (Case.select(Case, Item).join(Item)
            .where(Case.deadline.is_null(False) & Case.decided_on.is_null()
                   & (Case.accepted_on <= last) & (Case.deadline >= first)))
    kept = []
    for case in rows:
        renumbered = compute_deadline(case)
        if renumbered == case.deadline:
            continue
        data = {"deadline": case.deadline.isoformat(), "renumbered": renumbered.isoformat(),
                "calendar_change": payload["change_id"]}
        _log(case, "deadline_kept", case.state, case.state, None, data=data, public=False)
        record("eservice.case.deadline_kept", object_type="eservice_case", object_id=case.id,
               region_id=case.region_id,
               summary=f"{case.serial}: deadline {case.deadline} kept as communicated; the "
                       f"re-numbered calendar gives {renumbered}")
        kept.append(case)
    return kept
