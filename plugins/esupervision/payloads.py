"""Validation of case-event payloads (the contract of docs/events.md): the JSON Schema
shipped beside this module, ``event.schema.json``, is the validator — the same file source
systems are given (docs/esupervision-api.md) — and what a schema cannot say (a zone-aware
time that exists, a committed limit within the statutory one) is checked after it.

Every error names the field (dotted path) so a source system can fix its sender; a
payload with any error is rejected whole.
"""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal, InvalidOperation
from pathlib import Path

from core.api import FieldError, check_schema

SCHEMA = json.loads((Path(__file__).parent / "event.schema.json").read_text(encoding="utf-8"))
PREFIX = "eservice.case."


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


def _at(payload, path: str):
    """The value at a dotted path (``case.serial``, ``missing_materials.0``), None when
    absent."""
    value = payload
    for part in path.split("."):
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def validate(payload) -> dict:
    """Check ``payload`` against the shipped schema (``event.schema.json``, the contract
    source systems validate against too), then normalise a copy: times naive UTC, money
    Decimal, defaults filled. Raises PayloadError naming every bad field; a field that
    must be there but is absent or null reads "is required"."""
    if not isinstance(payload, dict):
        raise PayloadError({"": "the body must be a JSON object"})
    try:
        check_schema(payload, SCHEMA)
    except FieldError as exc:
        raise PayloadError({path: "is required" if path and _at(payload, path) is None
                            else message for path, message in exc.errors.items()}) from None
    return normalise(payload)


def normalise(payload: dict) -> dict:
    """The normalised copy of a payload the schema accepts (and of a stored event, which
    passed it when it was received: replays skip the schema, the costly part)."""
    errors: dict[str, str] = {}

    def convert(path: str, func):
        value = _at(payload, path)
        if value is None:
            return None
        try:
            return func(value)
        except ValueError as exc:
            errors[path] = str(exc)
            return None

    case, step, proc = payload["case"], payload.get("step"), payload.get("procedure")
    handler = case.get("handler") or {}
    out = {key: payload.get(key) for key in (
        "event_id", "event", "source", "reason", "legal_basis", "rights_notice", "decision",
        "rating", "missing_materials")}
    out["short"] = payload["event"][len(PREFIX):]
    out["occurred_at"] = convert("occurred_at", parse_time)
    out["case"] = {
        **{key: case[key] for key in ("serial", "region_code", "department_code", "item_code",
                                      "item_type", "statutory_limit_days",
                                      "committed_limit_days")},
        "department_name": case.get("department_name") or "",
        "item_name": case.get("item_name") or "",
        "item_version": case.get("item_version") or 1,
        "fee_due": convert("case.fee_due", parse_money),
        "submitted_at": convert("case.submitted_at", parse_time),
        "channel": case.get("channel") or "window",
        "handler_username": handler.get("username") or "",
        "handler_post_id": handler.get("post_id"),
    }
    if case["committed_limit_days"] > case["statutory_limit_days"]:
        errors["case.committed_limit_days"] = "must not exceed statutory_limit_days"
    out["step"] = None if step is None else {
        "seq": step["seq"], "code": step.get("code") or "", "name": step.get("name") or "",
        "limit_days": step.get("limit_days"), "post_id": step.get("post_id")}
    out["procedure"] = None if proc is None else {"kind": proc["kind"],
                                                  "expected_days": proc["expected_days"]}
    out["fee_charged"] = convert("fee_charged", parse_money)
    convert("deadline", dt.date.fromisoformat)
    if errors:
        raise PayloadError(errors)
    return out
