"""The encrypted file store (加密文件存储): citizens' materials, report attachments, bids.

``store_file`` takes an upload, finds its type from its content (never from its name or
the browser's claim) against the types the caller allows, refuses it when too large,
seals it with the data key ring and writes it under QL_FILES_PATH (default
``instance/files``, outside the web root: nothing there is ever served as a static file).
A :class:`~core.pii.models.StoredFile` row keeps its purpose, display name, type, size,
SHA-256 and key. A plugin links that row from its own record, checks the user may see
that record, and answers with ``file_response`` (attachment, nosniff, no caching,
audited). ``keys rotate`` re-seals stored files too.

Each blob is written to a temporary file, flushed to disk and renamed into place, so a
crash leaves either no blob or a complete one. A blob whose row was never committed (the
upload's transaction rolled back) or was deleted is removed by the daily sweep once it is
a day old.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import secrets
import time
import unicodedata
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

from flask import Response, current_app
from peewee import fn

from core.audit.service import record
from core.db import db
from core.errors import FieldError
from core.i18n import _, _l
from core.pii.crypto import (
    DataKey,
    DecryptError,
    KeyRing,
    key_ring,
    open_blob,
    split_blob,
)
from core.pii.models import StoredFile
from core.private_files import write_private

# kind: (label, MIME type, extension)
KINDS = {
    "pdf": (_l("PDF document"), "application/pdf", ".pdf"),
    "ofd": (_l("OFD document"), "application/ofd", ".ofd"),
    "png": (_l("PNG image"), "image/png", ".png"),
    "jpeg": (_l("JPEG image"), "image/jpeg", ".jpg"),
    "docx": (_l("Word document"),
             "application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx"),
    "xlsx": (_l("Excel workbook"),
             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx"),
    "zip": (_l("ZIP archive"), "application/zip", ".zip"),
    "txt": (_l("plain text"), "text/plain; charset=utf-8", ".txt"),
}
# Recognised so that they can be named when refused; never stored ("unknown": neither).
REFUSED_KINDS = {
    "docm": _l("Word document with macros"), "xlsm": _l("Excel workbook with macros"),
}
SWEEP_AFTER = dt.timedelta(days=1)
_TEXT_CONTROLS = {"\t", "\n", "\r", "\f"}


class StoredFileError(Exception):
    """A stored file's blob is missing or does not match its row."""


def sniff(data: bytes) -> str:
    """The kind of a file from its first bytes (and, for ZIP-based formats, its
    directory): one of KINDS or REFUSED_KINDS, or "unknown"."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"PK\x03\x04"):
        return _zip_kind(data)
    return "txt" if _is_text(data) else "unknown"


def _zip_kind(data: bytes) -> str:
    """OFD (GB/T 33190), Office Open XML or a plain ZIP, from the archive's directory
    (never decompressed here)."""
    try:
        names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return "unknown"
    if "OFD.xml" in names:
        return "ofd"
    if "[Content_Types].xml" in names:
        if any(n.startswith("word/") for n in names):
            return "docm" if "word/vbaProject.bin" in names else "docx"
        if any(n.startswith("xl/") for n in names):
            return "xlsm" if "xl/vbaProject.bin" in names else "xlsx"
    return "zip"


def _is_text(data: bytes) -> bool:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    return all(ch in _TEXT_CONTROLS or unicodedata.category(ch) != "Cc" for ch in text)


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{max(1, n // 1024)} KB"


def clean_filename(name: str, kind: str) -> str:
    """The name shown and offered on download: the last path component, without control
    or invisible characters, at most 200 characters, with the extension of its real
    type (a PNG sent as ``证明.pdf`` is kept as ``证明.png``)."""
    base = unicodedata.normalize("NFC", str(name or "")).replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch) not in ("Cc", "Cf", "Cs"))
    stem = base.rsplit(".", 1)[0].strip(" .") if "." in base else base.strip(" .")
    ext = KINDS[kind][2]
    return (stem or "file")[:200 - len(ext)] + ext


def _read(data: bytes | BinaryIO, max_bytes: int, field: str) -> bytes:
    if isinstance(data, (bytes, bytearray)):
        content = bytes(data)
    else:
        content = data.read(max_bytes + 1)
    if len(content) > max_bytes:
        raise FieldError(field, _("The file is larger than %(limit)s.", limit=_size(max_bytes)))
    if not content:
        raise FieldError(field, _("The file is empty."))
    return content


def root() -> Path:
    return current_app.config["QL_SETTINGS"].files_root()


def _path(blob: str) -> Path:
    return root() / blob[:2] / blob


def _context(stored_purpose: str, blob: str) -> str:
    return f"file:{stored_purpose}:{blob}"


def store_file(data: bytes | BinaryIO, *, purpose: str, filename: str,
               allowed_types: Iterable[str], max_bytes: int, field: str = "file",
               user=None) -> StoredFile:
    """Store an upload encrypted; returns its row. Call it inside the transaction that
    writes the record the file belongs to. Raises FieldError naming ``field`` for a file
    that is empty, larger than ``max_bytes`` or of a type not in ``allowed_types``
    (kinds of KINDS, e.g. ``{"pdf", "ofd", "jpeg", "png"}``)."""
    allowed = set(allowed_types)
    unknown = allowed - set(KINDS)
    if unknown or not purpose or len(purpose) > 64:
        raise ValueError(f"store_file: bad purpose {purpose!r} or unknown types {unknown}")
    content = _read(data, max_bytes, field)
    kind = sniff(content)
    if kind not in allowed:
        accepted = _(", ").join(str(KINDS[k][0]) for k in sorted(allowed))
        if kind == "unknown":
            raise FieldError(field, _("The type of this file cannot be recognised; accepted "
                                      "here: %(allowed)s.", allowed=accepted))
        label = KINDS[kind][0] if kind in KINDS else REFUSED_KINDS[kind]
        raise FieldError(field, _("Files of this type (%(kind)s) are not accepted here; "
                                  "accepted: %(allowed)s.", kind=label, allowed=accepted))
    blob = secrets.token_hex(16)
    ring = key_ring()
    write_private(_path(blob), ring.seal_blob(content, _context(purpose, blob)))
    stored = StoredFile.create(
        blob=blob, purpose=purpose, filename=clean_filename(filename, kind), kind=kind,
        size=len(content), sha256=hashlib.sha256(content).hexdigest(),
        key_id=ring.primary.id, created_by=getattr(user, "id", None))
    record("file.store", object_type="stored_file", object_id=stored.id, user=user,
           summary=f"{purpose}: {stored.filename} ({kind}, {stored.size} bytes, "
           f"sha256 {stored.sha256[:16]}…)")
    return stored


def read_file(stored: StoredFile) -> bytes:
    """The content of a stored file, checked against its size and SHA-256."""
    try:
        sealed = _path(stored.blob).read_bytes()
    except FileNotFoundError:
        raise StoredFileError(f"stored file {stored.id}: its blob is missing") from None
    try:
        content = open_blob(sealed, _context(stored.purpose, stored.blob))
    except DecryptError as exc:
        raise StoredFileError(f"stored file {stored.id}: {exc}") from None
    if len(content) != stored.size or hashlib.sha256(content).hexdigest() != stored.sha256:
        raise StoredFileError(f"stored file {stored.id}: content does not match its record")
    return content


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback name and the UTF-8 name (RFC 6266/5987)."""
    fallback = "".join(ch if ch.isascii() and ch.isprintable() and ch not in '"\\%' else "_"
                       for ch in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def file_response(stored: StoredFile, *, user=None) -> Response:
    """The download of a stored file, for a view that has checked the user may see the
    record it belongs to: always an attachment, its sniffed type with ``nosniff``, never
    cached, sandboxed; the download is audited."""
    content = read_file(stored)
    with db.atomic():
        record("file.download", object_type="stored_file", object_id=stored.id, user=user,
               summary=f"{stored.purpose}: {stored.filename}")
    resp = Response(content, mimetype=KINDS[stored.kind][1])
    resp.headers["Content-Disposition"] = content_disposition(stored.filename)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return resp


def delete_file(stored: StoredFile, *, user=None) -> None:
    """Delete a stored file's row (audited) in the caller's transaction; the blob goes
    with the next sweep (so a rolled-back transaction still finds it)."""
    StoredFile.delete().where(StoredFile.id == stored.id).execute()
    record("file.delete", object_type="stored_file", object_id=stored.id, user=user,
           summary=f"{stored.purpose}: {stored.filename}")


def sweep(older_than: dt.timedelta = SWEEP_AFTER) -> int:
    """Remove blobs that no row names and that are older than ``older_than`` (uploads
    whose transaction rolled back, deleted files) and leftover temporary files; returns
    how many were removed."""
    base = root()
    if not base.is_dir():
        return 0
    cutoff = time.time() - older_than.total_seconds()
    removed = 0
    for folder in base.iterdir():
        if not folder.is_dir() or len(folder.name) != 2:
            continue
        old = [p for p in folder.iterdir() if p.is_file() and p.stat().st_mtime < cutoff]
        blobs = [p.name for p in old if "." not in p.name]
        known = set()
        for start in range(0, len(blobs), 500):
            known |= {b for (b,) in StoredFile.select(StoredFile.blob).where(
                StoredFile.blob.in_(blobs[start:start + 500])).tuples()}
        for path in old:
            if path.name not in known:  # an orphan, or a temporary file (".<blob>.…")
                path.unlink(missing_ok=True)
                removed += 1
    return removed


class FileStore:
    """The file store as a target of ``keys rotate``: each blob re-sealed in place."""

    name = "stored_file"

    def pending(self, after_id: int, key: DataKey, limit: int) -> list[tuple[int, str]]:
        return list(StoredFile.select(StoredFile.id, StoredFile.key_id)
                    .where((StoredFile.id > after_id) & (StoredFile.key_id != key.id))
                    .order_by(StoredFile.id).limit(limit).tuples())

    def reseal(self, rows: list[tuple[int, str]], ring: KeyRing, key: DataKey) -> int:
        """Re-seal each blob (written whole and renamed over the old one: the blob's own
        header names its key, so a crash between the rename and the commit leaves a
        readable file and a row the next run fixes), then record its key."""
        from core.pii.rotation import RotationError
        done = 0
        for file_id, old_key in rows:
            stored = StoredFile.get_by_id(file_id)
            path = _path(stored.blob)
            context = _context(stored.purpose, stored.blob)
            try:
                header, body = split_blob(path.read_bytes())
                content = ring.open(header, body, context)
            except (OSError, DecryptError) as exc:
                raise RotationError(f"stored_file id {file_id} does not open: {exc}. Repair "
                                    "or delete that file, then run `keys rotate` again.") \
                    from None
            write_private(path, ring.seal_blob(content, context, key))
            done += (StoredFile.update(key_id=key.id)
                     .where((StoredFile.id == file_id) & (StoredFile.key_id == old_key))
                     .execute())
        return done

    def count_by_key(self, ring: KeyRing) -> dict[str, int]:
        counts = dict(StoredFile.select(StoredFile.key_id, fn.COUNT(StoredFile.id))
                      .group_by(StoredFile.key_id).tuples())
        out = {k: n for k, n in counts.items() if k in ring.keys}
        if sum(counts.values()) - sum(out.values()):
            out["?"] = sum(counts.values()) - sum(out.values())
        return out

