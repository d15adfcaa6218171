"""The power catalogue (权力事项清单): items (事项), their versions and codes."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

import peewee as pw

from core.api import Department, FieldError, _, db, record, today
from plugins.eservice.models import (
    ITEM_TYPES,
    LEVELS,
    SPECIAL_KINDS,
    Item,
    ItemBasis,
    ItemMaterial,
    ItemSpecial,
    ItemStep,
)


def parse_amount(value, field: str) -> Decimal:
    try:
        amount = Decimal(str(value if value not in (None, "") else "0")).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise FieldError(field, _("Enter an amount such as 12.50.")) from None
    if amount < 0:
        raise FieldError(field, _("The amount cannot be negative."))
    return amount


def check_item(spec: dict) -> dict:
    """Validate an item specification; return it cleaned or raise FieldError naming the field."""
    out = dict(spec)
    name = (spec.get("name") or "").strip()
    if not name or len(name) > 200:
        raise FieldError("name", _("The item name is required (at most 200 characters)."))
    out["name"] = name
    if spec.get("type") not in ITEM_TYPES:
        raise FieldError("type", _("Unknown item type %(t)s; use one of %(known)s.",
                                   t=spec.get("type") or "", known=" ".join(ITEM_TYPES)))
    if spec.get("level", "county") not in LEVELS:
        raise FieldError("level", _("Unknown exercise level %(l)s.", l=spec.get("level")))
    if not isinstance(spec.get("department"), Department):
        raise FieldError("department", _("Choose the implementing department."))
    try:
        statutory = int(spec.get("statutory_days"))
        committed = int(spec.get("committed_days"))
    except (TypeError, ValueError):
        raise FieldError("statutory_days",
                         _("Time limits are whole numbers of working days.")) from None
    if statutory < 1:
        raise FieldError("statutory_days", _("The statutory limit is at least one working day."))
    if not 1 <= committed <= statutory:
        raise FieldError("committed_days",
                         _("The committed limit (%(c)d) must be between 1 and the statutory "
                           "limit (%(s)d) working days.", c=committed, s=statutory))
    out["statutory_days"], out["committed_days"] = statutory, committed
    out["fee_amount"] = parse_amount(spec.get("fee_amount"), "fee_amount")
    if out["fee_amount"] and not (spec.get("fee_basis") or "").strip():
        raise FieldError("fee_basis", _("A charged item needs the legal basis of its fee."))
    steps = spec.get("steps") or []
    if not steps:
        raise FieldError("steps", _("An item needs at least one process step."))
    for s in steps:
        if not (s.get("name") or "").strip() or int(s.get("limit_days") or 0) < 1:
            raise FieldError("steps", _("Each step needs a name and a limit of at least one day."))
    for m in spec.get("materials") or []:
        if not (m.get("name") or "").strip():
            raise FieldError("materials", _("Each material needs a name."))
    for sp in spec.get("specials") or []:
        if sp.get("kind") not in SPECIAL_KINDS:
            raise FieldError("specials", _("Unknown special procedure %(k)s.", k=sp.get("kind")))
    if not isinstance(spec.get("effective_from", today()), dt.date):
        raise FieldError("effective_from", _("Give the effective date as YYYY-MM-DD."))
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
            raise FieldError("code", _("The item code %(c)s exists.", c=code))
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
            raise FieldError("code", _("No item in force has the code %(c)s.", c=code))
        start = spec.get("effective_from") or today()
        if start < current.effective_from:
            raise FieldError("effective_from",
                             _("The new version cannot take effect before the current one."))
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
