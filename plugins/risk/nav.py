"""The plugin's menu (菜单): one list read by the sidebar hook (``ql_nav_items``) and by
the tab bar of the plugin's pages, so a section added here shows in both. Each entry:
endpoint, label, permission, order (the sidebar's), icon."""
from __future__ import annotations

from flask import request

from core.api import _l, has_permission

SECTIONS: list[dict] = [
    {"endpoint": "risk.registers", "label": _l("Risk registers"), "permission": "risk.view",
     "order": 40, "icon": "shield", "prefixes": ("/risk/units", "/risk/registers",
                                                  "/risk/points", "/risk/imports")},
    {"endpoint": "risk_warnings.board", "label": _l("Post warnings"),
     "permission": "risk.view", "order": 41, "icon": "flag",
     "prefixes": ("/risk/warnings",)},
    {"endpoint": "risk_reminders.log", "label": _l("Reminders"),
     "permission": "risk.view", "order": 42, "icon": "bell",
     "prefixes": ("/risk/reminders/", "/risk/reminders/sites")},
    {"endpoint": "risk_reminders.checkin", "label": _l("Site check-in"),
     "permission": "risk.self", "order": 43, "icon": "check",
     "prefixes": ("/risk/reminders/checkin",)},
    {"endpoint": "risk_talks.register", "label": _l("Talks and accountability"),
     "permission": "risk.view", "order": 44, "icon": "users",
     "prefixes": ("/risk/talks",)},
    {"endpoint": "risk_education.index", "label": _l("Integrity education"),
     "permission": "risk.view", "order": 45, "icon": "book",
     "prefixes": ("/risk/education/materials", "/risk/education/rates")},
    {"endpoint": "risk_education.mine", "label": _l("My study tasks"),
     "permission": "risk.self", "order": 47, "icon": "check",
     "prefixes": ("/risk/education/mine", "/risk/education/tasks")},
    {"endpoint": "risk_rules.rules", "label": _l("Prevention rules"), "permission": "risk.view",
     "order": 46, "icon": "book", "prefixes": ("/risk/rules",)},
    {"endpoint": "risk_evaluation.runs", "label": _l("Effect evaluation"),
     "permission": "risk.view", "order": 47, "icon": "chart",
     "prefixes": ("/risk/evaluation",)},
    {"endpoint": "risk.matrix", "label": _l("Risk matrix"), "permission": "risk.settings",
     "order": 49, "icon": "grid", "prefixes": ("/risk/matrix",)},
]


def nav_items() -> list[dict]:
    """The sidebar entries (the layout filters them by permission)."""
    return [{k: s[k] for k in ("label", "endpoint", "icon", "order", "permission")}
            for s in SECTIONS]


def tabs(user) -> list[dict]:
    """The tab bar of the plugin's pages: the sections ``user`` may open, the current
    one marked."""
    def match(s) -> int:  # the longest of its prefixes the path starts with
        if request.endpoint == s["endpoint"]:
            return 10_000
        return max((len(p) for p in s["prefixes"] if request.path.startswith(p)), default=0)
    shown = [s for s in sorted(SECTIONS, key=lambda s: s["order"])
             if has_permission(user, s["permission"])]
    best = max((match(s) for s in shown), default=0)
    # one tab marked: /risk/reminders/checkin is the check-in's, not also the reminders'
    return [{"endpoint": s["endpoint"], "label": s["label"],
             "active": best > 0 and match(s) == best} for s in shown]
