"""Both catalogues are complete, and the compiled catalogues match their sources."""
import gettext

from babel.messages.pofile import read_po

from core import i18n_tools


def test_every_message_is_translated_in_both_catalogues():
    gaps = {where: ids for where, ids in i18n_tools.missing().items() if ids}
    assert gaps == {}, (
        "run `make i18n` and translate: " + repr({k: v[:10] for k, v in gaps.items()}))


def test_the_core_catalogue_holds_the_shared_templates():
    """templates/ (layout, admin, auth pages) is the core's: its messages are extracted."""
    core_ids = {m.id for m in i18n_tools.template(i18n_tools.core_component())}
    assert {"Undo ruling", "Working-day calendar", "Previous month"} <= core_ids


def test_each_plugin_has_its_own_catalogue():
    """A plugin ships its messages: its catalogue lives beside it, not in the core's."""
    names = [c.name for c in i18n_tools.components()]
    assert names[0] == "core" and {"eservice", "esupervision"} <= set(names)
    core_ids = {m.id for m in i18n_tools.template(i18n_tools.core_component())}
    for comp in i18n_tools.components()[1:]:
        assert comp.po("zh_CN").is_file() and comp.po("en").is_file(), comp.name
        own = {m.id for m in i18n_tools.template(comp)}
        with i18n_tools.core_component().po("zh_CN").open("rb") as fh:
            in_core = {m.id for m in read_po(fh) if m.id}
        assert not (own - core_ids) & in_core, f"{comp.name}'s messages sit in the core catalogue"


def test_compiled_catalogues_match_the_po_files():
    for comp, lang in [(c, lang) for c in i18n_tools.components() for lang in i18n_tools.LANGS]:
        po_path = comp.po(lang)
        with po_path.open("rb") as fh:
            catalogue = read_po(fh)
        with po_path.with_suffix(".mo").open("rb") as fh:
            compiled = gettext.GNUTranslations(fh)
        for msg in catalogue:
            if not msg.id or isinstance(msg.id, tuple) or "fuzzy" in msg.flags:
                continue
            assert compiled.gettext(msg.id) == msg.string, (
                f"{comp.name}/{lang}: {msg.id!r} is stale in the .mo: run `make i18n`")


def test_chinese_is_chinese():
    strings = []
    for comp in i18n_tools.components():
        with comp.po("zh_CN").open("rb") as fh:
            strings += [m.string for m in read_po(fh) if m.id and isinstance(m.string, str)]
    with_cjk = [s for s in strings if any("\u4e00" <= ch <= "\u9fff" for ch in s)]
    assert len(with_cjk) / len(strings) > 0.9


def test_gettext_follows_the_request_locale_and_force_locale(app):
    """core.i18n.gettext caches the catalogue per request; switching the locale (refresh,
    force_locale) must switch the translation at once, and it must work without a context."""
    from flask import session
    from flask_babel import force_locale, refresh

    from core.i18n import _, _l
    assert _("Look up") == "Look up"  # no application context: the source string
    with app.test_request_context("/"):
        app.preprocess_request()
        assert _("Look up") == "Look up"  # the tests' deployment speaks English
        with force_locale("zh_CN"):
            zh = _("Look up")
            assert zh == "查询"
        assert _("Look up") == "Look up"
        session["locale"] = "zh_CN"
        refresh()
        assert _("Look up") == zh and str(_l("Look up")) == zh
        session["locale"] = "en"
        refresh()
        assert _("Too many lookups: at most %(n)d a minute. Please wait a minute and try "
                 "again.", n=7).startswith("Too many lookups: at most 7")


def test_each_app_of_a_process_has_its_own_catalogues(settings):
    """An app built with fewer plugins first must not leave its catalogues to the next."""
    from flask_babel import force_locale

    from core.i18n import _
    from tests.conftest import running_app
    with running_app(settings, available_plugins={}) as bare, \
            bare.test_request_context("/"), force_locale("zh_CN"):
        assert _("Look up") == "Look up"  # eservice's message: not in this app
    with running_app(settings, available_plugins={"eservice": "plugins.eservice"}) as full, \
            full.test_request_context("/"), force_locale("zh_CN"):
        assert _("Look up") == "查询"
