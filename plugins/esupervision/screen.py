"""Figures of the monitoring screen (监控大屏): per region or per department, this month.

Each figure is one grouped query; regions roll up to their ancestors in Python.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from peewee import JOIN, Case, fn

from core.api import Region, descendants, local_day, utc_midnight
from plugins.esupervision.models import Clock, MonitoredCase, Signal

IN_PROGRESS = ("received", "accepted", "stopped")


@dataclass
class Figures:
    """The five figures of one tile: cases in progress, yellow and red signals this
    month, early-completion rate (提前办结率) and satisfaction (满意率), in percent."""

    key: object
    label: str
    in_progress: int = 0
    yellow: int = 0
    red: int = 0
    decided: int = 0
    early: int = 0
    rated: int = 0
    satisfied: int = 0

    @property
    def early_rate(self) -> float | None:
        return round(100 * self.early / self.decided, 1) if self.decided else None

    @property
    def satisfaction(self) -> float | None:
        return round(100 * self.satisfied / self.rated, 1) if self.rated else None

    def add(self, other: Figures) -> None:
        for name in ("in_progress", "yellow", "red", "decided", "early", "rated", "satisfied"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def month_start(today: dt.date) -> dt.datetime:
    return utc_midnight(today.replace(day=1))


def _grouped(group_case, group_signal, where_case, where_signal, since) -> dict:
    out: dict = {}

    def get(key):
        return out.setdefault(key, Figures(key, ""))
    for key, n in (MonitoredCase.select(group_case, fn.COUNT(MonitoredCase.id))
                   .where(where_case & MonitoredCase.status.in_(IN_PROGRESS))
                   .group_by(group_case).tuples()):
        get(key).in_progress = n
    for key, level, n in (Signal.select(group_signal, Signal.level, fn.COUNT(Signal.id))
                          .join(MonitoredCase)
                          .where(where_signal & (Signal.raised_at >= since))
                          .group_by(group_signal, Signal.level).tuples()):
        setattr(get(key), "yellow" if level == "yellow" else "red", n)
    early = fn.SUM(Case(None, [((Clock.ended_on < Clock.due), 1)], 0))
    for key, n, e in (MonitoredCase.select(group_case, fn.COUNT(MonitoredCase.id), early)
                      .join(Clock, JOIN.LEFT_OUTER,
                            on=((Clock.case == MonitoredCase.id)
                                & (Clock.kind == "completion")))
                      .where(where_case & (MonitoredCase.decided_at >= since))
                      .group_by(group_case).tuples()):
        get(key).decided, get(key).early = n, int(e or 0)
    happy = fn.SUM(Case(None, [((MonitoredCase.rating >= 4), 1)], 0))
    for key, n, h in (MonitoredCase.select(group_case, fn.COUNT(MonitoredCase.id), happy)
                      .where(where_case & MonitoredCase.rating.is_null(False)
                             & (MonitoredCase.last_event_at >= since))
                      .group_by(group_case).tuples()):
        get(key).rated, get(key).satisfied = n, int(h or 0)
    return out


def region_tiles(root: Region, allowed: set[int], today: dt.date) -> tuple[Figures, list]:
    """Figures of ``root`` (all regions below it) and of each child region in scope."""
    since = month_start(today)
    ids = sorted(allowed)
    by_region = _grouped(MonitoredCase.region, MonitoredCase.region,
                         MonitoredCase.region.in_(ids), MonitoredCase.region.in_(ids), since)
    total = Figures(root.id, root.name)
    for rid in below(root.id) & allowed:
        if rid in by_region:
            total.add(by_region[rid])
    tiles = []
    for child in (Region.select().where(Region.parent == root.id)
                  .order_by(Region.sort, Region.code)):
        if child.id not in allowed:
            continue
        tile = Figures(child.id, child.name)
        for rid in below(child.id):
            if rid in by_region:
                tile.add(by_region[rid])
        tiles.append(tile)
    return total, tiles


def department_tiles(region: Region, allowed: set[int], today: dt.date) -> list[Figures]:
    """Figures per department (by code) of the cases of ``region`` and regions below."""
    since = month_start(today)
    ids = sorted(below(region.id) & allowed)
    rows = _grouped(MonitoredCase.department_code, MonitoredCase.department_code,
                    MonitoredCase.region.in_(ids), MonitoredCase.region.in_(ids), since)
    names = dict(MonitoredCase.select(MonitoredCase.department_code,
                                      fn.MAX(MonitoredCase.department_name))
                 .where(MonitoredCase.region.in_(ids))
                 .group_by(MonitoredCase.department_code).tuples())
    out = []
    for code, fig in sorted(rows.items(), key=lambda kv: (-kv[1].red, -kv[1].yellow, kv[0])):
        fig.label = names.get(code) or code
        out.append(fig)
    return out


def columns(tiles: int) -> int:
    """Columns of the tile grid: a near-square grid on a 16:9 wall (5 for 20 tiles)."""
    return max(1, min(6, math.ceil(math.sqrt(tiles * 1.25))))


def below(region_id: int) -> set[int]:
    """The region and every region under it."""
    return descendants(region_id)


def trend(region_ids: set[int], today: dt.date, days: int = 30) -> dict:
    """Yellow and red signals per local day over the last ``days`` days."""
    first = today - dt.timedelta(days=days - 1)
    since = utc_midnight(first)
    counts: dict = {}
    rows = (Signal.select(Signal.raised_at, Signal.level)
            .where(Signal.region.in_(sorted(region_ids)) & (Signal.raised_at >= since))
            .tuples())
    for raised, level in rows:
        day = local_day(raised)
        counts[(day, level)] = counts.get((day, level), 0) + 1
    labels = [(first + dt.timedelta(days=i)) for i in range(days)]
    return {"days": [d.strftime("%m-%d") for d in labels],
            "yellow": [counts.get((d, "yellow"), 0) for d in labels],
            "red": [counts.get((d, "red"), 0) for d in labels]}


def newest_signals(region_ids: set[int], limit: int = 12) -> list:
    return list(Signal.select(Signal, MonitoredCase)
                .join(MonitoredCase)
                .where(Signal.region.in_(sorted(region_ids)))
                .order_by(Signal.id.desc()).limit(limit))
