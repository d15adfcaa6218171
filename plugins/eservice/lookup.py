"""The public lookup (办件查询) by serial and ID number: limited per client address and per
serial's misses (the core's rate counters), the hot path built once per process."""
from __future__ import annotations

import peewee as pw
from flask import current_app

from core.api import (
    Department,
    FieldError,
    RateLimited,
    _,
    blind_index,
    db,
    hit_many,
    hits,
    record,
    regions_off,
    validate_resident_id,
)
from plugins.eservice.cases import valid_serial
from plugins.eservice.models import ID_PURPOSE, Case, CaseEvent, Item

LOOKUP_BUCKET = "eservice.lookup"
WINDOW_SECONDS = 60


class NoMatch(FieldError):
    """No case has this serial and ID number: the one answer for every miss (404)."""

    def __init__(self, message):
        super().__init__("serial", message, status=404)


def find_case(serial: str, id_number: str, client: str) -> Case | None:
    """The case for a serial + ID number pair, or None — the same None whether the serial is
    unknown, the number is wrong or malformed (no enumeration). Every attempt is audited.

    Limits (settings.public_lookup_per_minute, the core's rate counters): every attempt
    counts against the client's address; only misses count against the serial, and once
    a serial has had too many misses in the minute, only addresses that missed it are
    refused — a flood of guesses from many addresses slows the guessers, not the
    applicant, who has not missed. Refusals answer alike for every serial.

    A case of a region where the plugin is switched off is not found (the lookup, and
    the rating through it, are off there like the rest of the hall).

    The case is read before the write transaction, so the database's write lock is held
    only for the counter upsert and the audit row (concurrent lookups queue on it)."""
    serial = (serial or "").strip().upper()[:32]
    limit = current_app.config["QL_SETTINGS"].public_lookup_per_minute
    case = None
    try:
        number = validate_resident_id(id_number)
    except FieldError:
        number = None
    if number and valid_serial(serial):
        case = _lookup_case(serial, blind_index(number, ID_PURPOSE))
        if case is not None and case.region_id in regions_off("eservice"):
            case = None  # the hall is off for the case's region: its lookup is off too
    address, misses, pair = f"ip:{client}", f"miss:{serial}", f"miss:{serial}|ip:{client}"
    with db.atomic():
        keys = [address] + ([misses, pair] if case is None and serial else [])
        counts = hit_many(LOOKUP_BUCKET, keys, WINDOW_SECONDS)
        if case is None:
            serial_misses, own_misses = counts.get(misses, 0), counts.get(pair, 0) - 1
        else:
            serial_misses = hits(LOOKUP_BUCKET, misses, WINDOW_SECONDS)
            own_misses = hits(LOOKUP_BUCKET, pair, WINDOW_SECONDS)
        limited = counts[address] > limit or (serial_misses > limit and own_misses > 0)
        if limited:
            record("eservice.lookup.limited", object_type="eservice_case", summary=serial,
                   success=False)
        else:
            record("eservice.lookup", object_type="eservice_case",
                   object_id=case.id if case else None, summary=serial,
                   region_id=case.region_id if case else None, success=case is not None)
    if limited:
        raise RateLimited(_("Too many lookups: at most %(n)d a minute. Please wait a minute "
                            "and try again.", n=limit), WINDOW_SECONDS)
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
    """What the applicant sees of the timeline: events and steps with what the hall told
    the applicant (decision, reason, legal basis, rights, missing materials, special
    procedure: ``timeline.public_details``), never notes or names."""
    def build():
        return (CaseEvent.select(CaseEvent.id, CaseEvent.at, CaseEvent.event,
                                 CaseEvent.step_name, CaseEvent.data)
                .where((CaseEvent.case == case.id) & (CaseEvent.public == True))
                .order_by(CaseEvent.at, CaseEvent.id))
    return _fetch(CaseEvent, "timeline", build, case.id, True)
