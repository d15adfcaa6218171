"""What a person reads for the plugin's codes: risk types, register states, measure
states, review outcomes (labels in the page's language)."""
from __future__ import annotations

from core.api import _l

RISK_TYPE_LABELS = {
    "ideology": _l("Ideology and morals (思想道德)"),
    "system": _l("Systems and mechanisms (制度机制)"),
    "duty": _l("Post duties (岗位职责)"),
    "process": _l("Business processes (业务流程)"),
    "external": _l("External environment (外部环境)"),
}
# the Chinese names an import may use instead of the codes
RISK_TYPE_NAMES = {"思想道德": "ideology", "制度机制": "system", "岗位职责": "duty",
                   "业务流程": "process", "外部环境": "external"}
REGISTER_STATE_LABELS = {
    "draft": _l("Draft"), "submitted": _l("Submitted for review"),
    "returned": _l("Returned for changes"), "approved": _l("In force"),
    "superseded": _l("Superseded"),
}
REGISTER_STATE_BADGES = {"draft": "neutral", "submitted": "yellow", "returned": "red",
                         "approved": "ok", "superseded": "neutral"}
MEASURE_STATE_LABELS = {"planned": _l("Planned"), "in_progress": _l("In progress"),
                        "done": _l("Done"), "cancelled": _l("Cancelled")}
REVIEW_OUTCOME_LABELS = {"unchanged": _l("Still accurate"),
                         "changes_needed": _l("Changes needed (open a new version)")}
RULE_STATUS_LABELS = {"in_force": _l("In force"), "repealed": _l("Repealed"),
                      "pending": _l("Not yet in force")}
FIELD_LABELS = {
    "code": _l("Code"), "post": _l("Post"), "duty": _l("Duty (职权事项)"),
    "power_code": _l("Power item code"), "description": _l("Risk description"),
    "risk_type": _l("Risk type"), "likelihood": _l("Likelihood"), "impact": _l("Impact"),
    "criteria": _l("Criteria met"), "level": _l("Level"),
    "reminder_text": _l("Reminder text"), "leader": _l("Responsible leader"),
    "owner": _l("Responsible person"), "supervisor": _l("Supervisor"),
    "measures": _l("Prevention measures"),
}
