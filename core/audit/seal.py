"""Tamper evidence (防篡改): sealing audit events into an SM3 hash chain, and verifying it.

Events get a gap-free sequence number of their own when sealed (``AuditSealEntry``), in
id order, into blocks (``AuditBlock``). A block's hash is SM3 over the previous block's
hash, the block's range and the canonical serialization of each of its events. Sealing
only inserts rows, so every audit table stays append-only.

Sealing picks events that are in no seal entry yet (an anti-join, not "id > last"): on
PostgreSQL ids are handed out before commit, so a row that commits late with a lower id
is sealed by the next run instead of being skipped. Only events older than a safety lag
are taken, so rows of transactions still in flight mostly keep id order; and only events
younger than a day before the newest seal are looked at, so the search stays small
however long the trail grows (an event's transaction does not stay open for a day;
verify counts every unsealed event, of any age). Two sealers
running at once cannot fork the chain: they queue on a lock of their own (SQLite's
write lock, a PostgreSQL advisory lock that writers never take), and as a safety net
``seq``, ``event_id`` and ``prev_hash`` are unique, so a loser retries on top of the
winner's block.

After each seal the newest block (id, last seq, hash) is written to the anchor file
(QL_AUDIT_ANCHOR_PATH, default ``instance/audit_anchor.json``), outside the database;
verification compares the chain with it, so a truncated tail is caught too. The sealing
job then sends it off-site (``core.audit.anchor``).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import peewee as pw
from flask import current_app

from core.audit.models import AuditBlock, AuditEvent, AuditSealEntry
from core.db import db, is_postgres, utcnow
from core.i18n import _

log = logging.getLogger("qinglian.audit")

GENESIS = "0" * 64
SEAL_LAG_SECONDS = 5
SEAL_HORIZON_HOURS = 24  # no transaction stays open this long before it commits
BLOCK_SIZE = 500
RETRIES = 5
FIELDS = ("id", "ts", "user_id", "username", "role", "region_id", "ip", "user_agent",
          "request_id", "action", "object_type", "object_id", "summary", "changes", "success")


class ChainError(RuntimeError):
    """The seal chain in the database does not match its anchor: sealing stops."""


@dataclass
class SealResult:
    """What one sealing run did."""

    blocks: list[int] = field(default_factory=list)
    events: int = 0


@dataclass
class VerifyResult:
    """The outcome of recomputing the chain. ``block_id`` names the first bad block."""

    ok: bool
    blocks: int = 0
    events: int = 0
    unsealed: int = 0
    block_id: int | None = None
    reason: str = ""
    anchor: dict | None = None
    anchor_path: str = ""


# -- canonical form and hashing ---------------------------------------------------
def _ts(value) -> str:
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.%f")
    return str(value)


def canonical(event: dict, seq: int) -> bytes:
    """The canonical serialization of one sealed event: sorted-key JSON of a fixed field
    list plus its seal number."""
    data = {name: event.get(name) for name in FIELDS}
    data["ts"] = _ts(data["ts"])
    data["success"] = bool(data["success"])
    data["seq"] = seq
    return json.dumps(data, ensure_ascii=False, sort_keys=True,
                      separators=(",", ":")).encode("utf-8")


def block_hash(prev_hash: str, first_seq: int, last_seq: int,
               events: list[tuple[int, dict]]) -> str:
    """SM3 over the previous hash, the block's range and its events in seq order."""
    h = hashlib.new("sm3")
    h.update(f"{prev_hash}|{first_seq}|{last_seq}|{len(events)}\n".encode("ascii"))
    for seq, event in events:
        h.update(canonical(event, seq))
        h.update(b"\n")
    return h.hexdigest()


# -- the anchor outside the database ----------------------------------------------
def anchor_path() -> Path:
    """Where the newest seal is exported (QL_AUDIT_ANCHOR_PATH or the instance folder)."""
    settings = current_app.config["QL_SETTINGS"]
    if settings.audit_anchor_path:
        return Path(settings.audit_anchor_path)
    return Path(settings.instance_path) / "audit_anchor.json"


def read_anchor(path: Path | None = None) -> dict | None:
    """The exported newest seal, or None when there is no anchor file yet."""
    path = path or anchor_path()
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {"block_id": int(data["block_id"]), "last_seq": int(data["last_seq"]),
                "hash": str(data["hash"]), "sealed_at": str(data.get("sealed_at", ""))}
    except (ValueError, KeyError, TypeError) as exc:
        raise ChainError(_("The audit anchor %(path)s is unreadable: %(error)s",
                           path=str(path), error=str(exc))) from None


def anchor_doc(block: AuditBlock) -> dict:
    """The anchor of ``block``: what the anchor file holds and what is sent off-site."""
    return {"block_id": block.id, "last_seq": block.last_seq, "hash": block.hash,
            "sealed_at": _ts(block.created_at)}


def anchor_text(block: AuditBlock) -> str:
    """The anchor file's text for ``block`` (sorted-key JSON and a newline)."""
    return json.dumps(anchor_doc(block), sort_keys=True) + "\n"


def write_anchor(block: AuditBlock, path: Path | None = None) -> Path:
    """Export ``block`` as the newest seal: written to a temporary file of this writer's
    own (two sealers may export at once), then renamed."""
    path = path or anchor_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(anchor_text(block))
        os.chmod(tmp, 0o644)  # not secret: backups and the audit administrator read it
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


# -- sealing ------------------------------------------------------------------------
SEAL_LOCK_KEY = 0x51A0D17  # PostgreSQL advisory lock of the sealers (not of writers)


def _write_transaction():
    # SQLite: take the write lock up front so the read of the chain's head stays valid.
    return db.atomic() if is_postgres() else db.atomic("IMMEDIATE")


def _seal_block(cutoff: dt.datetime, limit: int) -> AuditBlock | None:
    with _write_transaction():
        if is_postgres():  # sealers queue for each other; writers never take this lock
            db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (SEAL_LOCK_KEY,))
        head = AuditBlock.select().order_by(AuditBlock.last_seq.desc()).first()
        prev_hash = head.hash if head else GENESIS
        first_seq = head.last_seq + 1 if head else 1
        window = AuditEvent.ts <= cutoff
        if head is not None:  # events sealed long ago need not be looked at again
            window &= AuditEvent.ts >= head.created_at - dt.timedelta(hours=SEAL_HORIZON_HOURS)
        rows = list(AuditEvent.select()
                    .join(AuditSealEntry, pw.JOIN.LEFT_OUTER,
                          on=(AuditSealEntry.event_id == AuditEvent.id))
                    .where(AuditSealEntry.id.is_null(True) & window)
                    .order_by(AuditEvent.id).limit(limit).dicts())
        if not rows:
            return None
        numbered = list(enumerate(rows, start=first_seq))
        last_seq = first_seq + len(rows) - 1
        block = AuditBlock.create(first_seq=first_seq, last_seq=last_seq, count=len(rows),
                                  prev_hash=prev_hash, created_at=utcnow(),
                                  hash=block_hash(prev_hash, first_seq, last_seq, numbered))
        AuditSealEntry.insert_many(
            [{"event_id": ev["id"], "seq": seq, "block_id": block.id} for seq, ev in numbered]
        ).execute()
        return block


def check_anchor_holds() -> None:
    """Raise ChainError when the block the anchor file names is missing or changed."""
    anchor = read_anchor()
    if anchor is None:
        return
    block = AuditBlock.get_or_none(AuditBlock.id == anchor["block_id"])
    if block is None or block.hash != anchor["hash"]:
        raise ChainError(_("Audit block %(id)d exported to %(path)s is missing or changed: "
                           "the chain was tampered with. Run `audit verify` and investigate "
                           "before sealing again.", id=anchor["block_id"],
                           path=str(anchor_path())))


def seal(lag_seconds: float = SEAL_LAG_SECONDS, block_size: int = BLOCK_SIZE) -> SealResult:
    """Seal every unsealed event older than ``lag_seconds`` into new blocks; export the
    newest block to the anchor file. Refuses (ChainError) when the anchored block is gone."""
    check_anchor_holds()
    result = SealResult()
    cutoff = utcnow() - dt.timedelta(seconds=lag_seconds)
    newest = None
    attempts = 0
    while True:
        try:
            block = _seal_block(cutoff, block_size)
        except pw.IntegrityError:
            attempts += 1  # another sealer took this place in the chain: build on its block
            if attempts > RETRIES:
                raise
            log.info("audit seal: concurrent sealer, retry %d", attempts)
            continue
        if block is None:
            break
        attempts = 0
        newest = block
        result.blocks.append(block.id)
        result.events += block.count
    if newest is not None:
        head = AuditBlock.select().order_by(AuditBlock.last_seq.desc()).first()
        anchored = read_anchor()
        if anchored is None or head.last_seq > anchored["last_seq"]:  # never move it back
            write_anchor(head)
    return result


# -- verification -------------------------------------------------------------------
def _block_events(block: AuditBlock) -> list[tuple[int, int, dict | None]]:
    """(seq, event id, event dict or None when the event row is gone) of one block."""
    entries = list(AuditSealEntry.select(AuditSealEntry.seq, AuditSealEntry.event_id)
                   .where(AuditSealEntry.block_id == block.id)
                   .order_by(AuditSealEntry.seq).tuples())
    ids = [event_id for _seq, event_id in entries]
    events: dict[int, dict] = {}
    for start in range(0, len(ids), 500):
        for ev in AuditEvent.select().where(AuditEvent.id.in_(ids[start:start + 500])).dicts():
            events[ev["id"]] = ev
    return [(seq, event_id, events.get(event_id)) for seq, event_id in entries]


def _check_block(block: AuditBlock, prev_hash: str, first_seq: int) -> str:
    """Why ``block`` does not match, or "" when it does."""
    if block.prev_hash != prev_hash:
        return _("it does not follow the previous block (previous hash differs)")
    if block.first_seq != first_seq:
        return _("its sequence starts at %(got)d, expected %(want)d", got=block.first_seq,
                 want=first_seq)
    if block.count != block.last_seq - block.first_seq + 1:
        return _("its count %(count)d does not match its range", count=block.count)
    rows = _block_events(block)
    seqs = [seq for seq, _id, _ev in rows]
    if seqs != list(range(block.first_seq, block.last_seq + 1)):
        if len(rows) < block.count:
            return _("%(missing)d of its %(count)d seal entries are missing",
                     missing=block.count - len(rows), count=block.count)
        return _("its seal entries do not match its range")
    gone = [(seq, event_id) for seq, event_id, ev in rows if ev is None]
    if gone:
        seq, event_id = gone[0]
        return _("event %(id)d (seq %(seq)d) was deleted", id=event_id, seq=seq)
    numbered = [(seq, ev) for seq, _id, ev in rows]
    if block_hash(prev_hash, block.first_seq, block.last_seq, numbered) != block.hash:
        return _("its events were changed (hash mismatch)")
    return ""


def verify(path: Path | None = None, use_anchor: bool = True) -> VerifyResult:
    """Recompute the whole chain and compare its head with the exported anchor."""
    path = path or anchor_path()
    result = VerifyResult(ok=True, anchor_path=str(path))
    prev_hash, next_seq, last = GENESIS, 1, None
    seen: dict[int, str] = {}
    for block in list(AuditBlock.select().order_by(AuditBlock.first_seq)):
        reason = _check_block(block, prev_hash, next_seq)
        if reason:
            return _failed(result, block.id, reason)
        seen[block.id] = block.hash
        prev_hash, next_seq, last = block.hash, block.last_seq + 1, block
        result.blocks += 1
        result.events += block.count
    entries = AuditSealEntry.select().count()
    if entries != result.events:
        return _failed(result, last.id if last else None,
                       _("%(n)d seal entries lie outside every block (a block was deleted)",
                         n=entries - result.events))
    unsealed = (AuditEvent.select(AuditEvent.id)
                .join(AuditSealEntry, pw.JOIN.LEFT_OUTER,
                      on=(AuditSealEntry.event_id == AuditEvent.id))
                .where(AuditSealEntry.id.is_null(True)))
    result.unsealed = unsealed.count()
    if last is not None and result.unsealed:
        horizon = last.created_at - dt.timedelta(hours=SEAL_HORIZON_HOURS)
        stray = unsealed.where(AuditEvent.ts < horizon).order_by(AuditEvent.id).first()
        if stray is not None:
            return _failed(result, None,
                           _("event %(id)d is dated before the sealed part of the trail but "
                             "was never sealed: it was inserted behind the sealer's back",
                             id=stray.id))
    if not use_anchor:
        return result
    try:
        anchor = read_anchor(path)
    except ChainError as exc:
        return _failed(result, None, str(exc))
    result.anchor = anchor
    if anchor is None:
        if result.blocks:
            return _failed(result, last.id,
                           _("no anchor at %(path)s: the newest seal cannot be checked",
                             path=str(path)))
        return result
    if anchor["block_id"] not in seen:
        return _failed(result, anchor["block_id"],
                       _("block %(id)d (the newest at the last seal, seq %(seq)d) is "
                         "missing: the chain was truncated", id=anchor["block_id"],
                         seq=anchor["last_seq"]))
    if seen[anchor["block_id"]] != anchor["hash"]:
        return _failed(result, anchor["block_id"],
                       _("its hash differs from the exported anchor"))
    return result


def _failed(result: VerifyResult, block_id: int | None, reason: str) -> VerifyResult:
    result.ok = False
    result.block_id = block_id
    result.reason = reason
    log.error("audit chain broken at block %s: %s", block_id, reason)
    return result
