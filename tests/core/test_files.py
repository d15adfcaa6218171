"""The encrypted file store: type from content, size limit, encrypted outside the web root,
checked on read, downloaded with safe headers, swept, and re-sealed by key rotation."""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import stat
import zipfile

import pytest

from core.audit.models import AuditEvent
from core.db import db
from core.errors import FieldError
from core.pii import crypto
from core.pii.files import (
    StoredFileError,
    clean_filename,
    delete_file,
    file_response,
    read_file,
    sniff,
    store_file,
    sweep,
)
from core.pii.models import KeyRotation, StoredFile
from core.pii.rotation import rotate
from core.private_files import write_private
from core.settings import ROOT, Settings, SettingsError

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n" + os.urandom(2000)
PNG = b"\x89PNG\r\n\x1a\n" + os.urandom(500)
JPEG = b"\xff\xd8\xff\xe0" + os.urandom(500)
DOCUMENTS = {"pdf", "ofd", "jpeg", "png"}


def zip_of(*names: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name in names:
            zf.writestr(name, "<x/>")
    return buf.getvalue()


def store(data=PDF, **kw):
    args = {"purpose": "test.material", "filename": "营业执照.pdf",
            "allowed_types": DOCUMENTS, "max_bytes": 1024 * 1024}
    args.update(kw)
    with db.atomic():
        return store_file(data, **args)


@pytest.mark.parametrize("data,kind", [
    (PDF, "pdf"), (PNG, "png"), (JPEG, "jpeg"),
    (zip_of("OFD.xml", "Doc_0/Document.xml"), "ofd"),
    (zip_of("[Content_Types].xml", "word/document.xml"), "docx"),
    (zip_of("[Content_Types].xml", "word/document.xml", "word/vbaProject.bin"), "docm"),
    (zip_of("[Content_Types].xml", "xl/workbook.xml"), "xlsx"),
    (zip_of("[Content_Types].xml", "xl/workbook.xml", "xl/vbaProject.bin"), "xlsm"),
    (zip_of("a.txt"), "zip"),
    (b"PK\x03\x04 not really a zip", "unknown"),
    ("情况说明：\n第一行\t附表\r\n".encode(), "txt"),
    (b"\xef\xbb\xbfwith a BOM", "txt"),
    (b"MZ\x90\x00\x03\x00\x00\x00", "unknown"),
    (b"text with a NUL \x00 byte", "unknown"),
    (b"<html><script>alert(1)</script>", "txt"),
    (b"\xff\xfe\x00\x00 binary", "unknown"),
])
def test_the_type_comes_from_the_content(data, kind):
    assert sniff(data) == kind


def test_a_file_is_stored_encrypted_outside_the_web_root(app, settings):
    stored = store()
    assert (stored.kind, stored.size, stored.filename) == ("pdf", len(PDF), "营业执照.pdf")
    assert stored.sha256 == hashlib.sha256(PDF).hexdigest() and stored.key_id == "0"
    path = settings.files_root() / stored.blob[:2] / stored.blob
    assert path.is_relative_to(settings.instance_path)
    assert not path.is_relative_to(ROOT / "static")
    sealed = path.read_bytes()
    assert sealed.startswith(b"ql1:0:aes-256-gcm\n") and PDF[:200] not in sealed
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_file(StoredFile.get_by_id(stored.id)) == PDF
    event = AuditEvent.get(AuditEvent.action == "file.store")
    assert event.object_id == str(stored.id) and stored.sha256[:16] in event.summary


def test_a_stream_is_read_only_up_to_the_limit(app):
    stream = io.BytesIO(PDF + b"x" * 5000)
    with pytest.raises(FieldError, match="larger than 4 KB") as err:
        store(stream, max_bytes=4096, field="material_3")
    assert err.value.field == "material_3"
    assert stream.tell() == 4097
    assert store(io.BytesIO(PDF), max_bytes=len(PDF)).size == len(PDF)


@pytest.mark.parametrize("data,allowed,message", [
    (PNG, {"pdf"}, (r"Files of this type \(PNG image\) are not accepted here; accepted: "
                    "PDF document.")),
    (zip_of("[Content_Types].xml", "word/document.xml", "word/vbaProject.bin"),
     {"docx", "pdf"}, "Word document with macros"),
    (b"MZ\x90\x00", DOCUMENTS, ("cannot be recognised; accepted here: JPEG image, OFD "
                                 "document, PDF document, PNG image.")),
    (b"", DOCUMENTS, "The file is empty."),
])
def test_a_refused_file_leaves_nothing_behind(app, settings, data, allowed, message):
    with pytest.raises(FieldError, match=message) as err:
        store(data, allowed_types=allowed)
    assert err.value.field == "file" and err.value.status == 422
    assert StoredFile.select().count() == 0
    root = settings.files_root()
    assert not root.exists() or not any(p.is_file() for p in root.rglob("*"))


def test_store_file_refuses_a_caller_naming_unknown_types(app):
    with pytest.raises(ValueError, match="unknown types"):
        store(allowed_types={"pdf", "exe"})


@pytest.mark.parametrize("name,kind,expected", [
    ("营业执照.pdf", "pdf", "营业执照.pdf"),
    ("../../etc/passwd.pdf", "pdf", "passwd.pdf"),
    ("C:\\Users\\张三\\身份证正面.JPG", "jpeg", "身份证正面.jpg"),
    ("证明.pdf", "png", "证明.png"),
    ("invoice\u202efdp.exe", "pdf", "invoicefdp.pdf"),
    ("a\r\nSet-Cookie: x=1.pdf", "pdf", "aSet-Cookie: x=1.pdf"),
    ("", "pdf", "file.pdf"),
    ("...", "txt", "file.txt"),
    ("长" * 300 + ".pdf", "pdf", "长" * 196 + ".pdf"),
])
def test_the_display_name_is_cleaned_and_takes_the_real_extension(name, kind, expected):
    assert clean_filename(name, kind) == expected


def test_a_tampered_or_swapped_blob_does_not_read(app, settings):
    a, b = store(), store(PNG, filename="x.png")
    path_a = settings.files_root() / a.blob[:2] / a.blob
    path_b = settings.files_root() / b.blob[:2] / b.blob
    original = path_a.read_bytes()
    path_a.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))
    with pytest.raises(StoredFileError, match=f"stored file {a.id}"):
        read_file(a)
    path_a.write_bytes(path_b.read_bytes())  # another file's blob put in its place
    with pytest.raises(StoredFileError):
        read_file(a)
    path_a.write_bytes(original)
    StoredFile.update(sha256="0" * 64).where(StoredFile.id == a.id).execute()
    with pytest.raises(StoredFileError, match="does not match"):
        read_file(StoredFile.get_by_id(a.id))
    path_b.unlink()
    with pytest.raises(StoredFileError, match="missing"):
        read_file(b)


def test_the_download_is_an_audited_attachment_with_safe_headers(app):
    stored = store(filename="营业执照 (副本).pdf")
    with app.test_request_context("/"):
        resp = file_response(stored)
    assert resp.get_data() == PDF
    assert resp.mimetype == "application/pdf"
    assert resp.headers["Content-Disposition"] == (
        "attachment; filename=\"____ (__).pdf\"; "
        "filename*=UTF-8''%E8%90%A5%E4%B8%9A%E6%89%A7%E7%85%A7%20%28%E5%89%AF%E6%9C%AC%29.pdf")
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Cache-Control"] == "no-store"
    assert resp.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert AuditEvent.select().where((AuditEvent.action == "file.download")
                                     & (AuditEvent.object_id == str(stored.id))).count() == 1


def test_deleted_and_rolled_back_files_are_swept_once_a_day_old(app, settings):
    kept, gone = store(), store(PNG, filename="x.png")
    with pytest.raises(RuntimeError), db.atomic():
        rolled_back = store_file(JPEG, purpose="test.material", filename="y.jpg",
                                 allowed_types=DOCUMENTS, max_bytes=10_000)
        raise RuntimeError("the record the file belonged to was refused")
    with db.atomic():
        delete_file(gone)
    root = settings.files_root()
    leftover = root / kept.blob[:2] / f".{kept.blob}.4242.0a0b0c0d"
    leftover.write_bytes(b"half-written")
    assert sweep() == 0  # everything is younger than a day
    assert sweep(older_than=dt.timedelta(0)) == 3
    assert not (root / gone.blob[:2] / gone.blob).exists()
    assert not (root / rolled_back.blob[:2] / rolled_back.blob).exists()
    assert not leftover.exists()
    assert read_file(kept) == PDF
    assert AuditEvent.select().where(AuditEvent.action == "file.delete").count() == 1


def test_key_rotation_reseals_stored_files(app, settings):
    stored = [store(), store(PNG, filename="x.png"), store(JPEG, filename="y.jpg")]
    with open(settings.key_ring_file, "a") as fh:
        fh.write(f"1:sm4-gcm:{'5a' * 16}\n")
    crypto.key_ring(reload=True)
    newer = store(filename="after.pdf")  # written under the new key already
    assert newer.key_id == "1"
    outcome = rotate([StoredFile], batch_size=2)
    assert outcome.rewritten == 3 and outcome.remaining == {}
    assert {s.target: s.rows_done for s in KeyRotation.get().steps} == {"stored_file": 3}
    root = settings.files_root()
    for row, content in zip(stored + [newer], [PDF, PNG, JPEG, PDF]):
        fresh = StoredFile.get_by_id(row.id)
        assert fresh.key_id == "1"
        assert (root / row.blob[:2] / row.blob).read_bytes().startswith(b"ql1:1:sm4-gcm\n")
        assert read_file(fresh) == content
    assert not any(p.name.startswith(".") for p in root.rglob("*"))


def test_a_blob_rewritten_before_the_crash_is_rotated_again_harmlessly(app, settings):
    row = store()
    with open(settings.key_ring_file, "a") as fh:
        fh.write(f"1:sm4-gcm:{'5a' * 16}\n")
    ring = crypto.key_ring(reload=True)
    path = settings.files_root() / row.blob[:2] / row.blob
    # the rename happened, the commit of key_id did not: the blob names its own key
    write_private(path, ring.seal_blob(PDF, f"file:{row.purpose}:{row.blob}"))
    assert read_file(row) == PDF and StoredFile.get_by_id(row.id).key_id == "0"
    assert rotate([StoredFile]).rewritten == 1
    assert StoredFile.get_by_id(row.id).key_id == "1" and read_file(row) == PDF


def test_the_file_store_can_live_elsewhere_but_not_in_the_web_root(tmp_path):
    elsewhere = Settings(instance_path=tmp_path, files_path=str(tmp_path / "uploads")).resolved()
    assert elsewhere.files_root() == tmp_path / "uploads"
    with pytest.raises(SettingsError, match="QL_FILES_PATH"):
        Settings(instance_path=tmp_path, files_path=str(ROOT / "static" / "up")).resolved()
