"""The alert kinds of risk prevention (``ql_alert_kinds``) and how their alerts read.

A warning's alert is raised at the bus level its warning level names
(``config.levels``: 蓝 → reminder, 黄 → yellow, 红 → red); a site-arrival reminder always
goes by SMS (the kind's forced channel) besides the inbox."""
from __future__ import annotations

from flask import url_for

from core.api import _, _l
from plugins.risk import config

WARNING = "risk.warning"
SITE_ARRIVAL = "risk.reminder.site_arrival"
HOLIDAY = "risk.reminder.holiday"
RULE_DATE = "risk.reminder.rule_date"
DUTY_START = "risk.reminder.duty_start"
TALK_OVERDUE = "risk.talk.overdue"
EDUCATION_OVERDUE = "risk.education.overdue"
REMINDER_KINDS = {"site_arrival": SITE_ARRIVAL, "holiday": HOLIDAY, "rule_date": RULE_DATE,
                  "duty_start": DUTY_START}


def _warning_subject(details: dict) -> str | None:
    label = details.get("label")
    if not label or not details.get("subject"):
        return None
    return f"{config.label(label)}: {details['subject']}"


def _reminder_subject(details: dict) -> str | None:
    return details.get("text") or None


def _talk_subject(details: dict) -> str | None:
    return _("Self-analysis after the talk of %(day)s not handed in (due %(due)s)",
             day=details["held_on"], due=details["due"])


def _education_subject(details: dict) -> str | None:
    if not details.get("title"):
        return None
    return _("Integrity study “%(title)s” not completed (due %(due)s)",
             title=details["title"], due=details.get("due", ""))


def _link(ref: str) -> str | None:
    kind, _sep, ident = ref.partition(":")
    if kind == "risk.warning":
        return url_for("risk_warnings.detail", warning_id=int(ident))
    if kind == "risk.talk":
        return url_for("risk_talks.talk", talk_id=int(ident))
    if kind == "risk.education":
        return url_for("risk_education.task", task_id=int(ident))
    if kind == "risk.reminder":
        return url_for("risk_reminders.log")
    return None


def alert_kinds() -> list[dict]:
    return [
        {"code": WARNING, "label": _l("Post warning (岗位预警)"), "level": "yellow",
         "escalate_after_hours": 48, "subject": _warning_subject, "link": _link},
        {"code": SITE_ARRIVAL, "label": _l("Reminder on arrival at a project site"),
         "level": "reminder", "escalate_after_hours": 0, "channels": ["sms"],
         "subject": _reminder_subject, "link": _link},
        {"code": HOLIDAY, "label": _l("Integrity reminder before a holiday (节前廉政提醒)"),
         "level": "reminder", "escalate_after_hours": 0, "subject": _reminder_subject,
         "link": _link},
        {"code": RULE_DATE, "label": _l("Reminder of a date a rule names"),
         "level": "reminder", "escalate_after_hours": 0, "subject": _reminder_subject,
         "link": _link},
        {"code": DUTY_START, "label": _l("Risk points of a post taken up"),
         "level": "reminder", "escalate_after_hours": 0, "subject": _reminder_subject,
         "link": _link},
        {"code": TALK_OVERDUE, "label": _l("Self-analysis after a talk overdue"),
         "level": "yellow", "escalate_after_hours": 48, "subject": _talk_subject,
         "link": _link},
        {"code": EDUCATION_OVERDUE, "label": _l("Integrity study overdue (廉政教育)"),
         "level": "reminder", "escalate_after_hours": 0, "subject": _education_subject,
         "link": _link},
    ]
