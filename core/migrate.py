"""Migration chains: one per component (the core and each enabled plugin), each with its
own history table ``migrations_<component>``, applied by peewee's migration Runner."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from playhouse.migrations import Runner

from core.db import db
from core.settings import ROOT

CORE_CHAIN = ("core", ROOT / "migrations")


@dataclass
class ChainStatus:
    component: str
    applied: list[str]
    pending: list[str]


def chains(host) -> list[tuple[str, Path]]:
    """The core's chain first, then each enabled plugin's, in load order."""
    out = [CORE_CHAIN]
    for _plugin, result in host.each("ql_migrations"):
        component, directory = result
        out.append((component, Path(directory)))
    return out


def runner(component: str, directory: Path) -> Runner:
    return Runner(db.obj, str(directory), table_name=f"migrations_{component}")


def upgrade(host) -> dict[str, list[str]]:
    """Apply every pending migration of the core and the enabled plugins."""
    done = {}
    for component, directory in chains(host):
        done[component] = runner(component, directory).up()
    return done


def status(host) -> list[ChainStatus]:
    out = []
    for component, directory in chains(host):
        rows = runner(component, directory).status()
        out.append(ChainStatus(component,
                               [m.name for m in rows if m.applied],
                               [m.name for m in rows if not m.applied]))
    return out
