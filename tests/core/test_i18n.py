"""Both catalogues are complete, and the compiled catalogues match their sources."""
import gettext

from babel.messages.pofile import read_po

from core import i18n_tools


def test_every_message_is_translated_in_both_catalogues():
    gaps = i18n_tools.missing()
    assert gaps == {"zh_CN": [], "en": []}, (
        "run `make i18n` and translate: " + repr({k: v[:10] for k, v in gaps.items()}))


def test_compiled_catalogues_match_the_po_files():
    for lang, po_path in i18n_tools.PO.items():
        with po_path.open("rb") as fh:
            catalogue = read_po(fh)
        with po_path.with_suffix(".mo").open("rb") as fh:
            compiled = gettext.GNUTranslations(fh)
        for msg in catalogue:
            if not msg.id or isinstance(msg.id, tuple) or "fuzzy" in msg.flags:
                continue
            assert compiled.gettext(msg.id) == msg.string, (
                f"{lang}: {msg.id!r} is stale in the .mo: run `make i18n`")


def test_chinese_is_chinese():
    with i18n_tools.PO["zh_CN"].open("rb") as fh:
        catalogue = read_po(fh)
    strings = [m.string for m in catalogue if m.id and isinstance(m.string, str)]
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
