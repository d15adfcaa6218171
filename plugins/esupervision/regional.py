"""Settings per region (分地区设置): the city default and the counties' overrides.

A detector setting or a yellow threshold whose region is NULL is the city default; one
with a region overrides it for that region's cases and for the regions below it. Each
setting resolves on its own: a region takes the nearest override up its lineage, else the
city default, else the built-in default (a detector: on, with its own parameters; a
threshold: none, so the next wider one or 80 percent used / 1 working day left applies).
For a case, an item's threshold wins over its item type's, which wins over the one for
all items.

The sweep does not loop over cases: :meth:`Detectors.groups` turns the effective values
into a few groups of regions (the city's value for every region not listed, then each
other value with its regions), and each group becomes a condition on the case's region in
one set-based statement.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from peewee import OP, Expression

from core.api import Region
from plugins.esupervision.detectors import all_detectors
from plugins.esupervision.models import THRESHOLD_SCOPES, DetectorSetting, Threshold

DEFAULT_SHARE = 80
DEFAULT_DAYS_LEFT = 1
BUILTIN = "builtin"
CITY = None


class Tree:
    """The region tree (id -> parent id), read once."""

    def __init__(self):
        self.parent: dict[int, int | None] = dict(
            Region.select(Region.id, Region.parent).tuples())

    def lineage(self, region_id: int | None) -> list[int]:
        """The region and its ancestors, nearest first (empty for the city defaults)."""
        out: list[int] = []
        while region_id is not None and region_id not in out:
            out.append(region_id)
            region_id = self.parent.get(region_id)
        return out

    def is_root(self, region_id: int) -> bool:
        return region_id in self.parent and self.parent[region_id] is None

    def spread(self, own: dict[int, object]) -> dict[int, object]:
        """Every region at or below a key of ``own`` -> the value of the nearest one."""
        children: dict[int | None, list[int]] = {}
        for rid, pid in self.parent.items():
            children.setdefault(pid, []).append(rid)
        out: dict[int, object] = {}
        stack = [(rid, False, None) for rid in children.get(None, [])]
        seen: set[int] = set()
        while stack:
            rid, has, value = stack.pop()
            if rid in seen:
                continue
            seen.add(rid)
            if rid in own:
                has, value = True, own[rid]
            if has:
                out[rid] = value
            stack.extend((child, has, value) for child in children.get(rid, []))
        return out


@dataclass(frozen=True)
class Resolved:
    """An effective detector setting; ``source`` is the region id of the override that
    set it, ``CITY`` (None) for the city default or ``BUILTIN``."""

    enabled: bool
    params: dict
    source: int | str | None


def region_condition(region, inside: bool, ids: frozenset) -> Expression | None:
    """``region`` (an SQL expression) in ``ids`` (``inside``) or not in them; None when
    the condition holds for every region."""
    if inside:
        return Expression(region, OP.IN, sorted(ids))
    return Expression(region, OP.NOT_IN, sorted(ids)) if ids else None


class Detectors:
    """Every stored detector setting, read once, resolved for any region."""

    def __init__(self, tree: Tree | None = None):
        self.tree = tree or Tree()
        self.known = {d.code: d for d in all_detectors()}
        self.rows = {(r.region_id, r.code): r for r in DetectorSetting.select()}

    def _resolve(self, code: str, lineage: list[int]) -> Resolved:
        det = self.known.get(code)
        params = dict(getattr(det, "params", {}) or {})
        enabled, source = True, BUILTIN
        for rid in [*lineage, CITY]:
            row = self.rows.get((rid, code))
            if row is not None:
                city = self.rows.get((CITY, code))
                if city is not None and rid is not CITY:
                    params.update(json.loads(city.params or "{}"))
                params.update(json.loads(row.params or "{}"))
                enabled, source = row.enabled, rid
                break
        return Resolved(enabled, params, source)

    def for_region(self, region_id: int | None) -> dict[str, Resolved]:
        """code -> effective setting for the cases of ``region_id`` (None: the city)."""
        lineage = self.tree.lineage(region_id)
        return {code: self._resolve(code, lineage) for code in self.known}

    def groups(self, code: str, key: Callable[[Resolved], Hashable]
               ) -> list[tuple[Hashable, bool, frozenset]]:
        """``[(value, inside, region ids)]`` covering every region once: the cases whose
        region is in the ids (``inside``), or not in them, take ``key`` of the effective
        setting of ``code``. The first group is the city's value."""
        base = key(self._resolve(code, []))
        own = {rid: True for (rid, c) in self.rows if rid is not CITY and c == code}
        differ: dict[Hashable, set[int]] = {}
        for rid in self.tree.spread(own):
            value = key(self._resolve(code, self.tree.lineage(rid)))
            if value != base:
                differ.setdefault(value, set()).add(rid)
        others = frozenset().union(*differ.values()) if differ else frozenset()
        return [(base, False, others)] + [(v, True, frozenset(ids))
                                          for v, ids in differ.items()]


@dataclass(frozen=True)
class ThresholdView:
    """A yellow threshold in force for a region, with where it comes from."""

    row: Threshold
    source: int | None


class Thresholds:
    """Stored yellow thresholds (all of them, or those ``where`` selects), resolved for a
    region per setting and for a case's item."""

    def __init__(self, tree: Tree | None = None, where=None):
        self.tree = tree or Tree()
        query = Threshold.select()
        if where is not None:
            query = query.where(where)
        self.rows = {(t.region_id, t.scope, t.key): t for t in query}

    def setting(self, lineage: list[int], scope: str, key: str) -> Threshold | None:
        for rid in [*lineage, CITY]:
            row = self.rows.get((rid, scope, key))
            if row is not None:
                return row
        return None

    def for_case(self, region_id: int, item_type: str, item_code: str) -> tuple[int, int]:
        """(share percent, days left) for a case: item, else item type, else all items,
        each the nearest override else the city's; else the built-in default."""
        lineage = self.tree.lineage(region_id)
        for scope, key in (("item", item_code), ("item_type", item_type), ("all", "*")):
            row = self.setting(lineage, scope, key)
            if row is not None:
                return row.share_percent, row.days_left
        return DEFAULT_SHARE, DEFAULT_DAYS_LEFT

    def in_force(self, region_id: int | None) -> list[ThresholdView]:
        """Every threshold in force for ``region_id`` (None: the city), by scope and key."""
        lineage = self.tree.lineage(region_id)
        keys = {(s, k) for (rid, s, k) in self.rows if rid is CITY or rid in lineage}
        out = [ThresholdView(row, row.region_id)
               for s, k in keys if (row := self.setting(lineage, s, k)) is not None]
        order = {s: i for i, s in enumerate(THRESHOLD_SCOPES)}
        return sorted(out, key=lambda v: (order.get(v.row.scope, 9), v.row.key))


def threshold_for(case) -> tuple[int, int]:
    """(share percent, days left) for the case's region and item."""
    where = (((Threshold.scope == "item") & (Threshold.key == case.item_code))
             | ((Threshold.scope == "item_type") & (Threshold.key == case.item_type))
             | (Threshold.scope == "all"))
    return Thresholds(where=where).for_case(case.region_id, case.item_type, case.item_code)
