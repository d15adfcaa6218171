"""Alert bus: alerts, escalation and notifications that are never lost.

Raise an alert with :func:`emit` (or a batch with :func:`emit_many`) inside your
transaction; the outbox delivers it.
"""
from core.alerts.channels import PermanentFailure, TemporaryFailure
from core.alerts.service import (
    AlertError,
    AlertSpec,
    acknowledge,
    emit,
    emit_many,
    resolve,
)

__all__ = ["AlertError", "AlertSpec", "PermanentFailure", "TemporaryFailure", "acknowledge",
           "emit", "emit_many", "resolve"]
