"""Audit events (审计记录) and their seals: every table here is append-only."""
from __future__ import annotations

import peewee as pw

from core.db import BaseModel, utcnow


class AuditEvent(BaseModel):
    """One recorded act. The application never updates or deletes a row.

    Indexed only where the viewer and the sealer look (time, region): every write of the
    application pays for each index here."""

    ts = pw.DateTimeField(default=utcnow, index=True)
    user_id = pw.IntegerField(null=True)
    username = pw.CharField(max_length=64, default="")
    role = pw.CharField(max_length=200, default="")
    region_id = pw.IntegerField(null=True, index=True)
    ip = pw.CharField(max_length=64, default="")
    user_agent = pw.CharField(max_length=255, default="")
    request_id = pw.CharField(max_length=64, default="")
    action = pw.CharField(max_length=64)
    object_type = pw.CharField(max_length=64, default="")
    object_id = pw.CharField(max_length=64, default="")
    summary = pw.TextField(default="")
    changes = pw.TextField(default="")
    success = pw.BooleanField(default=True)


class AuditBlock(BaseModel):
    """A sealed block (封存区块) of events ``first_seq..last_seq``; ``hash`` is SM3 over
    ``prev_hash`` and the block's events. ``prev_hash`` is unique, so the chain cannot fork."""

    first_seq = pw.BigIntegerField(unique=True)
    last_seq = pw.BigIntegerField(unique=True)
    count = pw.IntegerField()
    prev_hash = pw.CharField(max_length=64, unique=True)
    hash = pw.CharField(max_length=64, unique=True)
    created_at = pw.DateTimeField(default=utcnow)


class AuditSealEntry(BaseModel):
    """Event ``event_id`` sealed as number ``seq`` (gap-free) in block ``block_id``.

    Seals live beside the events, so sealing never updates an event."""

    event_id = pw.BigIntegerField(unique=True)
    seq = pw.BigIntegerField(unique=True)
    block_id = pw.IntegerField(index=True)


class AuditAnchorDelivery(BaseModel):
    """One delivery (锚点外送) of the newest seal to an off-site destination: an e-mail
    address (``channel`` "email") or the HTTP receiver ("http").

    ``pending`` rows are retried with backoff until ``sent`` or ``failed``; each try sends
    the newest seal at that moment (``block_id`` … ``sealed_at`` say which one went out).
    ``open_key`` holds the destination while the row is pending, so a destination has at
    most one delivery under way. Not an audit table: its rows change state."""

    uid = pw.CharField(max_length=32, unique=True)
    channel = pw.CharField(max_length=16)
    destination = pw.CharField(max_length=500)
    open_key = pw.CharField(max_length=520, null=True, unique=True)
    trigger = pw.CharField(max_length=16, default="seal")  # seal, command or page
    block_id = pw.IntegerField()
    last_seq = pw.BigIntegerField()
    hash = pw.CharField(max_length=64)
    sealed_at = pw.DateTimeField()
    state = pw.CharField(max_length=16, default="pending")
    attempts = pw.IntegerField(default=0)
    last_error = pw.TextField(default="")
    created_at = pw.DateTimeField(default=utcnow)
    next_attempt_at = pw.DateTimeField(default=utcnow)
    last_attempt_at = pw.DateTimeField(null=True)
    claimed_until = pw.DateTimeField(null=True)
    claim_token = pw.CharField(max_length=32, null=True)
    sent_at = pw.DateTimeField(null=True)

    class Meta:
        indexes = (
            (("state", "next_attempt_at"), False),
            (("destination", "created_at"), False),
        )
