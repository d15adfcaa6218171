"""Tables of the personal-data service: key rotations and their progress, stored files."""
from __future__ import annotations

import peewee as pw

from core.auth.models import User
from core.db import BaseModel, utcnow


class KeyRotation(BaseModel):
    """One run of ``keys rotate`` (密钥轮换): re-sealing every ciphertext under one key.

    A run holds a lease (``owner``, renewed with ``heartbeat_at`` every batch) so two
    never run at once; a killed run's lease lapses and the next ``keys rotate`` resumes it
    from its steps' durable progress."""

    target_key = pw.CharField(max_length=16)
    state = pw.CharField(max_length=16, default="running")  # running | done | superseded
    batch_size = pw.IntegerField()
    rows_done = pw.BigIntegerField(default=0)
    passes = pw.SmallIntegerField(default=1)
    owner = pw.CharField(max_length=96)
    heartbeat_at = pw.DateTimeField(default=utcnow)
    started_at = pw.DateTimeField(default=utcnow)
    finished_at = pw.DateTimeField(null=True)

    class Meta:
        table_name = "key_rotation"
        indexes = ((("state",), False),)


class KeyRotationStep(BaseModel):
    """A rotation's progress through one encrypted column (or the file store): rows up
    to ``last_id`` are done, committed in the same transaction as their new ciphertexts."""

    rotation = pw.ForeignKeyField(KeyRotation, backref="steps", on_delete="CASCADE")
    target = pw.CharField(max_length=128)
    last_id = pw.BigIntegerField(default=0)
    rows_done = pw.BigIntegerField(default=0)
    finished = pw.BooleanField(default=False)

    class Meta:
        table_name = "key_rotation_step"
        indexes = ((("rotation", "target"), True),)


class StoredFile(BaseModel):
    """An uploaded file (上传材料) kept encrypted in the file store: the blob's name,
    what it is for, its type as sniffed from its content, its size, the SHA-256 of its
    content and the key that sealed it (the blob's own header is authoritative).

    A plugin links it from its own record and serves it only after checking that
    record's permission (``file_response``)."""

    blob = pw.CharField(max_length=32, unique=True)
    purpose = pw.CharField(max_length=64)
    filename = pw.CharField(max_length=200)
    kind = pw.CharField(max_length=16)
    size = pw.BigIntegerField()
    sha256 = pw.CharField(max_length=64, index=True)
    key_id = pw.CharField(max_length=16)
    created_at = pw.DateTimeField(default=utcnow)
    created_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")

    class Meta:
        table_name = "stored_file"
        indexes = ((("key_id",), False), (("purpose", "created_at"), False))
