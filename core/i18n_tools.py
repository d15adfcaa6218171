"""Catalogue maintenance: ``python -m core.i18n_tools fill-en|check``.

``fill-en`` makes the English catalogue complete (msgstr = msgid, plural forms alike);
``pending-zh`` prints the msgids the Chinese catalogue lacks (JSON list);
``merge-zh FILE`` merges a JSON object {msgid: Chinese} into the Chinese catalogue;
``check`` lists messages of the source that either catalogue lacks and exits non-zero.
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from babel.messages.pofile import read_po, write_po

from core.settings import ROOT

CATALOGUES = ROOT / "core" / "translations"
PO = {"zh_CN": CATALOGUES / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po",
      "en": CATALOGUES / "en" / "LC_MESSAGES" / "messages.po"}


def _read(path: Path):
    with path.open("rb") as fh:
        return read_po(fh)


def fill_en() -> int:
    cat = _read(PO["en"])
    n = 0
    for msg in cat:
        if not msg.id:
            continue
        if isinstance(msg.id, tuple):
            if not all(msg.string or ()):
                msg.string = tuple(msg.id)
                n += 1
        elif not msg.string:
            msg.string = msg.id
            n += 1
        msg.flags.discard("fuzzy")
    with PO["en"].open("wb") as fh:
        write_po(fh, cat, width=100)
    return n


def merge_zh(path: Path) -> int:
    """Merge a JSON object {msgid: Chinese} into the Chinese catalogue (plural msgids are
    given by their singular form; the value is used for every plural form)."""
    import json
    table = json.loads(Path(path).read_text(encoding="utf-8"))
    cat = _read(PO["zh_CN"])
    n = 0
    for msg in cat:
        key = msg.id[0] if isinstance(msg.id, tuple) else msg.id
        if table.get(key):
            msg.string = (table[key],) if isinstance(msg.id, tuple) else table[key]
            msg.flags.discard("fuzzy")
            n += 1
    with PO["zh_CN"].open("wb") as fh:
        write_po(fh, cat, width=100)
    return n


def pending_zh() -> list:
    """Msgids (singular form) that the Chinese catalogue lacks."""
    return [m.id[0] if isinstance(m.id, tuple) else m.id
            for m in _read(PO["zh_CN"]) if m.id and not (
                all(m.string) if isinstance(m.string, tuple) else m.string)]


def extract() -> set:
    with tempfile.TemporaryDirectory() as tmp:
        pot = Path(tmp) / "messages.pot"
        subprocess.run([sys.executable, "-m", "babel.messages.frontend", "-q", "extract",
                        "-F", str(ROOT / "babel.cfg"), "-k", "_l", "-k", "lazy_gettext",
                        "-o", str(pot), str(ROOT)], check=True, cwd=ROOT)
        return {m.id for m in _read(pot) if m.id}


def missing() -> dict[str, list]:
    wanted = extract()
    out = {}
    for lang, path in PO.items():
        cat = _read(path)
        have = {m.id for m in cat if m.id and (all(m.string) if isinstance(m.string, tuple)
                                               else m.string) and "fuzzy" not in m.flags}
        out[lang] = sorted(wanted - have, key=str)
    return out


def main(argv: list[str]) -> int:
    if argv[:1] == ["fill-en"]:
        print(f"filled {fill_en()} English messages")
        return 0
    if argv[:1] == ["merge-zh"] and len(argv) == 2:
        print(f"merged {merge_zh(Path(argv[1]))} Chinese messages")
        return 0
    if argv[:1] == ["pending-zh"]:
        import json
        print(json.dumps(pending_zh(), ensure_ascii=False, indent=1))
        return 0
    if argv[:1] == ["check"]:
        gaps = missing()
        for lang, ids in gaps.items():
            for msgid in ids:
                print(f"{lang}: missing {msgid!r}")
        return 1 if any(gaps.values()) else 0
    print("usage: python -m core.i18n_tools fill-en|check|pending-zh|merge-zh FILE.json", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
