"""The organisation part: its models (pages and import live in core.org.views)."""
from __future__ import annotations

from core.hookspecs import hookimpl


@hookimpl
def ql_models():
    from core.org.models import Department, Person, Post, PostHolding, Region
    return [Region, Department, Post, Person, PostHolding]
