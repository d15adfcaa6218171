"""The sealing service (密封服务): boxes nobody can open before their opening time.

Why this design. A sealed bid (密封投标) must stay unreadable until the bid opening (开标)
to staff, administrators and anyone who copies the database, the files and the
deployment's own keys — so no key the server keeps may open it. Each opening is a
:class:`Seal`: an X25519 key pair made for it. Data is sealed to its public key (X25519 +
HKDF-SHA256 + AES-256-GCM, an ephemeral key per box). Its private key is kept only
encrypted (AES-GCM) under a random 128-bit key, and that key exists only as Shamir shares
(pycryptodome's ``Crypto.Protocol.SecretSharing``, over GF(2^128)), one per custodian
(密钥保管人: purchaser, agency, supervisor), each share sealed to the custodian's own key
pair. A custodian's private key is wrapped by a passphrase only they know (Argon2id), and
the server forgets the seal's key and private key the moment the seal is made.

At or after the opening time, each custodian releases their share by giving their
passphrase; once ``threshold`` shares are released, :func:`open_seal` rebuilds the key and
opens the boxes. Before the opening time the service refuses every release, so the only
way to read a box early is ``threshold`` custodians conspiring outside the system, with
their passphrases and a copy of the database. Every step is audited.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass

from argon2.low_level import Type, hash_secret_raw
from Crypto.Protocol.SecretSharing import Shamir
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import (
    X25519PrivateKey,
    X25519PublicKey,
)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from core.audit.service import record
from core.auth.models import User
from core.auth.passwords import verify_password
from core.auth.scope import descendants, grants_of
from core.db import db, utcnow
from core.i18n import _
from core.sealing.models import CustodianKey, Seal, SealShare

BOX_VERSION = b"\x01"  # X25519 + HKDF-SHA256 + AES-256-GCM
KDF = "argon2id:t=3,m=65536,p=4"
MIN_PASSPHRASE = 12
MAX_PASSPHRASE = 256


class SealError(ValueError):
    """A refused sealing operation; the message says why."""


# -- primitives ----------------------------------------------------------------------
def _raw_public(key) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _raw_private(key: X25519PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                             serialization.NoEncryption())


def _box_key(shared: bytes, ephemeral: bytes, recipient: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"qinglian-seal-v1" + ephemeral + recipient).derive(shared)


def box(public_key: bytes, data: bytes, aad: bytes) -> bytes:
    """Seal ``data`` to an X25519 public key; ``aad`` binds it to its place."""
    recipient = X25519PublicKey.from_public_bytes(bytes(public_key))
    ephemeral = X25519PrivateKey.generate()
    eph = _raw_public(ephemeral.public_key())
    key = _box_key(ephemeral.exchange(recipient), eph, bytes(public_key))
    nonce = os.urandom(12)
    return BOX_VERSION + eph + nonce + AESGCM(key).encrypt(nonce, data, aad)


def unbox(private_key: X25519PrivateKey, sealed: bytes, aad: bytes) -> bytes:
    sealed = bytes(sealed)
    if sealed[:1] != BOX_VERSION or len(sealed) < 1 + 32 + 12 + 16:
        raise SealError(_("The sealed data is damaged."))
    eph, nonce, body = sealed[1:33], sealed[33:45], sealed[45:]
    key = _box_key(private_key.exchange(X25519PublicKey.from_public_bytes(eph)), eph,
                   _raw_public(private_key.public_key()))
    try:
        return AESGCM(key).decrypt(nonce, body, aad)
    except InvalidTag:
        raise SealError(_("The sealed data is damaged or belongs elsewhere.")) from None


def receipt(sealed: bytes) -> str:
    """The receipt of a box (回执): SHA-256 of exactly the bytes stored."""
    return hashlib.sha256(bytes(sealed)).hexdigest()


def _passphrase_key(passphrase: str, salt: bytes) -> bytes:
    return hash_secret_raw(passphrase.encode("utf-8"), salt, time_cost=3, memory_cost=65536,
                           parallelism=4, hash_len=32, type=Type.ID)


def _wrap(private: X25519PrivateKey, passphrase: str, aad: bytes) -> bytes:
    salt, nonce = os.urandom(16), os.urandom(12)
    return salt + nonce + AESGCM(_passphrase_key(passphrase, salt)).encrypt(
        nonce, _raw_private(private), aad)


def _unwrap(wrapped: bytes, passphrase: str, aad: bytes) -> X25519PrivateKey:
    wrapped = bytes(wrapped)
    salt, nonce, body = wrapped[:16], wrapped[16:28], wrapped[28:]
    try:
        raw = AESGCM(_passphrase_key(passphrase, salt)).decrypt(nonce, body, aad)
    except InvalidTag:
        raise SealError(_("passphrase: wrong custody passphrase.")) from None
    return X25519PrivateKey.from_private_bytes(raw)


def _key_aad(user_id: int) -> bytes:
    return f"custodian:{user_id}".encode()


def _share_aad(seal: Seal, number: int) -> bytes:
    return f"share:{seal.purpose}:{seal.ref}:{number}".encode()


def _seal_aad(seal: Seal) -> bytes:
    return f"seal:{seal.purpose}:{seal.ref}".encode()


# -- custodians ------------------------------------------------------------------------
def check_passphrase(user: User, passphrase: str) -> str:
    """A custody passphrase: 12–256 characters and not the account's login password."""
    if not isinstance(passphrase, str) or not (
            MIN_PASSPHRASE <= len(passphrase) <= MAX_PASSPHRASE):
        raise SealError(_("passphrase: %(min)d to %(max)d characters.", min=MIN_PASSPHRASE,
                          max=MAX_PASSPHRASE))
    if verify_password(user.password_hash, passphrase):
        raise SealError(_("passphrase: must differ from your login password (whoever "
                          "resets a password must not be able to open seals)."))
    return passphrase


def custodian_key(user) -> CustodianKey | None:
    """The custodian's current key, or None if they have not enrolled."""
    return (CustodianKey.select().where((CustodianKey.user == user.id)
                                        & CustodianKey.retired_at.is_null())
            .order_by(CustodianKey.id.desc()).first())


def enroll_custodian(user: User, passphrase: str) -> CustodianKey:
    """Give ``user`` a custodian key pair, wrapped by ``passphrase`` (retiring any old
    key: shares already sealed to it stay readable with the old passphrase)."""
    check_passphrase(user, passphrase)
    private = X25519PrivateKey.generate()
    wrapped = _wrap(private, passphrase, _key_aad(user.id))
    with db.atomic():
        now = utcnow()
        retired = (CustodianKey.update(retired_at=now)
                   .where((CustodianKey.user == user.id) & CustodianKey.retired_at.is_null())
                   .execute())
        row = CustodianKey.create(user=user.id, public_key=_raw_public(private.public_key()),
                                  wrapped_private=wrapped, kdf=KDF, created_at=now)
        record("seal.custodian_enrol", object_type="custodian_key", object_id=row.id,
               user=user, summary=f"custodian key for {user.username}"
               + (f"; {retired} older key retired" if retired else ""))
    return row


def change_passphrase(user: User, old: str, new: str) -> int:
    """Re-wrap every key of the custodian (current and retired) under a new passphrase.
    Returns the number of keys re-wrapped."""
    check_passphrase(user, new)
    keys = list(CustodianKey.select().where(CustodianKey.user == user.id))
    if not keys:
        raise SealError(_("You are not enrolled as a custodian."))
    rewrapped = [(k, _wrap(_unwrap(k.wrapped_private, old, _key_aad(user.id)), new,
                           _key_aad(user.id))) for k in keys]
    with db.atomic():
        for key, wrapped in rewrapped:
            CustodianKey.update(wrapped_private=wrapped).where(CustodianKey.id == key.id) \
                .execute()
        record("seal.custodian_passphrase", object_type="user", object_id=user.id, user=user,
               summary=f"custody passphrase changed ({len(keys)} key(s))")
    return len(keys)


def custodians_for(permission: str, region_id: int) -> list[User]:
    """Active, enrolled accounts whose grants for ``permission`` cover ``region_id``."""
    enrolled = (User.select().join(CustodianKey, on=(CustodianKey.user == User.id))
                .where(CustodianKey.retired_at.is_null() & (User.active == True))
                .distinct().order_by(User.username))
    return [u for u in enrolled
            if any(permission in perms and region_id in descendants(rid)
                   for _r, rid, perms in grants_of(u))]


# -- seals -------------------------------------------------------------------------------
def create_seal(purpose: str, ref: str, *, opens_at: dt.datetime, custodians: Iterable[User],
                threshold: int = 2, region_id: int | None = None, by=None) -> Seal:
    """Make the key pair of one opening and hand its key out in shares, ``threshold`` of
    which rebuild it. ``opens_at`` is naive UTC. Raises SealError naming what is wrong."""
    people = list({u.id: u for u in custodians}.values())
    if threshold < 2:
        raise SealError(_("threshold: at least 2 custodians must join to open a seal."))
    if len(people) < threshold:
        raise SealError(_("custodians: %(n)d chosen, %(k)d needed to open.",
                          n=len(people), k=threshold))
    if len(people) > 255:
        raise SealError(_("custodians: at most 255."))
    if opens_at <= utcnow():
        raise SealError(_("opens_at: the opening time must lie in the future."))
    keys = {}
    for person in people:
        key = custodian_key(person)
        if key is None:
            raise SealError(_("custodians: %(name)s has no custodian key yet.",
                              name=person.username))
        keys[person.id] = key
    private = X25519PrivateKey.generate()
    split_key = os.urandom(16)
    with db.atomic():
        row = Seal.create(purpose=purpose, ref=ref, region=region_id, opens_at=opens_at,
                          threshold=threshold, public_key=_raw_public(private.public_key()),
                          wrapped_private=b"", created_by=getattr(by, "username", "") or "")
        nonce = os.urandom(12)
        wrapped = nonce + AESGCM(split_key).encrypt(nonce, _raw_private(private), _seal_aad(row))
        Seal.update(wrapped_private=wrapped).where(Seal.id == row.id).execute()
        shares = Shamir.split(threshold, len(people), split_key, ssss=False)
        for person, (number, share) in zip(people, shares, strict=True):
            key = keys[person.id]
            SealShare.create(seal=row, custodian=person.id, key=key, number=number,
                             sealed_share=box(key.public_key, share, _share_aad(row, number)))
        record("seal.create", object_type="seal", object_id=row.id, user=by,
               region_id=region_id,
               summary=f"{purpose} {ref}: {threshold} of {len(people)} custodians "
                       f"({', '.join(p.username for p in people)}) open it at {opens_at}")
    del private, split_key
    return Seal.get_by_id(row.id)


def get_seal(purpose: str, ref: str) -> Seal | None:
    return Seal.get_or_none((Seal.purpose == purpose) & (Seal.ref == ref))


def seal_data(seal: Seal, data: bytes, context: str = "") -> bytes:
    """A box of ``data`` that only this seal's opening reads; ``context`` (e.g. the bid's
    id) binds it to its place, so a box moved elsewhere does not open."""
    if seal.opened_at is not None or utcnow() >= seal.opens_at:
        raise SealError(_("This seal is past its opening time: nothing more can be sealed."))
    return box(seal.public_key, data, _seal_aad(seal) + b"|" + context.encode())


def reschedule(seal: Seal, opens_at: dt.datetime, by=None) -> Seal:
    """Move the opening later (an amendment postponed the deadline); never earlier."""
    if utcnow() >= seal.opens_at:
        raise SealError(_("The opening time has come: it cannot be moved."))
    if opens_at < seal.opens_at:
        raise SealError(_("opens_at: an opening can be postponed, never brought forward."))
    with db.atomic():
        Seal.update(opens_at=opens_at).where(Seal.id == seal.id).execute()
        record("seal.reschedule", object_type="seal", object_id=seal.id, user=by,
               region_id=seal.region_id,
               changes={"opens_at": [seal.opens_at.isoformat(), opens_at.isoformat()]},
               summary=f"{seal.purpose} {seal.ref} opens at {opens_at}")
    return Seal.get_by_id(seal.id)


def release_shares(seals: Iterable[Seal], user: User, passphrase: str) -> list[Seal]:
    """The custodian releases their shares of ``seals`` (each at or after its opening
    time, by the server's clock: no caller can say "it is later"), with one passphrase
    check. Returns the seals whose share was released now. A wrong passphrase is audited
    and refused; nothing is released."""
    now = utcnow()
    seals = list(seals)
    early = [s for s in seals if now < s.opens_at]
    if early:
        raise SealError(_("Sealed until %(when)s UTC: no share can be released before the "
                          "opening time.", when=min(s.opens_at for s in early)
                          .strftime("%Y-%m-%d %H:%M:%S")))
    pending = list(SealShare.select().where(
        SealShare.seal.in_([s.id for s in seals]) & (SealShare.custodian == user.id)
        & SealShare.released_at.is_null()))
    if not pending:
        return []
    unwrapped: dict[int, X25519PrivateKey] = {}
    by_id = {s.id: s for s in seals}
    opened = []
    try:
        for share in pending:
            if share.key_id not in unwrapped:
                unwrapped[share.key_id] = _unwrap(CustodianKey.get_by_id(share.key_id)
                                                  .wrapped_private, passphrase,
                                                  _key_aad(user.id))
            seal = by_id[share.seal_id]
            plain = unbox(unwrapped[share.key_id], share.sealed_share,
                          _share_aad(seal, share.number))
            opened.append((share, seal, plain))
    except SealError:
        with db.atomic():
            record("seal.release_refused", object_type="user", object_id=user.id, user=user,
                   success=False, summary="wrong custody passphrase")
        raise
    with db.atomic():
        for share, seal, plain in opened:
            n = (SealShare.update(released_share=plain, released_at=now)
                 .where((SealShare.id == share.id) & SealShare.released_at.is_null())
                 .execute())
            if n:
                record("seal.share_release", object_type="seal", object_id=seal.id,
                       user=user, region_id=seal.region_id,
                       summary=f"{seal.purpose} {seal.ref}: share {share.number} released")
    return [seal for _share, seal, _plain in opened]


def released(seal: Seal) -> int:
    """How many shares of ``seal`` are released."""
    return (SealShare.select().where((SealShare.seal == seal.id)
                                     & SealShare.released_at.is_null(False)).count())


def is_ready(seal: Seal) -> bool:
    """True when the seal may be opened: its time has come and enough shares are out."""
    return utcnow() >= seal.opens_at and released(seal) >= seal.threshold


@dataclass
class Opener:
    """An opened seal: reads the boxes sealed to it."""

    seal: Seal
    _private: X25519PrivateKey

    def open(self, sealed: bytes, context: str = "") -> bytes:
        return unbox(self._private, sealed, _seal_aad(self.seal) + b"|" + context.encode())


def open_seal(seal: Seal, *, by=None) -> Opener:
    """Rebuild the seal's key from the released shares and return an :class:`Opener`.
    The first opening is recorded (``opened_at``) and audited."""
    now = utcnow()
    if now < seal.opens_at:
        raise SealError(_("Sealed until %(when)s UTC.",
                          when=seal.opens_at.strftime("%Y-%m-%d %H:%M:%S")))
    shares = [(s.number, bytes(s.released_share)) for s in SealShare.select().where(
        (SealShare.seal == seal.id) & SealShare.released_at.is_null(False))
        .order_by(SealShare.number)]
    if len(shares) < seal.threshold:
        raise SealError(_("%(n)d of the %(k)d custodian shares needed are released.",
                          n=len(shares), k=seal.threshold))
    split_key = Shamir.combine(shares[:seal.threshold], ssss=False)
    wrapped = bytes(seal.wrapped_private)
    try:
        raw = AESGCM(split_key).decrypt(wrapped[:12], wrapped[12:], _seal_aad(seal))
    except InvalidTag:
        raise SealError(_("The released shares do not rebuild this seal's key.")) from None
    if seal.opened_at is None:
        with db.atomic():
            n = (Seal.update(opened_at=now)
                 .where((Seal.id == seal.id) & Seal.opened_at.is_null()).execute())
            if n:
                record("seal.open", object_type="seal", object_id=seal.id, user=by,
                       region_id=seal.region_id,
                       summary=f"{seal.purpose} {seal.ref} opened with {len(shares)} shares")
        seal = Seal.get_by_id(seal.id)
    return Opener(seal, X25519PrivateKey.from_private_bytes(raw))
