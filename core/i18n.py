"""Translation layer: Flask-Babel, Chinese by default, English per user."""
from __future__ import annotations

from contextlib import contextmanager
from functools import cached_property

from babel import Locale
from flask import current_app, g, has_request_context, request, session
from flask.globals import _cv_app
from flask_babel import (
    Babel,
    Domain,
    format_datetime,
    get_locale,
    get_translations,
    ngettext,
)
from flask_babel import gettext as babel_gettext
from flask_babel.speaklater import LazyString

from core.settings import ROOT

LOCALES = ("zh_CN", "en")
TRANSLATIONS = ROOT / "core" / "translations"



def gettext(string: str, **variables) -> str:
    """Translate ``string`` into the request's language, then ``%``-format it with
    ``variables`` — Flask-Babel's ``gettext`` with the catalogue looked up once per locale
    per request instead of on every call (a page calls this dozens of times; Flask-Babel
    walks three context locals per call). The cached catalogue is tied to the locale object
    Flask-Babel holds for the request, so ``refresh()`` and ``force_locale()`` (which
    replace that object) are honoured."""
    ctx = _cv_app.get(None)
    if ctx is None:  # no application context: the source string
        return babel_gettext(string, **variables)
    state = ctx.g.__dict__.get("_flask_babel")
    try:
        cached_locale, translations = state.ql_translations
        if cached_locale is not state.babel_locale:
            raise AttributeError
    except AttributeError:
        translations = get_translations()
        state = ctx.g.__dict__.get("_flask_babel")
        if state is not None:
            state.ql_translations = (get_locale(), translations)
    text = translations.ugettext(string)
    return text % variables if variables else text


def lazy_gettext(string: str, **variables):
    """A string translated when it is rendered (form labels, module-level choices)."""
    return LazyString(gettext, string, **variables)


def source_text(text) -> str:
    """The untranslated source of a lazy string (what is stored, to translate when shown)."""
    if isinstance(text, LazyString):
        return text._args[0]
    return "" if text is None else str(text)


_ = gettext
_l = lazy_gettext

class _AppDomain(Domain):
    """Flask-Babel caches the merged catalogues in one dictionary per ``Babel`` object, so
    every app of a process would get the catalogues of the first (tests build many apps,
    each with its own plugins and so its own catalogues): here each app keeps its own."""

    def get_translations_cache(self, ctx):
        return current_app.extensions.setdefault("qinglian.translations", {})


class _Babel(Babel):
    @cached_property
    def domain_instance(self):
        return _AppDomain()


babel = _Babel()


_LOCALE_OBJECTS: dict[str, Locale] = {}


def _locale(code: str) -> Locale:
    """One parsed Locale per code (Flask-Babel parses the selector's answer on every
    request; given a Locale it keeps it)."""
    found = _LOCALE_OBJECTS.get(code)
    if found is None:
        found = _LOCALE_OBJECTS[code] = Locale.parse(code)
    return found


def select_locale() -> Locale:
    if has_request_context():
        chosen = session.get("locale")
        if chosen in LOCALES:
            return _locale(chosen)
        user = getattr(g, "ql_user", None)
        if user is not None and user.locale in LOCALES:
            return _locale(user.locale)
    return _locale(current_app.config["QL_SETTINGS"].locale)


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


@contextmanager
def deployment_language():
    """Within the block, ``_`` translates into the deployment's language (QL_LOCALE),
    whoever's request is running: for words that are written once and stay — alert
    subjects, signal details, the text of a letter — not for the page being answered."""
    from flask_babel import force_locale
    with force_locale(current_app.config["QL_SETTINGS"].locale):
        yield


def html_lang() -> str:
    return "zh-CN" if is_chinese() else "en"


def is_chinese() -> bool:
    loc = get_locale()
    return loc is not None and loc.language == "zh"


def wants_locale() -> str | None:
    value = request.args.get("lang")
    return value if value in LOCALES else None


__all__ = ["LOCALES", "_", "_l", "deployment_language", "gettext", "init_app", "lazy_gettext",
           "ngettext"]
