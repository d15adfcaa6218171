"""The peewee field that stores a value encrypted at rest (see core.pii.crypto)."""
from __future__ import annotations

import peewee as pw

from core.pii.crypto import decrypt, encrypt


class EncryptedField(pw.TextField):
    """A text value stored as a key-ring ciphertext bound to ``purpose``.

    Assign and read plain strings: writing seals the value under the newest key,
    reading opens it (whatever key of the ring sealed it). ``keys rotate`` finds every
    such field of the enabled plugins' models and re-seals it. Equality lookups need a
    blind index column beside it (``blind_index(value, purpose)``): a ciphertext never
    equals another, so ``where(field == value)`` finds nothing."""

    def __init__(self, purpose: str, *args, **kwargs):
        if not purpose:
            raise ValueError("an EncryptedField needs a purpose, e.g. 'cases.reporter_name'")
        self.purpose = purpose
        super().__init__(*args, **kwargs)

    def db_value(self, value):
        if value is None:
            return None
        return encrypt(str(value), self.purpose)

    def python_value(self, value):
        if value is None:
            return None
        return decrypt(value, self.purpose)
