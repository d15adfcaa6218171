"""Translation layer: Flask-Babel, Chinese by default, English per user."""
from __future__ import annotations

from flask import current_app, g, has_request_context, request, session
from flask_babel import Babel, format_datetime, get_locale, gettext, lazy_gettext, ngettext

from core.settings import ROOT

LOCALES = ("zh_CN", "en")
TRANSLATIONS = ROOT / "core" / "translations"

_ = gettext
_l = lazy_gettext

babel = Babel()


def select_locale() -> str:
    if has_request_context():
        chosen = session.get("locale")
        if chosen in LOCALES:
            return chosen
        user = getattr(g, "ql_user", None)
        if user is not None and user.locale in LOCALES:
            return user.locale
    return current_app.config["QL_SETTINGS"].locale


def select_timezone() -> str:
    return current_app.config["QL_SETTINGS"].timezone


def init_app(app, extra_dirs=()) -> None:
    dirs = [str(TRANSLATIONS), *[str(d) for d in extra_dirs]]
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(dirs)
    app.config["BABEL_DEFAULT_LOCALE"] = app.config["QL_SETTINGS"].locale
    app.config["BABEL_DEFAULT_TIMEZONE"] = app.config["QL_SETTINGS"].timezone
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    app.jinja_env.globals.update(_=gettext, ngettext=ngettext, get_locale=get_locale,
                                 format_datetime=format_datetime)


def html_lang() -> str:
    return "zh-CN" if is_chinese() else "en"


def is_chinese() -> bool:
    loc = get_locale()
    return loc is not None and loc.language == "zh"


def wants_locale() -> str | None:
    value = request.args.get("lang")
    return value if value in LOCALES else None


__all__ = ["_", "_l", "gettext", "lazy_gettext", "ngettext", "init_app", "LOCALES"]
