"""Alert bus models: Alert (预警), its Notification outbox, inbox items and preferences."""
from __future__ import annotations

import peewee as pw

from core.auth.models import User
from core.db import BaseModel, utcnow
from core.org.models import Department, Post, Region

LEVELS = ("reminder", "yellow", "red")
STATES = ("open", "acknowledged", "resolved")


class Alert(BaseModel):
    """An alert (预警) raised by ``core.alerts.emit``.

    ``open_key`` carries ``kind|dedupe_key`` while the alert is open or acknowledged and
    is NULL once resolved: its unique index is what keeps concurrent emits of the same
    dedupe key to one open alert (NULLs never collide)."""

    kind = pw.CharField(max_length=100, index=True)
    level = pw.CharField(max_length=16, index=True)
    region = pw.ForeignKeyField(Region, backref="alerts", on_delete="RESTRICT")
    subject = pw.CharField(max_length=200)
    details = pw.TextField(default="")
    ref = pw.CharField(max_length=120, default="")
    target_post = pw.ForeignKeyField(Post, null=True, on_delete="SET NULL")
    target_department = pw.ForeignKeyField(Department, null=True, on_delete="SET NULL")
    target_user = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
    dedupe_key = pw.CharField(max_length=200, null=True)
    open_key = pw.CharField(max_length=310, null=True, unique=True)
    state = pw.CharField(max_length=16, default="open", index=True)
    escalation_level = pw.SmallIntegerField(default=0)
    escalated_to = pw.CharField(max_length=32, default="")
    escalated_at = pw.DateTimeField(null=True)
    escalate_at = pw.DateTimeField(null=True, index=True)
    created_at = pw.DateTimeField(default=utcnow, index=True)
    acknowledged_at = pw.DateTimeField(null=True)
    acknowledged_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL",
                                         backref="acknowledged_alerts")
    resolved_at = pw.DateTimeField(null=True)
    resolved_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL",
                                     backref="resolved_alerts")
    resolution_note = pw.TextField(default="")


class Notification(BaseModel):
    """One outbox row per (alert, recipient, channel): the truth about delivery.

    ``uid`` is the stable notification id receivers deduplicate on. A worker claims a
    row by setting ``claimed_until`` (a lease) and ``claim_token`` before sending.
    ``attempts`` counts the tries since the row was last queued (an operator's retry
    starts it again at 0, see ``core.alerts.deliveries``); ``retries`` counts those manual
    retries and ``last_attempt_at`` is when a worker last tried."""

    uid = pw.CharField(max_length=32, unique=True)
    alert = pw.ForeignKeyField(Alert, backref="notifications", on_delete="CASCADE")
    user = pw.ForeignKeyField(User, backref="notifications", on_delete="CASCADE")
    channel = pw.CharField(max_length=32)
    escalation_level = pw.SmallIntegerField(default=0)
    state = pw.CharField(max_length=16, default="pending")  # pending | sent | failed
    attempts = pw.IntegerField(default=0)
    next_attempt_at = pw.DateTimeField(default=utcnow)
    claimed_until = pw.DateTimeField(null=True)
    claim_token = pw.CharField(max_length=32, null=True)
    sent_at = pw.DateTimeField(null=True)
    last_error = pw.TextField(default="")
    created_at = pw.DateTimeField(default=utcnow)
    last_attempt_at = pw.DateTimeField(null=True)
    retries = pw.IntegerField(default=0)

    class Meta:
        indexes = (
            (("alert", "user", "channel"), True),
            (("state", "next_attempt_at"), False),
        )


class InboxItem(BaseModel):
    """An alert in a user's in-app inbox: one per (alert, user), never a duplicate."""

    alert = pw.ForeignKeyField(Alert, backref="inbox_items", on_delete="CASCADE")
    user = pw.ForeignKeyField(User, backref="inbox_items", on_delete="CASCADE")
    notification_uid = pw.CharField(max_length=32)
    created_at = pw.DateTimeField(default=utcnow)
    read_at = pw.DateTimeField(null=True)

    class Meta:
        indexes = (
            (("alert", "user"), True),
            (("user", "read_at"), False),
        )


class AlertPreference(BaseModel):
    """A user's choice to receive (or not) non-red alerts on one channel."""

    user = pw.ForeignKeyField(User, backref="alert_preferences", on_delete="CASCADE")
    channel = pw.CharField(max_length=32)
    enabled = pw.BooleanField()

    class Meta:
        indexes = ((("user", "channel"), True),)
