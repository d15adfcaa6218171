"""The case timeline as a person reads it: each event's recorded details (``CaseEvent.data``,
JSON kept for the record and the events) turned into labelled lines in the reader's
language — never the raw JSON or a state code."""
from __future__ import annotations

import json

from core.api import _, _l
from plugins.eservice.models import CASE_STATES, SPECIAL_KINDS

DECISIONS = {"approved": _l("Approved (准予)"), "denied": _l("Denied (不予)")}
DETAIL_LABELS = {
    "decision": _l("Decision"), "reason": _l("Reason"), "legal_basis": _l("Legal basis"),
    "rights_notice": _l("Rights to review and litigation"),
    "missing_materials": _l("Missing materials"), "procedure": _l("Special procedure"),
    "stopped_days": _l("Working days the clock stood still"),
    "fee_charged": _l("Amount charged (yuan)"), "deadline": _l("Deadline kept"),
    "renumbered": _l("The new calendar would give"),
    "delegation": _l("Under delegation (委托)"),
}


def state_label(code: str) -> str:
    return str(CASE_STATES.get(code, code)) if code else ""


def details(raw: str) -> list[tuple[str, str]]:
    """(label, value) lines of an event's recorded data, in a fixed order; unknown keys
    are left out (they are for the record, not for the reader)."""
    if not raw:
        return []
    try:
        data = json.loads(raw)
    except ValueError:
        return []
    if not isinstance(data, dict):
        return []
    out = []
    for key, label in DETAIL_LABELS.items():
        value = data.get(key)
        if value in (None, "", [], 0):
            continue
        if key == "decision":
            text = str(DECISIONS.get(value, value))
        elif key == "missing_materials":
            text = "; ".join(str(v) for v in value) if isinstance(value, list) else str(value)
        elif key == "delegation" and isinstance(value, dict):
            text = _("from %(who)s, post %(post)s, valid %(a)s to %(b)s",
                     who=value.get("delegator", ""), post=value.get("post", ""),
                     a=value.get("valid_from", ""), b=value.get("valid_until", ""))
        elif key == "procedure" and isinstance(value, dict):
            kind = str(SPECIAL_KINDS.get(value.get("kind"), value.get("kind") or ""))
            days = value.get("expected_days")
            text = _("%(kind)s, expected %(n)d working days", kind=kind, n=int(days)) \
                if isinstance(days, int) else kind
        else:
            text = str(value)
        out.append((str(label), text))
    return out



# What an event's record tells the applicant — what the hall notified them of in writing
# (准予/不予决定书, 不予受理告知书, 补正告知书, the special procedure's kind and length) —
# never the clerk's notes, a suspension's internal reason or internal figures.
PUBLIC_DETAILS = {
    "decided": ("decision", "reason", "legal_basis", "rights_notice"),
    "not_accepted": ("reason", "legal_basis", "rights_notice"),
    "supplement_requested": ("missing_materials", "reason"),
    "suspended": ("procedure",),
}


def public_details(raw: str, event: str) -> list[tuple[str, str]]:
    """The lines of ``details`` an applicant reads on the public progress page."""
    shown = {str(DETAIL_LABELS[k]) for k in PUBLIC_DETAILS.get(event, ())}
    return [(label, text) for label, text in details(raw) if label in shown] if shown else []


def latest_public(events, event: str) -> list[tuple[str, str]]:
    """The public details of the newest ``event`` among ``events`` (e.g. the decision)."""
    for e in reversed(list(events)):
        if e.event == event:
            return public_details(e.data, event)
    return []
