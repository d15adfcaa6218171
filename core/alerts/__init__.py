"""Alert bus: alerts, escalation and notifications that are never lost.

Raise an alert with :func:`emit` inside your transaction; the outbox delivers it.
"""
from core.alerts.channels import PermanentFailure, TemporaryFailure
from core.alerts.service import AlertError, acknowledge, emit, resolve

__all__ = ["AlertError", "PermanentFailure", "TemporaryFailure", "acknowledge", "emit",
           "resolve"]
