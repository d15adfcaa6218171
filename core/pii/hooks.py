"""Hooks of the personal-data service: its tables, the ``keys`` commands and the file
store's daily sweep."""
from __future__ import annotations

from core.hookspecs import hookimpl


@hookimpl
def ql_models():
    from core.pii.models import KeyRotation, KeyRotationStep, StoredFile
    return [KeyRotation, KeyRotationStep, StoredFile]


@hookimpl
def ql_periodic_tasks(huey):
    import core.pii.tasks  # noqa: F401 - registers the file store's sweep at import


@hookimpl
def ql_cli(group):
    from core.pii.cli import keys_cli
    group.add_command(keys_cli)
