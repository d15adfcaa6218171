"""Resident ID numbers (居民身份证号码, GB 11643): validation, encryption at rest (AES-GCM),
a keyed blind index (HMAC-SHA256) for lookup, and the masked form shown on pages."""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app

from core.api import _

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"


class IDNumberError(ValueError):
    """The ID number is not a valid 18-character GB 11643 number."""


def check_char(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS))
    return CHECK_CHARS[total % 11]


def normalise(raw: str) -> str:
    """Validate and return the ID number upper-cased; raise IDNumberError with the reason."""
    value = (raw or "").strip().upper()
    if len(value) != 18:
        raise IDNumberError(_("The ID number must have 18 characters (it has %(n)d).",
                              n=len(value)))
    if not value[:17].isdigit() or not (value[17].isdigit() or value[17] == "X"):
        raise IDNumberError(_("The ID number must be 17 digits followed by a digit or X."))
    try:
        born = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise IDNumberError(_("The birth date in the ID number (%(d)s) is not a real date.",
                              d=value[6:14])) from None
    if born > dt.date.today() or born.year < 1880:
        raise IDNumberError(_("The birth date in the ID number (%(d)s) is not plausible.",
                              d=value[6:14]))
    if check_char(value[:17]) != value[17]:
        raise IDNumberError(_("The check character of the ID number is wrong: "
                              "please check every digit."))
    return value


def mask(value: str) -> str:
    """5101**********123X: the first four and last four characters."""
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def _key() -> bytes:
    return current_app.config["QL_SETTINGS"].data_encryption_key()


_INDEX_KEYS: dict[bytes, bytes] = {}


def _index_key() -> bytes:
    """The blind-index key, derived from the data key (once per process and key)."""
    key = _key()
    derived = _INDEX_KEYS.get(key)
    if derived is None:
        derived = _INDEX_KEYS[key] = hmac.new(key, b"qinglian.eservice.id-index",
                                              hashlib.sha256).digest()
    return derived


def encrypt(value: str) -> str:
    """AES-GCM ciphertext (nonce + ciphertext, base64) bound to its purpose."""
    nonce = os.urandom(12)
    ct = AESGCM(_key()).encrypt(nonce, value.encode(), b"eservice.id")
    return base64.b64encode(nonce + ct).decode()


def decrypt(token: str) -> str:
    raw = base64.b64decode(token)
    return AESGCM(_key()).decrypt(raw[:12], raw[12:], b"eservice.id").decode()


def blind_index(value: str) -> str:
    """Keyed hash of the normalised number: equal numbers match, the number is not revealed."""
    return hmac.new(_index_key(), value.encode(), hashlib.sha256).hexdigest()
