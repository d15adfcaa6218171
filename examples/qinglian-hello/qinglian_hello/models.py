"""The plugin's one table: ``hello_greeting`` (tables take the plugin's name as prefix)."""
from __future__ import annotations

import peewee as pw

from core.api import BaseModel, Region, User, utcnow


class Greeting(BaseModel):
    """A greeting (问候) posted to the colleagues of one region; ``author`` is empty for
    the ones the board writes itself when a case is closed."""

    region = pw.ForeignKeyField(Region, backref="+", on_delete="CASCADE")
    text = pw.CharField(max_length=200)
    author = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    ref = pw.CharField(max_length=64, default="")
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "hello_greeting"
        indexes = ((("region", "created_at"), False),)
