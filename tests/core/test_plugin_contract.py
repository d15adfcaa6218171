"""The plugin contract, enforced: a plugin imports from the core only ``core.api`` (and
``core.hookimpl``), and never imports another plugin. Walks the AST of every file of every
plugin: the built-in ones, the sample plugin of the tests and the example third-party
plugins under examples/."""
from __future__ import annotations

import ast
from pathlib import Path

from core.settings import ROOT

ALLOWED_CORE = {"core.api"}


def plugin_packages(root: Path = ROOT) -> dict[str, tuple[str, Path]]:
    """Plugin name -> (its top-level module path, its folder)."""
    found = {p.name: (f"plugins.{p.name}", p) for p in sorted((root / "plugins").iterdir())
             if (p / "__init__.py").is_file()}
    sample = root / "tests" / "sample_plugin"
    if sample.is_dir():
        found["sample"] = ("tests.sample_plugin", sample)
    for setup in sorted((root / "examples").glob("*/setup.cfg")):
        for pkg in sorted(setup.parent.iterdir()):
            if (pkg / "__init__.py").is_file():
                found[pkg.name] = (pkg.name, pkg)
    return found


def _imports(tree: ast.AST, module: str, is_package: bool):
    """(line, imported module, names) of every import, relative ones resolved."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, []
        elif isinstance(node, ast.ImportFrom):
            target = node.module or ""
            if node.level:
                base = module.split(".")
                base = base[:len(base) - node.level + (1 if is_package else 0)]
                target = ".".join(base + ([target] if target else []))
            yield node.lineno, target, [a.name for a in node.names]


def violations(root: Path = ROOT) -> list[str]:
    """One line per forbidden import: ``file:line: module (why)``."""
    packages = plugin_packages(root)
    out = []
    for name, (top, folder) in packages.items():
        others = {t for n, (t, _f) in packages.items() if n != name}
        for path in sorted(folder.rglob("*.py")):
            rel = path.relative_to(folder).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            module = ".".join([top, *parts])
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for line, target, names in _imports(tree, module, path.name == "__init__.py"):
                where = f"{path.relative_to(root)}:{line}"
                if target == "core" and set(names) <= {"hookimpl"} and names:
                    continue
                if target == "core" or target.startswith("core."):
                    if target not in ALLOWED_CORE:
                        shown = f"from {target} import {', '.join(names)}" if names \
                            else f"import {target}"
                        out.append(f"{where}: {shown} (plugin {name} may import only "
                                   "core.api from the core)")
                    continue
                hit = next((t for t in others if target == t or target.startswith(t + ".")),
                           None)
                if hit is not None:
                    out.append(f"{where}: {target} (plugin {name} imports another "
                               f"plugin, {hit}; use core.events)")
    return out


def test_plugins_import_only_the_facade_and_no_other_plugin():
    found = plugin_packages()
    assert {"eservice", "esupervision", "sample"} <= set(found)
    problems = violations()
    assert not problems, "imports outside the plugin contract:\n" + "\n".join(problems)


def _plant(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_the_contract_test_fails_on_planted_bad_imports(tmp_path):
    """The check above is only worth something if it fails: plant every kind of bad
    import in a throw-away tree and see each reported with file, line and module."""
    _plant(tmp_path, {
        "plugins/good/__init__.py": "from core import hookimpl\nfrom core.api import _l\n"
                                    "from plugins.good import models\nfrom . import views\n",
        "plugins/good/models.py": "import peewee\n",
        "plugins/good/views.py": "from .models import peewee\n",
        "plugins/bad/__init__.py": "import json\nfrom core.db import db\n",
        "plugins/bad/views.py": "\n\ndef f():\n    from core.alerts.models import Alert\n",
        "plugins/bad/deep.py": "import core.auth.scope\nfrom core import calendar\n",
        "plugins/bad/peer.py": "from plugins.good.models import peewee\n",
        "plugins/bad/sub/__init__.py": "from ...good import views\n",
        "examples/hello/setup.cfg": "[metadata]\nname = hello\n",
        "examples/hello/hello_pkg/__init__.py": "from plugins.bad import deep\n"
                                               "from core.api import hookimpl\n",
    })
    only = "(plugin bad may import only core.api from the core)"
    peer = "imports another plugin, plugins.{}; use core.events)"
    assert violations(tmp_path) == [
        f"plugins/bad/__init__.py:2: from core.db import db {only}",
        f"plugins/bad/deep.py:1: import core.auth.scope {only}",
        f"plugins/bad/deep.py:2: from core import calendar {only}",
        "plugins/bad/peer.py:1: plugins.good.models (plugin bad " + peer.format("good"),
        "plugins/bad/sub/__init__.py:1: plugins.good (plugin bad " + peer.format("good"),
        f"plugins/bad/views.py:4: from core.alerts.models import Alert {only}",
        "examples/hello/hello_pkg/__init__.py:1: plugins.bad (plugin hello_pkg "
        + peer.format("bad"),
    ]
