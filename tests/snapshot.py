"""A digest of a table's rows, for the tests that prove a request wrote nothing."""
from __future__ import annotations

import hashlib


def _value(value):
    # PostgreSQL's driver returns BYTEA as a memoryview, whose repr is its address (a
    # different one on every read): compare the bytes
    return bytes(value) if isinstance(value, memoryview) else value


def table_digest(model) -> str:
    """SHA-256 of every row of ``model``'s table in primary-key order."""
    rows = model.select().order_by(model._meta.primary_key).tuples()
    return hashlib.sha256(repr([tuple(map(_value, row)) for row in rows]).encode()).hexdigest()
