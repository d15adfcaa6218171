"""Audit events (审计记录): append-only."""
from __future__ import annotations

import peewee as pw

from core.db import BaseModel, utcnow


class AuditEvent(BaseModel):
    """One recorded act. The application never updates or deletes a row."""

    ts = pw.DateTimeField(default=utcnow, index=True)
    user_id = pw.IntegerField(null=True, index=True)
    username = pw.CharField(max_length=64, default="")
    role = pw.CharField(max_length=200, default="")
    region_id = pw.IntegerField(null=True, index=True)
    ip = pw.CharField(max_length=64, default="")
    user_agent = pw.CharField(max_length=255, default="")
    request_id = pw.CharField(max_length=64, default="")
    action = pw.CharField(max_length=64, index=True)
    object_type = pw.CharField(max_length=64, default="")
    object_id = pw.CharField(max_length=64, default="")
    summary = pw.TextField(default="")
    changes = pw.TextField(default="")
    success = pw.BooleanField(default=True)
