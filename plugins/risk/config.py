"""Deployment-wide settings of risk prevention: warning levels (蓝/黄/红 or 一/二/三),
the level each warning rule starts at, repeated-signal escalation, time limits, holiday
reminders and evaluation weights. Built-in defaults apply until a city-wide
administrator saves a value; each save is audited.

A label a person reads is kept in both languages (``{"zh": …, "en": …}``) and shown in
the page's (:func:`label`).
"""
from __future__ import annotations

import copy
from typing import Any

from core.api import FieldError, _, _l, db, record, utcnow
from plugins.risk.access import actor, require_city
from plugins.risk.models import Setting

PERM = "risk.settings"
ALERT_LEVELS = ("reminder", "yellow", "red")
RULE_SOURCES = ("measure_overdue", "review_overdue", "rectification_overdue", "manual",
                "signal", "education_overdue")
WEIGHT_KEYS = ("coverage", "measures", "reviews", "warnings", "escalation", "education")

DEFAULTS: dict[str, Any] = {
    # lowest first; ``alert`` is the alert bus level the warning is raised at
    "warning_levels": [
        {"code": "blue", "label": {"zh": "蓝色预警", "en": "Blue"}, "colour": "#1d4f91",
         "alert": "reminder"},
        {"code": "yellow", "label": {"zh": "黄色预警", "en": "Yellow"}, "colour": "#b7791f",
         "alert": "yellow"},
        {"code": "red", "label": {"zh": "红色预警", "en": "Red"}, "colour": "#a61b1b",
         "alert": "red"},
    ],
    "rule_levels": {"measure_overdue": "yellow", "review_overdue": "blue",
                    "rectification_overdue": "red", "manual": "yellow", "signal": "yellow",
                    "education_overdue": "blue"},
    "repeat": {"window_days": 90, "threshold": 3},
    "talk_submission_days": 5,
    "rectification_days": {"prevention": 10, "disposal": 15},
    "holiday": {"lead_days": 2, "min_days": 3,
                "text": "节日将至，请严守中央八项规定精神，严禁公款吃喝、违规收送礼品礼金。"},
    "duty_window_days": 30,
    "weights": {"coverage": 25, "measures": 20, "reviews": 15, "warnings": 15,
                "escalation": 10, "education": 15},
}

LABELS = {
    "warning_levels": _l("Warning levels"),
    "rule_levels": _l("Level each warning rule starts at"),
    "repeat": _l("Repeated signals on one post"),
    "talk_submission_days": _l("Working days to hand in a self-analysis after a talk"),
    "rectification_days": _l("Working days to report rectification after a notice"),
    "holiday": _l("Reminders before holidays"),
    "duty_window_days": _l("Duty-start reminders for posts taken up in the last days"),
    "weights": _l("Evaluation weights"),
}


def get(key: str) -> Any:
    """The value in force for ``key``: the saved one, else the built-in default."""
    row = Setting.get_or_none(Setting.key == key)
    return copy.deepcopy(DEFAULTS[key]) if row is None else row.value


def label(text: dict | str | None) -> str:
    """The page language's side of a two-language label (Chinese when unsure)."""
    if not isinstance(text, dict):
        return str(text or "")
    from flask_babel import get_locale
    locale = get_locale()
    lang = "zh" if locale is None or locale.language == "zh" else "en"
    return text.get(lang) or text.get("zh") or text.get("en") or ""


# -- warning levels ----------------------------------------------------------------------
def levels() -> list[dict]:
    return get("warning_levels")


def level_codes() -> list[str]:
    return [lv["code"] for lv in levels()]


def level(code: str) -> dict:
    for lv in levels():
        if lv["code"] == code:
            return lv
    raise FieldError("level", _("Unknown warning level %(code)s.", code=code))


def higher(code: str, steps: int = 1) -> str:
    """The level ``steps`` above ``code`` (the top level stays the top)."""
    codes = level_codes()
    index = codes.index(code) if code in codes else 0
    return codes[min(index + steps, len(codes) - 1)]


def rule_level(source: str) -> str:
    """The level a warning of ``source`` starts at (a level still configured)."""
    wanted = get("rule_levels").get(source) or level_codes()[0]
    return wanted if wanted in level_codes() else level_codes()[0]


# -- saving ------------------------------------------------------------------------------
def _int(value, field: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise FieldError(field, _("Enter a whole number."))
    if not lo <= value <= hi:
        raise FieldError(field, _("Enter a number from %(lo)d to %(hi)d.", lo=lo, hi=hi))
    return value


def _text(value, field: str, max_length: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise FieldError(field, _("This field is required."))
    value = " ".join(value.split())
    if len(value) > max_length:
        raise FieldError(field, _("At most %(n)d characters.", n=max_length))
    return value


def _check_levels(value) -> list[dict]:
    if not isinstance(value, list) or not 2 <= len(value) <= 5:
        raise FieldError("warning_levels", _("Configure two to five warning levels."))
    out, seen = [], set()
    for i, lv in enumerate(value):
        field = f"warning_levels.{i}"
        if not isinstance(lv, dict):
            raise FieldError(field, _("Each level needs a code, labels, a colour and an "
                                      "alert level."))
        code = lv.get("code")
        if not isinstance(code, str) or not code.isascii() or not code.isalnum() \
                or len(code) > 16 or code in seen:
            raise FieldError(f"{field}.code", _("A short unique code of letters and digits."))
        seen.add(code)
        colour = lv.get("colour", "")
        if not (isinstance(colour, str) and len(colour) == 7 and colour[0] == "#"
                and all(c in "0123456789abcdefABCDEF" for c in colour[1:])):
            raise FieldError(f"{field}.colour", _("A colour like #a61b1b."))
        if lv.get("alert") not in ALERT_LEVELS:
            raise FieldError(f"{field}.alert", _("The alert level is reminder, yellow or red."))
        labels = lv.get("label") if isinstance(lv.get("label"), dict) else {}
        out.append({"code": code, "colour": colour.lower(), "alert": lv["alert"],
                    "label": {"zh": _text(labels.get("zh"), f"{field}.label.zh", 16),
                              "en": _text(labels.get("en"), f"{field}.label.en", 24)}})
    return out


def check(key: str, value) -> Any:
    """``value`` for ``key`` checked and normalised; FieldError names what is wrong."""
    if key == "warning_levels":
        return _check_levels(value)
    if key == "rule_levels":
        if not isinstance(value, dict):
            raise FieldError(key, _("Name a level for each rule."))
        codes = level_codes()
        out = {}
        for source in RULE_SOURCES:
            if value.get(source) not in codes:
                raise FieldError(f"{key}.{source}", _("Choose one of the warning levels."))
            out[source] = value[source]
        return out
    if key == "repeat":
        value = value if isinstance(value, dict) else {}
        return {"window_days": _int(value.get("window_days"), "repeat.window_days", 1, 730),
                "threshold": _int(value.get("threshold"), "repeat.threshold", 2, 100)}
    if key == "talk_submission_days":
        return _int(value, key, 1, 60)
    if key == "duty_window_days":
        return _int(value, key, 1, 365)
    if key == "rectification_days":
        value = value if isinstance(value, dict) else {}
        return {kind: _int(value.get(kind), f"{key}.{kind}", 1, 120)
                for kind in ("prevention", "disposal")}
    if key == "holiday":
        value = value if isinstance(value, dict) else {}
        return {"lead_days": _int(value.get("lead_days"), "holiday.lead_days", 1, 10),
                "min_days": _int(value.get("min_days"), "holiday.min_days", 3, 10),
                "text": _text(value.get("text"), "holiday.text", 180)}
    if key == "weights":
        value = value if isinstance(value, dict) else {}
        out = {k: _int(value.get(k), f"weights.{k}", 0, 100) for k in WEIGHT_KEYS}
        if sum(out.values()) != 100:
            raise FieldError("weights", _("The weights add up to %(n)d; they must add up "
                                          "to 100.", n=sum(out.values())))
        return out
    raise FieldError("key", _("Unknown setting %(key)s.", key=key))


def save(user, key: str, value) -> Any:
    """Save a setting (city-wide grant of ``risk.settings`` only), audited."""
    require_city(user, PERM)
    clean = check(key, value)
    before = get(key)
    with db.atomic():
        (Setting.insert(key=key, value=clean, updated_by=actor(user), updated_at=utcnow())
         .on_conflict(conflict_target=[Setting.key],
                      update={Setting.value: clean, Setting.updated_by: actor(user),
                              Setting.updated_at: utcnow()}).execute())
        record("risk.setting.save", object_type="risk_setting", object_id=key, user=user,
               summary=f"risk setting {key} saved", changes={key: [before, clean]})
    return clean
