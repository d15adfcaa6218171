"""What a reader sees for e-supervision's codes: case statuses, decisions, clocks, events,
supervision states, findings and detector parameters, each a translated label.

Pages call :func:`label` (template global ``esv_label``); the codes stay in the data,
the API and the audit trail."""
from __future__ import annotations

from core.api import _, _l

STATUS = {"received": _l("Received, not yet accepted"), "accepted": _l("Accepted, in progress"),
          "stopped": _l("Clock stopped"), "decided": _l("Decided"),
          "not_accepted": _l("Not accepted"), "closed": _l("Closed")}
DECISION = {"approved": _l("Approved"), "denied": _l("Denied")}
CLOCK = {"acceptance": _l("Acceptance"), "step": _l("Step"), "completion": _l("Completion"),
         "suspension": _l("Special procedure"), "delivery": _l("Delivery of the decision")}
PROCEDURE = {"hearing": _l("Hearing"), "inspection": _l("Inspection"),
             "expert_review": _l("Expert review"), "publicity": _l("Public notice"),
             "other": _l("Other special procedure")}
EVENT = {"submitted": _l("Application received"), "accepted": _l("Accepted"),
         "not_accepted": _l("Not accepted"), "supplement_requested": _l("Supplement requested"),
         "supplement_received": _l("Supplement received"), "step_started": _l("Step started"),
         "step_completed": _l("Step completed"), "suspended": _l("Special procedure started"),
         "resumed": _l("Special procedure ended"), "decided": _l("Decided"),
         "delivered": _l("Decision delivered"), "closed": _l("Closed"),
         "fee_charged": _l("Fee charged"), "evaluated": _l("Rated by the applicant")}
SUPERVISION = {"opened": _l("Opened, to be verified"), "dismissed": _l("Dismissed"),
               "rectifying": _l("Rectification under way"),
               "reported": _l("Rectification reported"), "closed": _l("Closed")}
FINDING = {"confirmed": _l("Signal confirmed"), "dismissed": _l("Signal dismissed")}
PARAM = {"days": _l("Working days allowed"), "min_steps": _l("Steps at least"),
         "minutes": _l("Within minutes"), "late_hours": _l("Hours late at most"),
         "delivery_days": _l("Working days to deliver")}
FIELD = {"reason": _l("reason"), "legal_basis": _l("legal basis"),
         "rights_notice": _l("notice of the applicant's rights")}
CATEGORY = {"process": _l("Process"), "time_limit": _l("Time limits"), "fees": _l("Fees"),
            "conduct": _l("Conduct"), "data": _l("Data reporting"), "other": _l("Other")}
SEVERITY = {"minor": _l("Minor"), "major": _l("Major")}
LETTER = {"issued": _l("Issued, awaiting the reply"), "replied": _l("Reply received"),
          "accepted": _l("Reply accepted, closed"), "returned": _l("Reply returned for more")}

TABLES = {"status": STATUS, "decision": DECISION, "clock": CLOCK, "procedure": PROCEDURE,
          "event": EVENT, "supervision": SUPERVISION, "finding": FINDING, "param": PARAM,
          "field": FIELD, "category": CATEGORY, "severity": SEVERITY, "letter": LETTER}


def label(table: str, code: str | None) -> str:
    """The translated label of ``code`` in ``table``; the code itself when unknown."""
    if not code:
        return ""
    found = TABLES[table].get(code.removeprefix("eservice.case."))
    return str(found) if found is not None else code


def clock_label(kind: str, label_text: str = "", seq: int = 0) -> str:
    """A clock as a reader names it: "Step 2 · 审查", "Special procedure · Hearing",
    "Acceptance" (its own name repeats the kind for acceptance and completion)."""
    name = label("clock", kind)
    if kind == "step":
        name = f"{name} {seq}" if seq else name
        return f"{name} · {label_text}" if label_text else name
    if kind == "suspension" and label_text:
        return f"{name} · {label('procedure', label_text)}"
    return name


def month_label(month: str) -> str:
    """An evaluation month ("2026-11") as a reader writes it: 2026年11月."""
    year, _sep, number = month.partition("-")
    if not (year.isdigit() and number.isdigit()):
        return month
    return _("%(year)d-%(month)02d", year=int(year), month=int(number))
