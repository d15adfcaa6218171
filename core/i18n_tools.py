"""Catalogue maintenance, one catalogue per component: ``python -m core.i18n_tools …``.

The core (``core/``, ``templates/``) keeps its catalogue in ``core/translations``; each
plugin keeps its own in ``<plugin>/translations`` beside its ``__init__.py``, so a plugin
ships (and a team edits) its messages without touching anyone else's. Flask-Babel merges
every enabled component's catalogue at run time (``core.app._translation_dirs``).

Commands (COMPONENT is ``core``, a built-in plugin's name, ``all``, or a plugin folder's
path for a plugin that lives outside this repository):

``update COMPONENT``     extract the messages, update (or create) both catalogues, make the
                         English one complete (msgstr = msgid) and compile both;
``pending-zh COMPONENT`` print the msgids the Chinese catalogue lacks (JSON list);
``merge-zh COMPONENT FILE`` merge a JSON object {msgid: Chinese} into the Chinese catalogue;
``check``                list messages of the source that a catalogue lacks; exit 1 if any.
"""
from __future__ import annotations

import io
import sys
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from core.settings import ROOT

LANGS = {"zh_CN": "zh_Hans_CN", "en": "en"}
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
TEMPLATE_FOLDER_METHODS = [("**.html", "jinja2")]  # a source that is itself a templates/


@dataclass(frozen=True)
class Component:
    """A unit with its own catalogue: its name, its source folders, its catalogue folder."""

    name: str
    sources: tuple[Path, ...]
    translations: Path

    def po(self, lang: str) -> Path:
        return self.translations / LANGS[lang] / "LC_MESSAGES" / "messages.po"


def core_component() -> Component:
    return Component("core", (ROOT / "core", ROOT / "templates"), ROOT / "core" / "translations")


def plugin_component(folder: Path) -> Component:
    folder = Path(folder).resolve()
    return Component(folder.name, (folder,), folder / "translations")


def components() -> list[Component]:
    """The core, every built-in plugin (a folder of plugins/ with an __init__.py) and the
    example plugins' packages (examples/<project>/<package>/, beside a setup.cfg)."""
    plugins = sorted(p.parent for p in (ROOT / "plugins").glob("*/__init__.py"))
    examples = sorted(p.parent for p in (ROOT / "examples").glob("*/*/__init__.py")
                      if (p.parent.parent / "setup.cfg").is_file())
    return [core_component(), *[plugin_component(p) for p in [*plugins, *examples]]]


def component(name: str) -> Component:
    for comp in components():
        if comp.name == name:
            return comp
    path = Path(name)
    if (path / "__init__.py").is_file():
        return plugin_component(path)
    raise SystemExit(f"unknown component {name!r}: expected core, a plugin name "
                     f"({', '.join(c.name for c in components()[1:])}), all, or a plugin folder")


def _selected(name: str) -> list[Component]:
    return components() if name == "all" else [component(name)]


def _read(path: Path) -> Catalog:
    with path.open("rb") as fh:
        return read_po(fh)


def _write(path: Path, catalog: Catalog) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    write_po(buf, catalog, width=100, omit_header=False, ignore_obsolete=True)
    path.write_bytes(buf.getvalue())


def template(comp: Component) -> Catalog:
    """The messages of the component's source (msgid -> locations)."""
    pot = Catalog(project="Qinglian", charset="utf-8")
    translations = comp.translations.resolve()
    for source in comp.sources:
        if not source.is_dir():
            continue
        methods = TEMPLATE_FOLDER_METHODS if source.name == "templates" else METHODS
        for filename, lineno, message, comments, context in extract_from_dir(
                str(source), methods, keywords=KEYWORDS, comment_tags=(),
                strip_comment_tags=True):
            path = (source / filename).resolve()
            if translations in path.parents:
                continue
            try:
                shown = str(path.relative_to(ROOT))
            except ValueError:
                shown = str(path.relative_to(source.parent))
            pot.add(message, None, [(shown, lineno)], auto_comments=comments, context=context)
    return pot


def _is_done(msg) -> bool:
    return bool(all(msg.string) if isinstance(msg.string, tuple) else msg.string)


def update(comp: Component) -> dict[str, int]:
    """Bring both catalogues of ``comp`` up to its source and compile them."""
    pot = template(comp)
    counts = {}
    for lang, folder in LANGS.items():
        path = comp.po(lang)
        if path.exists():
            cat = _read(path)
        else:
            cat = Catalog(locale=folder, project="Qinglian", charset="utf-8")
        cat.update(pot, no_fuzzy_matching=True)
        if lang == "en":
            for msg in cat:
                if msg.id and not _is_done(msg):
                    msg.string = tuple(msg.id) if isinstance(msg.id, tuple) else msg.id
        for msg in cat:
            msg.flags.discard("fuzzy")
        _write(path, cat)
        with path.with_suffix(".mo").open("wb") as fh:
            write_mo(fh, _read(path))
        counts[lang] = sum(1 for m in cat if m.id and not _is_done(m))
    return counts


def merge_zh(comp: Component, path: Path) -> int:
    """Merge a JSON object {msgid: Chinese} into the Chinese catalogue (plural msgids are
    given by their singular form; the value is used for every plural form), and compile."""
    import json
    table = json.loads(Path(path).read_text(encoding="utf-8"))
    po = comp.po("zh_CN")
    cat = _read(po)
    n = 0
    for msg in cat:
        key = msg.id[0] if isinstance(msg.id, tuple) else msg.id
        if table.get(key):
            msg.string = (table[key],) if isinstance(msg.id, tuple) else table[key]
            msg.flags.discard("fuzzy")
            n += 1
    _write(po, cat)
    with po.with_suffix(".mo").open("wb") as fh:
        write_mo(fh, _read(po))
    return n


def pending_zh(comp: Component) -> list:
    """Msgids (singular form) that the Chinese catalogue of ``comp`` lacks."""
    if not comp.po("zh_CN").exists():
        return sorted({m.id[0] if isinstance(m.id, tuple) else m.id
                       for m in template(comp) if m.id})
    return [m.id[0] if isinstance(m.id, tuple) else m.id
            for m in _read(comp.po("zh_CN")) if m.id and not _is_done(m)]


def missing(comps: list[Component] | None = None) -> dict[str, list]:
    """``{component/lang: [msgid, …]}`` of source messages a catalogue lacks."""
    out = {}
    for comp in comps or components():
        wanted = {m.id for m in template(comp) if m.id}
        for lang in LANGS:
            path = comp.po(lang)
            have = {m.id for m in _read(path) if m.id and _is_done(m)
                    and "fuzzy" not in m.flags} if path.exists() else set()
            out[f"{comp.name}/{lang}"] = sorted(wanted - have, key=str)
    return out


USAGE = ("usage: python -m core.i18n_tools update COMPONENT|all | pending-zh COMPONENT | "
         "merge-zh COMPONENT FILE.json | check")


def main(argv: list[str]) -> int:
    if argv[:1] == ["update"] and len(argv) == 2:
        for comp in _selected(argv[1]):
            counts = update(comp)
            print(f"{comp.name}: {counts['zh_CN']} messages await a Chinese translation")
        return 0
    if argv[:1] == ["merge-zh"] and len(argv) == 3:
        print(f"merged {merge_zh(component(argv[1]), Path(argv[2]))} Chinese messages")
        return 0
    if argv[:1] == ["pending-zh"] and len(argv) == 2:
        import json
        print(json.dumps(pending_zh(component(argv[1])), ensure_ascii=False, indent=1))
        return 0
    if argv[:1] == ["check"]:
        gaps = missing()
        for where, ids in gaps.items():
            for msgid in ids:
                print(f"{where}: missing {msgid!r}")
        return 1 if any(gaps.values()) else 0
    print(USAGE, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
