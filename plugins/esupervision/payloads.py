"""Validation of case-event payloads (the contract of docs/events.md).

Every error names the field (dotted path) so a source system can fix its sender; a
payload with any error is rejected whole.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

EVENT_NAMES = ("submitted", "accepted", "not_accepted", "supplement_requested",
               "supplement_received", "step_started", "step_completed", "suspended",
               "resumed", "decided", "delivered", "closed", "fee_charged", "evaluated")
PREFIX = "eservice.case."
ITEM_TYPES = ("XK", "CF", "QZ", "ZS", "GF", "JC", "QR", "JL", "CJ", "QT", "GG")
PROCEDURES = ("hearing", "inspection", "expert_review", "publicity", "other")


class PayloadError(ValueError):
    """A payload breaks the event contract; ``errors`` maps field paths to messages."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def parse_time(value) -> dt.datetime:
    """ISO 8601 with a zone (or ``Z``) -> naive UTC."""
    if not isinstance(value, str):
        raise ValueError("expected an ISO 8601 date-time string")  # noqa: TRY004
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("not an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        raise ValueError("a time zone is required (e.g. 'Z')")
    return parsed.astimezone(dt.UTC).replace(tzinfo=None)


def parse_money(value) -> Decimal:
    if not isinstance(value, str):
        raise ValueError("expected a decimal string such as \"12.00\"")  # noqa: TRY004
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise ValueError("not a decimal number") from None
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise ValueError("expected a non-negative amount with at most 2 decimals")
    return amount


class _Check:
    def __init__(self):
        self.errors: dict[str, str] = {}

    def get(self, obj: dict, key: str, path: str, kind, required: bool = True,
            choices=None, minimum=None, maximum=None):
        value = obj.get(key) if isinstance(obj, dict) else None
        if value is None:
            if required:
                self.errors[path] = "is required"
            return None
        ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
        if not ok:
            names = {str: "a string", int: "an integer", dict: "an object", list: "a list",
                     bool: "true or false"}
            self.errors[path] = f"must be {names.get(kind, kind.__name__)}"
            return None
        if kind is str and not value.strip() and required:
            self.errors[path] = "must not be empty"
            return None
        if choices is not None and value not in choices:
            self.errors[path] = "must be one of " + ", ".join(map(str, choices))
            return None
        if minimum is not None and value < minimum:
            self.errors[path] = f"must be at least {minimum}"
            return None
        if maximum is not None and value > maximum:
            self.errors[path] = f"must be at most {maximum}"
            return None
        return value

    def convert(self, path: str, value, func):
        if value is None:
            return None
        try:
            return func(value)
        except ValueError as exc:
            self.errors[path] = str(exc)
            return None


def validate(payload) -> dict:
    """Check ``payload``; return a normalised copy (times naive UTC, money Decimal).

    Raises PayloadError naming every bad field."""
    c = _Check()
    if not isinstance(payload, dict):
        raise PayloadError({"": "the body must be a JSON object"})
    out: dict = {}
    out["event_id"] = c.get(payload, "event_id", "event_id", str)
    if out["event_id"] and len(out["event_id"]) > 100:
        c.errors["event_id"] = "must be at most 100 characters"
    name = c.get(payload, "event", "event", str,
                 choices=[PREFIX + n for n in EVENT_NAMES])
    out["event"] = name
    out["short"] = name[len(PREFIX):] if name else None
    out["occurred_at"] = c.convert("occurred_at",
                                   c.get(payload, "occurred_at", "occurred_at", str),
                                   parse_time)
    out["source"] = c.get(payload, "source", "source", str, required=False)
    case = c.get(payload, "case", "case", dict)
    if case is not None:
        oc: dict = {}
        for key, size in (("serial", 64), ("region_code", 12), ("department_code", 16),
                          ("item_code", 64)):
            oc[key] = c.get(case, key, f"case.{key}", str)
            if oc[key] and len(oc[key]) > size:
                c.errors[f"case.{key}"] = f"must be at most {size} characters"
        oc["department_name"] = c.get(case, "department_name", "case.department_name", str,
                                      required=False) or ""
        oc["item_name"] = c.get(case, "item_name", "case.item_name", str, required=False) or ""
        oc["item_type"] = c.get(case, "item_type", "case.item_type", str, choices=ITEM_TYPES)
        oc["item_version"] = c.get(case, "item_version", "case.item_version", int,
                                   required=False, minimum=1) or 1
        oc["statutory_limit_days"] = c.get(case, "statutory_limit_days",
                                           "case.statutory_limit_days", int, minimum=1,
                                           maximum=3650)
        oc["committed_limit_days"] = c.get(case, "committed_limit_days",
                                           "case.committed_limit_days", int, minimum=1,
                                           maximum=3650)
        if (oc["statutory_limit_days"] and oc["committed_limit_days"]
                and oc["committed_limit_days"] > oc["statutory_limit_days"]):
            c.errors["case.committed_limit_days"] = "must not exceed statutory_limit_days"
        oc["fee_due"] = c.convert("case.fee_due", c.get(case, "fee_due", "case.fee_due", str),
                                  parse_money)
        oc["submitted_at"] = c.convert(
            "case.submitted_at", c.get(case, "submitted_at", "case.submitted_at", str),
            parse_time)
        oc["channel"] = c.get(case, "channel", "case.channel", str, required=False,
                              choices=("window", "online")) or "window"
        handler = c.get(case, "handler", "case.handler", dict, required=False) or {}
        oc["handler_username"] = c.get(handler, "username", "case.handler.username", str,
                                       required=False) or ""
        oc["handler_post_id"] = c.get(handler, "post_id", "case.handler.post_id", int,
                                      required=False)
        out["case"] = oc
    short = out["short"]
    step = c.get(payload, "step", "step", dict, required=short in ("step_started",
                                                                  "step_completed"))
    if step is not None:
        out["step"] = {
            "seq": c.get(step, "seq", "step.seq", int, minimum=1),
            "code": c.get(step, "code", "step.code", str, required=False) or "",
            "name": c.get(step, "name", "step.name", str, required=False) or "",
            "limit_days": c.get(step, "limit_days", "step.limit_days", int,
                                required=short == "step_started", minimum=0, maximum=3650),
            "post_id": c.get(step, "post_id", "step.post_id", int, required=False),
        }
    else:
        out["step"] = None
    out["reason"] = c.get(payload, "reason", "reason", str, required=False)
    out["legal_basis"] = c.get(payload, "legal_basis", "legal_basis", str, required=False)
    notice = payload.get("rights_notice")
    if notice is not None and not isinstance(notice, (bool, str)):
        c.errors["rights_notice"] = "must be true/false or a text"
    out["rights_notice"] = notice
    proc = c.get(payload, "procedure", "procedure", dict, required=False)
    if proc is not None:
        out["procedure"] = {
            "kind": c.get(proc, "kind", "procedure.kind", str, choices=PROCEDURES),
            "expected_days": c.get(proc, "expected_days", "procedure.expected_days", int,
                                   minimum=1, maximum=3650),
        }
    else:
        out["procedure"] = None
    out["decision"] = c.get(payload, "decision", "decision", str,
                            required=short == "decided", choices=("approved", "denied"))
    out["fee_charged"] = c.convert(
        "fee_charged", c.get(payload, "fee_charged", "fee_charged", str,
                             required=short == "fee_charged"), parse_money)
    out["rating"] = c.get(payload, "rating", "rating", int, required=short == "evaluated",
                          minimum=1, maximum=5)
    materials = c.get(payload, "missing_materials", "missing_materials", list, required=False)
    if materials is not None and not all(isinstance(m, str) for m in materials):
        c.errors["missing_materials"] = "must be a list of strings"
    out["missing_materials"] = materials
    deadline = payload.get("deadline")
    if deadline is not None:
        try:
            dt.date.fromisoformat(deadline) if isinstance(deadline, str) else 1 / 0
        except (ValueError, ZeroDivisionError):
            c.errors["deadline"] = "must be a date YYYY-MM-DD or null"
    if c.errors:
        raise PayloadError(c.errors)
    return out
