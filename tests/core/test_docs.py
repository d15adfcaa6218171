"""Every hook is documented (after Datasette's test_plugin_hooks_are_documented)."""
import inspect
import re

from core import hookspecs
from core.settings import ROOT


def test_every_hook_has_a_docstring_and_a_documented_heading():
    doc = (ROOT / "docs" / "plugin_hooks.md").read_text(encoding="utf-8")
    headings = set(re.findall(r"^## (ql_\w+)\(", doc, re.MULTILINE))
    hooks = {name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
             if name.startswith("ql_")}
    assert hooks, "no hooks found"
    for name in hooks:
        fn = getattr(hookspecs, name)
        assert (fn.__doc__ or "").strip(), f"{name} has no docstring"
    assert hooks - headings == set(), f"undocumented hooks: {sorted(hooks - headings)}"
    assert headings - hooks == set(), f"documented but not specified: {sorted(headings - hooks)}"


def test_every_setting_is_in_the_readme():
    from core.settings import Settings
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [var for var in Settings.ENV.values() if var not in readme]
    assert not missing, f"settings missing from README: {missing}"
