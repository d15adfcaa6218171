"""Every hook is documented (after Datasette's test_plugin_hooks_are_documented)."""
import importlib
import inspect
import re

from core import hookspecs
from core.settings import ROOT


def spec_modules() -> list:
    """The core contract and every plugin's own ``hookspecs.py``."""
    return [hookspecs] + [importlib.import_module(f"plugins.{p.parent.name}.hookspecs")
                          for p in sorted((ROOT / "plugins").glob("*/hookspecs.py"))]


def specified_hooks() -> dict:
    return {name: fn for module in spec_modules()
            for name, fn in inspect.getmembers(module, inspect.isfunction)
            if name.startswith("ql_")}


def test_every_hook_has_a_docstring_and_a_documented_heading():
    doc = (ROOT / "docs" / "plugin_hooks.md").read_text(encoding="utf-8")
    headings = set(re.findall(r"^## (ql_\w+)\(", doc, re.MULTILINE))
    hooks = specified_hooks()
    assert "ql_esupervision_detectors" in hooks and "ql_plugin_info" in hooks
    for name, fn in hooks.items():
        assert (fn.__doc__ or "").strip(), f"{name} has no docstring"
    assert set(hooks) - headings == set(), f"undocumented hooks: {sorted(set(hooks) - headings)}"
    assert headings - set(hooks) == set(), \
        f"documented but not specified: {sorted(headings - set(hooks))}"


def hook_tests() -> set[str]:
    """Names of the test functions under tests/ named ``test_hook_…``."""
    import ast
    names = set()
    for path in (ROOT / "tests").rglob("test_*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names |= {n.name for n in ast.walk(tree)
                  if isinstance(n, ast.FunctionDef) and n.name.startswith("test_hook_")}
    return names


def test_every_hook_has_a_test():
    """After Datasette's test_plugin_hooks_have_tests: each hook of the contract (and of a
    plugin's own hookspecs) has a test named ``test_hook_<hook>…`` that exercises it."""
    tests = hook_tests()
    missing = sorted(h for h in specified_hooks()
                     if not any(t == f"test_{h.replace('ql_', 'hook_ql_', 1)}"
                                or t.startswith(f"test_hook_{h}_") for t in tests))
    assert not missing, f"hooks without a test_hook_<name> test: {missing}"


def test_the_core_contract_holds_only_core_hooks():
    plugins = {p.name for p in (ROOT / "plugins").iterdir() if (p / "__init__.py").exists()}
    core_hooks = [n for n, _f in inspect.getmembers(hookspecs, inspect.isfunction)
                  if n.startswith("ql_")]
    leaked = [n for n in core_hooks if any(n.startswith(f"ql_{p}_") for p in plugins)]
    assert not leaked, f"plugin hooks in core/hookspecs.py: {leaked}"


def test_every_name_of_the_facade_is_documented():
    import core.api
    doc = (ROOT / "docs" / "plugin_api.md").read_text(encoding="utf-8")
    prose = re.sub(r"^```.*$", "", doc, flags=re.MULTILINE)  # code fences: not quotes
    quoted = " ".join(re.findall(r"`([^`]+)`", prose))
    missing = [n for n in core.api.__all__
               if not re.search(rf"(?<![\w.])(core\.api\.)?{re.escape(n)}(?!\w)", quoted)]
    assert not missing, f"core.api names missing from docs/plugin_api.md: {missing}"


def test_every_setting_is_in_the_readme():
    from core.settings import Settings
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [var for var in Settings.ENV.values() if var not in readme]
    assert not missing, f"settings missing from README: {missing}"
