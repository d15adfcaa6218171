"""The plugin host: one pluggy manager, built-in core parts, installed plugins and the
enabled set (deployment-wide from QL_PLUGINS, and switched off per region by an admin).
"""
from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

import pluggy
from flask import current_app, g, has_request_context

from core import hookspecs

ENTRY_POINT_GROUP = "qinglian.plugins"

# The core's own parts register through the same hooks as plugins (always enabled).
CORE_PARTS = (
    "core.web.hooks",
    "core.org.hooks",
    "core.auth.hooks",
    "core.audit.hooks",
    "core.alerts.hooks",
    "core.calendar_hooks",
    "core.sealing.hooks",
    "core.pii.hooks",
)


class PluginError(RuntimeError):
    """A plugin cannot be loaded or a plugin name is unknown."""


@dataclass
class PluginRecord:
    name: str
    module: str
    version: str
    label: Any
    description: Any
    enabled: bool


def installed_plugins() -> dict[str, str]:
    """Map plugin name -> module path, from the ``qinglian.plugins`` entry-point group."""
    found = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        found[ep.name] = ep.value
    return found


class PluginHost:
    """Loads the core parts and the enabled plugins into one pluggy manager."""

    def __init__(self, enabled: Iterable[str] | None = None,
                 available: dict[str, str] | None = None,
                 extra_core: Iterable[Any] = ()):
        self.pm = pluggy.PluginManager("qinglian")
        self.pm.add_hookspecs(hookspecs)
        self.available = dict(installed_plugins() if available is None else available)
        wanted = list(self.available) if enabled is None else list(enabled)
        unknown = [n for n in wanted if n not in self.available]
        if unknown:
            raise PluginError(
                "unknown plugin(s) in QL_PLUGINS: " + ", ".join(unknown)
                + "; installed: " + (", ".join(sorted(self.available)) or "none"))
        self.enabled = [n for n in self.available if n in wanted]
        for part in CORE_PARTS:
            self.pm.register(importlib.import_module(part), name=part)
        for obj in extra_core:
            self.pm.register(obj, name=getattr(obj, "__name__", repr(obj)))
        self.records: dict[str, PluginRecord] = {}
        for name, target in self.available.items():
            if name not in self.enabled:
                self.pm.set_blocked(name)  # installed but disabled: never imported
                self.records[name] = PluginRecord(name, target, "", name, "", False)
                continue
            try:
                module = importlib.import_module(target.split(":")[0])
            except ImportError as exc:
                raise PluginError(f"plugin {name!r} ({target}) cannot be imported: {exc}") \
                    from exc
            self.pm.register(module, name=name)
            specs = self.call_one(name, "ql_hookspecs")
            if specs is not None:
                self.pm.add_hookspecs(specs)  # the plugin's own hooks, for its callers
            info = self.call_one(name, "ql_plugin_info") or {}
            self.records[name] = PluginRecord(
                name, target, str(info.get("version", "")), info.get("label", name),
                info.get("description", ""), True)
        self.pm.check_pending()

    # -- calling hooks: always through pluggy's hook caller, so hook wrappers,
    # tryfirst/trylast and firstresult behave as pluggy documents them ------------------
    def _caller(self, hook: str, skip: Iterable[str]):
        plugins = [p for p in (self.pm.get_plugin(n) for n in skip) if p is not None]
        return self.pm.subset_hook_caller(hook, plugins) if plugins \
            else getattr(self.pm.hook, hook)

    def call(self, hook: str, **kwargs):
        """Call ``hook`` on every core part and enabled plugin: the non-None results in
        pluggy's calling order (the last registered first), or the one answer of a
        ``firstresult`` hook. When ``region`` is among the arguments, plugins switched off
        for that region are skipped."""
        region = kwargs.get("region")
        caller = self._caller(hook, switched_off_for(region) if region is not None else ())
        return caller(**kwargs)

    def call_one(self, plugin: str, hook: str, **kwargs):
        """Call one plugin's implementation of ``hook`` (None if it has none)."""
        caller = getattr(self.pm.hook, hook, None)
        if caller is None or not any(i.plugin_name == plugin for i in caller.get_hookimpls()):
            return None
        others = [n for n, _p in self.pm.list_name_plugin() if n != plugin]
        result = self._caller(hook, others)(**kwargs)
        if isinstance(result, list):
            return result[0] if result else None
        return result

    def each(self, hook: str, **kwargs) -> list[tuple[str, Any]]:
        """Like :meth:`call`, but ``[(plugin_name, result)]``: for callers that must
        know whose result it is (the blueprints of a plugin answer 404 where it is off)."""
        region = kwargs.get("region")
        off = switched_off_for(region) if region is not None else set()
        impls = reversed(getattr(self.pm.hook, hook).get_hookimpls())  # calling order
        names = dict.fromkeys(i.plugin_name for i in impls if i.plugin_name not in off)
        out = []
        for name in names:
            result = self.call_one(name, hook, **kwargs)
            if result is not None:
                out.append((name, result))
        return out

    def collect(self, hook: str, **kwargs) -> list:
        """Flatten the list results of ``hook`` into one list."""
        items = []
        for result in self.call(hook, **kwargs):
            items.extend(result)
        return items

    def is_plugin(self, name: str) -> bool:
        return name in self.records


def host() -> PluginHost:
    """The current app's plugin host."""
    return current_app.extensions["qinglian.plugins"]


# -- per-region switches -------------------------------------------------------------
def switched_off_for(region) -> set[str]:
    """Names of plugins switched off for ``region`` or any of its ancestors."""
    if region is None:
        return set()
    cache = g.setdefault("_ql_off", {}) if has_request_context() else {}
    key = region.id
    if key not in cache:
        from core.models import PluginSwitch
        ids = [r.id for r in region.lineage()]
        cache[key] = {s.plugin for s in PluginSwitch.select(PluginSwitch.plugin)
                      .where(PluginSwitch.region.in_(ids))}
    return cache[key]


def enabled_for(plugin: str, region) -> bool:
    """True if ``plugin`` is enabled in the deployment and not switched off for ``region``."""
    h = host()
    rec = h.records.get(plugin)
    if rec is None or not rec.enabled:
        return False
    return plugin not in switched_off_for(region)


def regions_off(plugin: str) -> frozenset[int]:
    """Ids of the regions where ``plugin`` is switched off: the switched regions and all
    their descendants (one query when nothing is switched off; per request cached). For
    pages without a signed-in user — public pages and APIs — that decide by the region of
    the record they show."""
    from core.models import PluginSwitch
    from core.org.models import Region
    cache = g.setdefault("_ql_regions_off", {}) if has_request_context() else {}
    if plugin in cache:
        return cache[plugin]
    off_roots = [s.region_id for s in PluginSwitch.select(PluginSwitch.region)
                 .where(PluginSwitch.plugin == plugin)]
    off: set[int] = set()
    if off_roots:
        by_parent: dict = {}
        for rid, parent in Region.select(Region.id, Region.parent).tuples():
            by_parent.setdefault(parent, []).append(rid)
        stack = list(off_roots)
        while stack:
            rid = stack.pop()
            if rid in off:
                continue
            off.add(rid)
            stack.extend(by_parent.get(rid, []))
    cache[plugin] = frozenset(off)
    return cache[plugin]


def regions_enabled(plugin: str):
    """Ids of the regions where ``plugin`` runs: for jobs that work per region."""
    from core.org.models import Region
    off = regions_off(plugin)
    return [rid for (rid,) in Region.select(Region.id).tuples() if rid not in off]
