"""Encryption at rest with a key ring, and blind indexes.

Every ciphertext names the key and the cipher that sealed it, so a value stays readable
while the ring grows: ``ql1:<key id>:<cipher>:<base64url(nonce ‖ ciphertext ‖ tag)>``.
New values are sealed with the newest key of the ring; ``keys rotate`` re-seals old ones.

Ciphers: AES-256-GCM (default) and SM4-GCM (for deployments assessed under GB/T 39786,
商用密码应用安全性评估 / 密评), both from pyca/cryptography, which builds SM4-GCM from
OpenSSL's SM4 in GCM mode; it is checked against the RFC 8998 test vector before an SM4
key is used. A random 96-bit nonce per value; the header and the value's purpose are
authenticated as associated data, so a ciphertext copied into another column, or with
its header edited, fails to open.

Blind indexes (keyed HMAC-SHA256 or HMAC-SM3 with one key per purpose, derived from the
index key) let a query find equal values without decrypting. The index key is separate
from the data keys and stable, so rotating data keys never touches an index.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Protocol

from cryptography.exceptions import InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app

from core.settings import KeyEntry, Settings, SettingsError

VERSION = "ql1"
NONCE_BYTES = 12
TAG_BYTES = 16
RING_RECHECK_SECONDS = 1.0
MAX_HEADER = 64


class DecryptError(Exception):
    """A ciphertext cannot be opened: unknown key, wrong purpose, or tampered."""


class _Aead(Protocol):
    """One cipher under one key: ``seal``/``open`` of ciphertext ‖ tag."""

    def seal(self, nonce: bytes, data: bytes, aad: bytes) -> bytes: ...

    def open(self, nonce: bytes, data: bytes, aad: bytes) -> bytes: ...


class _AesGcm:
    def __init__(self, secret: bytes):
        self._aead = AESGCM(secret)

    def seal(self, nonce, data, aad):
        return self._aead.encrypt(nonce, data, aad)

    def open(self, nonce, data, aad):
        return self._aead.decrypt(nonce, data, aad)


class _Sm4Gcm:
    """SM4 (GB/T 32907) in GCM mode; pyca offers it as a mode of ``Cipher`` (not as an
    AEAD class), with the same 16-byte tag appended here as AESGCM appends it."""

    def __init__(self, secret: bytes):
        self._algorithm = algorithms.SM4(secret)

    def seal(self, nonce, data, aad):
        enc = Cipher(self._algorithm, modes.GCM(nonce)).encryptor()
        enc.authenticate_additional_data(aad)
        body = enc.update(data) + enc.finalize()
        return body + enc.tag

    def open(self, nonce, data, aad):
        if len(data) < TAG_BYTES:
            raise InvalidTag
        dec = Cipher(self._algorithm, modes.GCM(nonce, data[-TAG_BYTES:])).decryptor()
        dec.authenticate_additional_data(aad)
        return dec.update(data[:-TAG_BYTES]) + dec.finalize()


# RFC 8998 appendix A.1: SM4-GCM with a 96-bit IV.
_SM4_VECTOR = {
    "key": "0123456789ABCDEFFEDCBA9876543210", "iv": "00001234567800000000ABCD",
    "aad": "FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2",
    "plain": "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD"
             "EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA",
    "sealed": "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735"
              "D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D"
              "83DE3541E4C2B58177E065A9BF7B62EC",
}
_sm4_checked = False


def check_sm4() -> None:
    """Fail loudly (SettingsError) when this OpenSSL build lacks SM4-GCM or computes it
    wrongly: some distributions disable the SM algorithms."""
    global _sm4_checked
    if _sm4_checked:
        return
    v = {k: bytes.fromhex(h) for k, h in _SM4_VECTOR.items()}
    try:
        sealed = _Sm4Gcm(v["key"]).seal(v["iv"], v["plain"], v["aad"])
    except UnsupportedAlgorithm as exc:
        raise SettingsError(f"SM4-GCM is not available in this OpenSSL build ({exc}); "
                            "keys of cipher sm4-gcm cannot be used here") from None
    if sealed != v["sealed"]:
        raise SettingsError("SM4-GCM does not reproduce the RFC 8998 test vector here; "
                            "keys of cipher sm4-gcm cannot be used")
    _sm4_checked = True


CIPHERS = {"aes-256-gcm": _AesGcm, "aes-128-gcm": _AesGcm, "sm4-gcm": _Sm4Gcm}


@dataclass(frozen=True)
class DataKey:
    """A key of the ring, ready to use: its header (``ql1:<id>:<cipher>``) and cipher."""

    id: str
    cipher: str
    source: str
    aead: _Aead = field(repr=False)
    fingerprint: str = ""

    @property
    def header(self) -> str:
        return f"{VERSION}:{self.id}:{self.cipher}"


def fingerprint(secret: bytes) -> str:
    """Eight hex characters identifying a key, to compare processes' rings by eye."""
    return hashlib.sha256(b"qinglian key fingerprint\0" + secret).hexdigest()[:8]


class KeyRing:
    """The data keys of a deployment, oldest first; the newest seals new values."""

    def __init__(self, entries: list[KeyEntry]):
        if not entries:
            raise SettingsError("the data key ring is empty")
        self.keys: dict[str, DataKey] = {}
        for entry in entries:
            if entry.cipher == "sm4-gcm":
                check_sm4()
            self.keys[entry.id] = DataKey(entry.id, entry.cipher, entry.source,
                                          CIPHERS[entry.cipher](entry.secret),
                                          fingerprint(entry.secret))
        self.primary = self.keys[entries[-1].id]

    def seal(self, data: bytes, context: str, key: DataKey | None = None) -> tuple[str, bytes]:
        """(header, nonce ‖ ciphertext ‖ tag) of ``data`` for ``context``."""
        key = key or self.primary
        nonce = os.urandom(NONCE_BYTES)
        return key.header, nonce + key.aead.seal(nonce, data, _aad(key.header, context))

    def open(self, header: str, body: bytes, context: str) -> bytes:
        parts = header.split(":")
        if len(parts) != 3 or parts[0] != VERSION:
            raise DecryptError("not a ciphertext of this application (bad header)")
        key = self.keys.get(parts[1])
        if key is None:
            raise DecryptError(f"data key {parts[1]!r} is not in this process's key ring "
                               "(QL_DATA_KEYS / instance/data_keys)")
        if key.cipher != parts[2]:
            raise DecryptError(f"data key {key.id!r} is {key.cipher}, the ciphertext says "
                               f"{parts[2]}")
        try:
            return key.aead.open(body[:NONCE_BYTES], body[NONCE_BYTES:],
                                 _aad(header, context))
        except InvalidTag:
            raise DecryptError(f"ciphertext under key {key.id!r} does not authenticate for "
                               f"{context!r}: tampered, or not written for it") from None


    def seal_token(self, value: str, purpose: str, key: DataKey | None = None) -> str:
        """The text ciphertext of ``value`` (see :func:`encrypt`)."""
        header, body = self.seal(value.encode(), purpose, key)
        return f"{header}:{base64.urlsafe_b64encode(body).rstrip(b'=').decode()}"

    def open_token(self, token: str, purpose: str) -> str:
        """The value of a text ciphertext (see :func:`decrypt`)."""
        header, body = _split_token(token)
        return self.open(header, body, purpose).decode()

    def seal_blob(self, data: bytes, context: str, key: DataKey | None = None) -> bytes:
        """A binary ciphertext (a file's content): the header on a line, then the body."""
        header, body = self.seal(data, context, key)
        return header.encode() + b"\n" + body


def split_blob(blob: bytes) -> tuple[str, bytes]:
    """(header, body) of a binary ciphertext."""
    header, sep, _rest = blob[:MAX_HEADER].partition(b"\n")
    if not sep:
        raise DecryptError("not an encrypted file of this application (no header)")
    return header.decode("ascii", "replace"), blob[len(header) + 1:]


def header_key(header: str) -> str:
    """The key id named by a ciphertext header (``""`` if it is not one)."""
    parts = header.split(":")
    return parts[1] if len(parts) == 3 and parts[0] == VERSION else ""


def _split_token(token: str) -> tuple[str, bytes]:
    header, sep, body = token.rpartition(":")
    if not sep:
        raise DecryptError("not a ciphertext of this application (no header)")
    try:
        return header, base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except ValueError:
        raise DecryptError("the ciphertext is not base64") from None


def _aad(header: str, context: str) -> bytes:
    return f"{header}:{context}".encode()


@dataclass
class _Cached:
    stamp: tuple
    ring: KeyRing
    checked_at: float


_rings: dict[tuple, _Cached] = {}
_lock = threading.Lock()


def _settings() -> Settings:
    return current_app.config["QL_SETTINGS"]


def key_ring(settings: Settings | None = None, *, reload: bool = False) -> KeyRing:
    """The ring of the current app's settings, read once per process. The key-ring file
    is re-checked at most every second: a key added by ``keys add`` reaches running
    processes without a restart."""
    settings = settings or _settings()
    ident = (settings.data_key, settings.data_keys, str(settings.instance_path))
    cached = _rings.get(ident)
    now = time.monotonic()
    if cached is not None and not reload and now - cached.checked_at < RING_RECHECK_SECONDS:
        return cached.ring
    with _lock:
        stamp = settings.key_ring_stamp()
        cached = _rings.get(ident)
        if cached is None or cached.stamp != stamp or reload:
            cached = _Cached(stamp, KeyRing(settings.key_ring_entries()), now)
            _rings[ident] = cached
        cached.checked_at = now
        return cached.ring


def _open(header: str, body: bytes, context: str) -> bytes:
    ring = key_ring()
    key_id = header_key(header)
    if key_id and key_id not in ring.keys:
        ring = key_ring(reload=True)  # a key added since this process read the ring
    return ring.open(header, body, context)


def encrypt(value: str, purpose: str) -> str:
    """The text ciphertext of ``value`` for ``purpose`` (e.g. ``"eservice.id_number"``)
    under the newest key of the ring."""
    return key_ring().seal_token(value, purpose)


def decrypt(token: str, purpose: str) -> str:
    """The value of a text ciphertext written by :func:`encrypt` for the same purpose;
    raises DecryptError otherwise."""
    header, body = _split_token(token)
    return _open(header, body, purpose).decode()


def token_key(token: str) -> str:
    """The id of the key that sealed a text ciphertext (``""`` if it has no header)."""
    parts = token.split(":", 3)
    return parts[1] if len(parts) == 4 and parts[0] == VERSION else ""


def open_blob(blob: bytes, context: str) -> bytes:
    """The content of a binary ciphertext written by :meth:`KeyRing.seal_blob`."""
    header, body = split_blob(blob)
    return _open(header, body, context)


def decrypt_legacy(token: str, associated: bytes) -> str:
    """A value sealed before the key ring (base64 of nonce ‖ AES-GCM ciphertext under
    QL_DATA_KEY, key "0"). Only for the migrations that re-seal such values."""
    key = key_ring().keys.get("0")
    if key is None:
        raise DecryptError("values written before the key ring need their key: set "
                           "QL_DATA_KEY (or restore instance/data_key)")
    try:
        raw = base64.b64decode(token, validate=True)
        return key.aead.open(raw[:NONCE_BYTES], raw[NONCE_BYTES:], associated).decode()
    except (ValueError, InvalidTag):
        raise DecryptError("a value written before the key ring does not open under key "
                           "\"0\" (QL_DATA_KEY): is it the key that wrote it?") from None


_index_keys: dict[tuple, tuple[str, bytes]] = {}


def _index_key(purpose: str) -> tuple[str, bytes]:
    settings = _settings()
    ident = (settings.index_key, str(settings.instance_path), purpose)
    found = _index_keys.get(ident)
    if found is None:
        algorithm, root = settings.blind_index_key()
        digest = "sm3" if algorithm == "hmac-sm3" else "sha256"
        found = _index_keys[ident] = (digest, hmac.digest(
            root, b"qinglian.blind-index\0" + purpose.encode(), digest))
    return found


def blind_index(value: str, purpose: str) -> str:
    """The blind index (keyed, deterministic: 64 hex characters) of a normalised value
    for ``purpose``: equal values give equal indexes, the value cannot be read back, and
    the same value indexed for another purpose gives another index."""
    digest, key = _index_key(purpose)
    return hmac.digest(key, value.encode(), digest).hex()
