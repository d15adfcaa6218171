"""Key rotation (密钥轮换): re-seal every ciphertext under the newest key of the ring.

``keys rotate`` walks each encrypted column of the enabled plugins' models (every
:class:`~core.pii.fields.EncryptedField`), then the file store, in primary-key order, a
batch per transaction: the batch's new ciphertexts and the step's progress (the last id done)
commit together, so a run killed at any moment (kill -9 included) loses at most the
batch in flight, and the next run resumes after the last committed one. A row is
rewritten only if it still holds the ciphertext that was read (a concurrent edit wins),
and a value that no longer opens stops the run naming its table and id. When every
column is walked, rows that are still not under the target key (written meanwhile by a
process that had not yet read the new key) are walked again, up to ``MAX_PASSES``.
"""
from __future__ import annotations

import datetime as dt
import os
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import peewee as pw

from core.audit.service import record
from core.db import db, is_postgres, utcnow
from core.pii.crypto import DataKey, DecryptError, KeyRing, key_ring
from core.pii.fields import EncryptedField
from core.pii.models import KeyRotation, KeyRotationStep

LEASE_SECONDS = 60
MAX_PASSES = 3


class RotationError(Exception):
    """Rotation cannot start or go on; the message says why and what to do."""


@dataclass(frozen=True)
class Column:
    """One encrypted column: its model, field and name (``table.column``)."""

    model: type[pw.Model]
    field: EncryptedField

    @property
    def name(self) -> str:
        return f"{self.model._meta.table_name}.{self.field.column_name}"

    def _sql(self):
        q0, q1 = db.obj.quote
        table = f"{q0}{self.model._meta.table_name}{q1}"
        col = f"{q0}{self.field.column_name}{q1}"
        pk = f"{q0}{self.model._meta.primary_key.column_name}{q1}"
        return table, col, pk, db.obj.param

    def pending(self, after_id: int, key: DataKey, limit: int) -> list[tuple[int, str]]:
        """(id, ciphertext) of the next rows after ``after_id`` not sealed by ``key``."""
        table, col, pk, p = self._sql()
        prefix = key.header + ":"
        sql = (f"SELECT {pk}, {col} FROM {table} WHERE {pk} > {p} AND {col} IS NOT NULL "
               f"AND SUBSTR({col}, 1, {len(prefix)}) <> {p} ORDER BY {pk} LIMIT {int(limit)}")
        return list(db.execute_sql(sql, [after_id, prefix]).fetchall())

    def reseal(self, rows: list[tuple[int, str]], ring: KeyRing, key: DataKey) -> int:
        """Re-seal ``rows`` under ``key``; returns how many were rewritten."""
        purpose = self.field.purpose
        changes = []
        for pk, token in rows:
            try:
                value = ring.open_token(token, purpose)
            except DecryptError as exc:
                raise RotationError(f"{self.name} id {pk} does not open: {exc}. Repair or "
                                    "clear that value, then run `keys rotate` again.") from None
            changes.append((pk, token, ring.seal_token(value, purpose, key)))
        return _update(self, changes)

    def count_by_key(self, ring: KeyRing) -> dict[str, int]:
        """How many values each key of the ring sealed; ``"?"``: under no key of it."""
        table, col, _pk, p = self._sql()
        out = {}
        for key in ring.keys.values():
            prefix = key.header + ":"
            (n,) = db.execute_sql(f"SELECT COUNT(*) FROM {table} WHERE "
                                  f"SUBSTR({col}, 1, {len(prefix)}) = {p}", [prefix]).fetchone()
            if n:
                out[key.id] = n
        (total,) = db.execute_sql(f"SELECT COUNT({col}) FROM {table}").fetchone()
        if total - sum(out.values()):
            out["?"] = total - sum(out.values())
        return out


def _update(column: Column, changes: list[tuple[int, str, str]]) -> int:
    """Conditional rewrite: a row changed since it was read keeps its new value."""
    if not changes:
        return 0
    table, col, pk, p = column._sql()
    if is_postgres():
        values = ", ".join([f"({p}::bigint, {p}, {p})"] * len(changes))
        sql = (f"UPDATE {table} AS t SET {col} = v.new FROM (VALUES {values}) "
               f"AS v(id, old, new) WHERE t.{pk} = v.id AND t.{col} = v.old")
        cursor = db.execute_sql(sql, [x for change in changes for x in change])
        return cursor.rowcount
    cursor = db.cursor()
    cursor.executemany(f"UPDATE {table} SET {col} = {p} WHERE {pk} = {p} AND {col} = {p}",
                       [(new, pk_, old) for pk_, old, new in changes])
    return cursor.rowcount


def rotation_targets(models: Iterable[type[pw.Model]]) -> list:
    """What ``keys rotate`` walks: every encrypted column of ``models``, then the file
    store when its table is among them."""
    from core.pii.files import FileStore
    from core.pii.models import StoredFile
    models = list(models)
    return [*encrypted_columns(models), *([FileStore()] if StoredFile in models else [])]


def encrypted_columns(models: Iterable[type[pw.Model]]) -> list[Column]:
    """Every EncryptedField of ``models``, by table and column name."""
    out = []
    for model in models:
        for field in model._meta.sorted_fields:
            if isinstance(field, EncryptedField):
                pk = model._meta.primary_key
                if not isinstance(pk, (pw.AutoField, pw.BigAutoField, pw.IntegerField)):
                    raise RotationError(f"{model.__name__}.{field.name}: rotation needs an "
                                        "integer primary key")
                out.append(Column(model, field))
    return sorted(out, key=lambda c: c.name)


def owner_id() -> str:
    return f"{socket.gethostname()[:80]}:{os.getpid()}"


def _owner_alive(owner: str) -> bool:
    """False only when the owner ran on this host and its process is gone."""
    host, _sep, pid = owner.rpartition(":")
    if host != socket.gethostname()[:80] or not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _lease_free(rotation: KeyRotation, now: dt.datetime) -> bool:
    return (rotation.heartbeat_at < now - dt.timedelta(seconds=LEASE_SECONDS)
            or not _owner_alive(rotation.owner))


@dataclass
class Outcome:
    rotation: KeyRotation
    resumed: bool
    rewritten: int
    remaining: dict[str, int]


def _claim(target: DataKey, batch_size: int, owner: str) -> tuple[KeyRotation, bool]:
    """The unfinished rotation to ``target`` (taken over if its owner is gone), else a
    new one; an unfinished rotation to another key is superseded."""
    now = utcnow()
    with db.atomic():
        running = (KeyRotation.select().where(KeyRotation.state == "running")
                   .order_by(KeyRotation.id.desc()).first())
        if running is not None and not _lease_free(running, now):
            raise RotationError(
                f"rotation #{running.id} to key {running.target_key} is running "
                f"({running.owner}, last seen {running.heartbeat_at:%Y-%m-%d %H:%M:%S} UTC); "
                f"if that process was killed, run again after {LEASE_SECONDS} seconds")
        if running is not None and running.target_key == target.id:
            taken = (KeyRotation.update(owner=owner, heartbeat_at=now)
                     .where((KeyRotation.id == running.id)
                            & (KeyRotation.owner == running.owner)).execute())
            if not taken:
                raise RotationError("another process took over the rotation just now")
            record("keys.rotate.resume", object_type="key_rotation", object_id=running.id,
                   summary=f"to key {target.id}, {running.rows_done} re-sealed before")
            return KeyRotation.get_by_id(running.id), True
        if running is not None:
            KeyRotation.update(state="superseded", finished_at=now).where(
                KeyRotation.id == running.id).execute()
            record("keys.rotate.superseded", object_type="key_rotation", object_id=running.id,
                   summary=f"to key {running.target_key}: key {target.id} is newer")
        rotation = KeyRotation.create(target_key=target.id, batch_size=batch_size, owner=owner)
        record("keys.rotate.start", object_type="key_rotation", object_id=rotation.id,
               summary=f"to key {target.id} ({target.cipher}), batches of {batch_size}")
        return rotation, False


def _renew(rotation: KeyRotation, owner: str) -> None:
    kept = (KeyRotation.update(heartbeat_at=utcnow())
            .where((KeyRotation.id == rotation.id) & (KeyRotation.owner == owner)
                   & (KeyRotation.state == "running")).execute())
    if not kept:
        raise RotationError(f"rotation #{rotation.id} was taken over by another process")


def rotate(models: Iterable[type[pw.Model]], *, batch_size: int = 500,
           progress: Callable[[str, int, int], None] | None = None) -> Outcome:
    """Re-seal every value of ``models``' encrypted columns under the newest key,
    resuming an interrupted run; audited at its start, resumption and end."""
    ring = key_ring(reload=True)
    target = ring.primary
    columns = rotation_targets(models)
    owner = owner_id()
    rotation, resumed = _claim(target, batch_size, owner)
    rewritten = 0
    while True:
        for column in columns:
            step, _created = KeyRotationStep.get_or_create(rotation=rotation.id,
                                                           target=column.name)
            while not step.finished:
                if key_ring().primary.id != target.id:
                    raise RotationError(f"key {key_ring().primary.id} was added during the "
                                        "rotation: run `keys rotate` again to move every "
                                        "value to it")
                with db.atomic():
                    _renew(rotation, owner)
                    rows = column.pending(step.last_id, target, rotation.batch_size)
                    done = column.reseal(rows, ring, target) if rows else 0
                    (KeyRotationStep.update(
                        last_id=rows[-1][0] if rows else step.last_id,
                        rows_done=KeyRotationStep.rows_done + done,
                        finished=len(rows) < rotation.batch_size)
                     .where(KeyRotationStep.id == step.id).execute())
                    KeyRotation.update(rows_done=KeyRotation.rows_done + done).where(
                        KeyRotation.id == rotation.id).execute()
                step = KeyRotationStep.get_by_id(step.id)
                rewritten += done
                if progress and rows:
                    progress(column.name, step.rows_done, step.last_id)
        remaining = {c.name: n for c in columns
                     if (n := sum(v for k, v in c.count_by_key(ring).items() if k != target.id))}
        rotation = KeyRotation.get_by_id(rotation.id)
        if not remaining:
            with db.atomic():
                KeyRotation.update(state="done", finished_at=utcnow()).where(
                    KeyRotation.id == rotation.id).execute()
                record("keys.rotate.done", object_type="key_rotation", object_id=rotation.id,
                       summary=f"every value under key {target.id}: {rotation.rows_done} "
                       f"re-sealed in {rotation.passes} pass(es)")
            return Outcome(KeyRotation.get_by_id(rotation.id), resumed, rewritten, {})
        if rotation.passes >= MAX_PASSES:
            return Outcome(rotation, resumed, rewritten, remaining)
        with db.atomic():
            KeyRotation.update(passes=KeyRotation.passes + 1).where(
                KeyRotation.id == rotation.id).execute()
            KeyRotationStep.update(last_id=0, finished=False).where(
                KeyRotationStep.rotation == rotation.id).execute()
