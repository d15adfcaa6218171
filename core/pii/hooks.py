"""Hooks of the personal-data service: its tables and the ``keys`` commands."""
from __future__ import annotations

from core.hookspecs import hookimpl


@hookimpl
def ql_models():
    from core.pii.models import KeyRotation, KeyRotationStep
    return [KeyRotation, KeyRotationStep]


@hookimpl
def ql_cli(group):
    from core.pii.cli import keys_cli
    group.add_command(keys_cli)
