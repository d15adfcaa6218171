"""Core events: the only way plugins talk to each other.

``publish(name, payload)`` calls ``ql_handle_event`` on every core part and enabled
plugin, in the caller's transaction. Payloads are JSON-serialisable dicts.
"""
from __future__ import annotations

import json

from core.plugins import host


def publish(name: str, payload: dict) -> None:
    """Deliver event ``name`` to every subscriber now; a subscriber's error propagates."""
    json.dumps(payload)  # payloads must be plain JSON (dates as ISO strings): fail at the source
    host().pm.hook.ql_handle_event(name=name, payload=payload)
