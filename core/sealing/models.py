"""Custodian keys, seals and the custodians' shares of each seal's key."""
from __future__ import annotations

import peewee as pw

from core.auth.models import User
from core.db import BaseModel, utcnow
from core.org.models import Region


class CustodianKey(BaseModel):
    """A custodian's (密钥保管人) key pair. The private key is wrapped by a key derived
    (Argon2id) from a passphrase only the custodian knows: the database holds nothing that
    opens it. A new enrolment retires the old key; shares sealed to it stay readable."""

    user = pw.ForeignKeyField(User, backref="custodian_keys", on_delete="CASCADE")
    public_key = pw.BlobField()
    wrapped_private = pw.BlobField()
    kdf = pw.CharField(max_length=64)
    created_at = pw.DateTimeField(default=utcnow)
    retired_at = pw.DateTimeField(null=True)

    class Meta:
        indexes = ((("user", "retired_at"), False),)


class Seal(BaseModel):
    """One opening (开启): a key pair whose private key is encrypted under a random key
    that exists only as Shamir shares, one sealed to each custodian; ``threshold`` of them
    released at or after ``opens_at`` rebuild it."""

    purpose = pw.CharField(max_length=64)
    ref = pw.CharField(max_length=64)
    region = pw.ForeignKeyField(Region, null=True, on_delete="RESTRICT")
    opens_at = pw.DateTimeField()
    threshold = pw.SmallIntegerField()
    public_key = pw.BlobField()
    wrapped_private = pw.BlobField()
    created_by = pw.CharField(max_length=64, default="")
    created_at = pw.DateTimeField(default=utcnow)
    opened_at = pw.DateTimeField(null=True)

    class Meta:
        indexes = ((("purpose", "ref"), True),)


class SealShare(BaseModel):
    """A custodian's share of a seal's key: sealed to the custodian's key until released."""

    seal = pw.ForeignKeyField(Seal, backref="shares", on_delete="CASCADE")
    custodian = pw.ForeignKeyField(User, on_delete="RESTRICT")
    key = pw.ForeignKeyField(CustodianKey, on_delete="RESTRICT")
    number = pw.SmallIntegerField()
    sealed_share = pw.BlobField()
    released_share = pw.BlobField(null=True)
    released_at = pw.DateTimeField(null=True)

    class Meta:
        indexes = ((("seal", "custodian"), True),)


MODELS = [CustodianKey, Seal, SealShare]
