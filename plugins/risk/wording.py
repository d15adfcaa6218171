"""What a person reads for the codes of warnings, reminders, talks, notices,
accountability and evaluation (labels in the page's language), and the audit actions of
those parts (``ql_audit_actions``)."""
from __future__ import annotations

from core.api import _l

WARNING_SOURCE_LABELS = {
    "measure_overdue": _l("Measure past its deadline"),
    "review_overdue": _l("Review overdue"),
    "rectification_overdue": _l("Rectification overdue"),
    "rectification_failed": _l("Rectification failed"),
    "manual": _l("Raised by a supervisor"),
    "signal": _l("Signals from other platforms"),
    "education_overdue": _l("Integrity study overdue"),
}
WARNING_STATE_LABELS = {"open": _l("Open"), "acknowledged": _l("Acknowledged"),
                        "handled": _l("Handled")}
WARNING_STATE_BADGES = {"open": "red", "acknowledged": "yellow", "handled": "ok"}
TARGET_LABELS = {"post": _l("Post"), "person": _l("Person"), "department": _l("Department")}
SIGNAL_SOURCE_LABELS = {"esupervision": _l("E-supervision red signal"),
                        "procurement": _l("Procurement red flag")}
REMINDER_KIND_LABELS = {"site_arrival": _l("Arrival at a project site"),
                        "holiday": _l("Before a holiday"), "rule_date": _l("A date a rule names"),
                        "duty_start": _l("Duty start")}
TALK_KIND_LABELS = {"reminder": _l("Reminder talk (提醒谈话)"),
                    "warning": _l("Warning talk (警示谈话)"),
                    "admonishment": _l("Admonishment talk (诫勉谈话)")}
NOTICE_KIND_LABELS = {"prevention": _l("Risk prevention notice (风险防控通知书)"),
                      "disposal": _l("Risk disposal notice (风险处置通知书)")}
NOTICE_STATE_LABELS = {"issued": _l("Issued, rectification pending"),
                       "reported": _l("Rectification reported"),
                       "accepted": _l("Rectification accepted")}
ACCOUNTABILITY_KIND_LABELS = {"organisational": _l("Organisational handling (组织处理)"),
                              "party": _l("Party discipline (党纪处分)"),
                              "administrative": _l("Administrative sanction (政务处分)")}

MATERIAL_KIND_LABELS = {"text": _l("Study text"),
                        "case": _l("Warning-education case (警示教育案例)"),
                        "document": _l("Document")}

AUDIT_ACTIONS = {
    "risk.warning.raise": _l("Post warning raised"),
    "risk.warning.sweep": _l("Rule warnings raised"),
    "risk.warning.acknowledge": _l("Post warning acknowledged"),
    "risk.warning.handle": _l("Post warning handled"),
    "risk.warning.escalate": _l("Post warning escalated"),
    "risk.warning.repeat": _l("Repeated signals raised a warning's level"),
    "risk.warning.transfer": _l("Post warning transferred as a problem lead"),
    "risk.signal.receive": _l("Signal from another platform received"),
    "risk.signal.close": _l("Signal from another platform closed"),
    "risk.site.save": _l("Project site saved"),
    "risk.checkin": _l("Site check-in"),
    "risk.reminder.send": _l("Reminders sent"),
    "risk.talk.record": _l("Talk recorded"),
    "risk.talk.submit": _l("Self-analysis handed in"),
    "risk.talk.overdue": _l("Self-analysis overdue"),
    "risk.notice.issue": _l("Notice issued"),
    "risk.notice.report": _l("Rectification reported"),
    "risk.notice.assess": _l("Rectification assessed"),
    "risk.notice.template": _l("Notice template saved"),
    "risk.accountability.record": _l("Accountability recorded"),
    "risk.education.material": _l("Education material published"),
    "risk.education.question": _l("Quiz question changed"),
    "risk.education.assign": _l("Education material assigned"),
    "risk.education.close": _l("Education assignment closed"),
    "risk.education.duty_start": _l("Study tasks given on taking up a post"),
    "risk.education.open": _l("Study material opened"),
    "risk.education.acknowledge": _l("Study material acknowledged"),
    "risk.education.quiz": _l("Study quiz answered"),
    "risk.education.overdue": _l("Study tasks overdue"),
    "risk.evaluation.run": _l("Effect evaluation run"),
    "risk.demo.history": _l("Demo history of warnings and reminders loaded"),
}
