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
