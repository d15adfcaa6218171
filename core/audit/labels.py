"""Labels of audit actions (审计事项) for the viewer: the core's own and each plugin's
(``ql_audit_actions``), so a reader sees "登录" where the record says ``auth.login``.

A record's summary is written once and sealed, in the words of the code that wrote it;
the summaries that are fixed phrases (no names or numbers in them) are listed here so the
viewer can show them translated as well."""
from __future__ import annotations

from flask import current_app

from core.i18n import _, _l

CORE_ACTIONS = {
    "auth.login": _l("Login"), "auth.login_failed": _l("Failed login"),
    "auth.logout": _l("Logout"), "auth.lockout": _l("Account locked after failed logins"),
    "user.create": _l("Account created"), "user.enable": _l("Account enabled or disabled"),
    "user.password_change": _l("Password changed"), "user.password_reset": _l("Password reset"),
    "user.totp_enrol": _l("Second factor enrolled"), "user.unlock": _l("Account unlocked"),
    "role.create": _l("Role created"), "role.update": _l("Role changed"),
    "grant.create": _l("Role granted"), "grant.revoke": _l("Role revoked"),
    "plugin.switch": _l("Platform switched on or off for a region"),
    "calendar.override": _l("Working-day calendar changed"),
    "org.region.create": _l("Region created"), "org.region.update": _l("Region changed"),
    "org.region.delete": _l("Region deleted"),
    "org.department.create": _l("Department created"),
    "org.department.update": _l("Department changed"),
    "org.department.delete": _l("Department deleted"),
    "org.post.create": _l("Post created"), "org.post.update": _l("Post changed"),
    "org.post.delete": _l("Post deleted"), "org.person.create": _l("Person created"),
    "org.person.update": _l("Person changed"), "org.person.delete": _l("Person deleted"),
    "org.holding.create": _l("Post assigned"), "org.holding.end": _l("Post holding ended"),
    "org.import": _l("Organisation imported"), "org.export": _l("People exported"), "record.view": _l("Personal data viewed"),
    "audit.export": _l("Audit trail exported"), "audit.verify": _l("Audit chain verified"),
    "audit.anchor.send": _l("Audit anchor sent off-site"),
    "audit.anchor.undelivered": _l("Audit anchor not delivered"),
    "alert.acknowledge": _l("Alert acknowledged"), "alert.resolve": _l("Alert resolved"),
    "alert.escalate": _l("Alert escalated"), "alert.read": _l("Alerts marked read"),
    "alert.preferences": _l("Alert channels chosen"),
    "alert.notification.failed": _l("Notification not delivered"),
    "alert.notification.retry": _l("Notification retried"),
}

FIXED_SUMMARIES = {str(s): s for s in (
    _l("login"), _l("login with second factor"), _l("account locked"),
    _l("account disabled"), _l("password changed"), _l("second factor enrolled"),
    _l("chain intact"), _l("alert channel preferences"),
)}


def action_labels() -> dict[str, object]:
    """Every known action code with its label (the core's and every enabled plugin's)."""
    cache = current_app.extensions.get("qinglian.audit_actions")
    if cache is None:
        from core.plugins import host
        cache = dict(CORE_ACTIONS)
        for name, labels in host().each("ql_audit_actions"):
            cache.update(labels or {})
        current_app.extensions["qinglian.audit_actions"] = cache
    return cache


def action_label(code: str) -> str:
    """The label of an action code; the code itself when nobody declared it."""
    label = action_labels().get(code)
    return str(label) if label is not None else code


def summary_text(summary: str) -> str:
    """A fixed-phrase summary in the reader's language; any other summary as recorded."""
    return _(summary) if summary in FIXED_SUMMARIES else summary
