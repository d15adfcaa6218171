"""The reporter's side (举报人): the public web form and the receipt code (查询码).

A web report gets a 16-digit random code, shown once and stored only as its blind index
(keyed: the database alone does not give it back). With it the reporter — without an
account — sees the state, adds information and files, and reads the office's messages.

No enumeration: every miss (unknown code, malformed code, a code whose item is gone)
gets the same answer after the same work — one blind index, one indexed look-up, one
counter upsert and one audit row. Limits per client address and per code's misses (the
core's rate counters, keyed on the code's index, never the code); every access is
audited. Notifications to the office name the item's number, never its content.
"""
from __future__ import annotations

import secrets

from flask import current_app

from core.api import (
    FieldError,
    RateLimited,
    Region,
    _,
    blind_index,
    clean_text,
    db,
    deployment_language,
    emit,
    hit_many,
    hits,
    rate_limit,
    record,
    store_file,
    supervision_office,
    today,
    utcnow,
)
from plugins.cases import intake
from plugins.cases.models import RECEIPT, Attachment, Item, Message

CODE_DIGITS = 16
LOOKUP_BUCKET = "cases.receipt"
FILE_BUCKET = "cases.report"
WINDOW_SECONDS = 60
REPORTS_PER_HOUR = 5
FILE_TYPES = {"pdf", "ofd", "jpeg", "png", "docx", "xlsx", "txt"}
FILE_MAX_BYTES = 10 * 1024 * 1024
FILES_PER_REPORT = 5


def new_code() -> str:
    """16 random decimal digits (secrets), the first may be 0."""
    return f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"


def show_code(code: str) -> str:
    """The code as shown once: four groups of four."""
    return " ".join(code[i:i + 4] for i in range(0, CODE_DIGITS, 4))


def normalize_code(value) -> str:
    """The digits of a code as typed: spaces and dashes dropped; anything but 16 ASCII
    digits gives "" (a miss like any other)."""
    if not isinstance(value, str):
        return ""
    text = "".join(ch for ch in value[:64] if ch not in " -\u3000")
    if len(text) != CODE_DIGITS or not (text.isascii() and text.isdigit()):
        return ""
    return text


def code_index(code: str) -> str:
    return blind_index(code, RECEIPT)


def _save_files(item: Item, uploads: list, *, by: str = "") -> list[Attachment]:
    out = []
    for n, upload in enumerate(uploads):
        field = f"file_{n}" if len(uploads) > 1 else "file"
        stored = store_file(upload.stream if hasattr(upload, "stream") else upload,
                            purpose="cases.attachment",
                            filename=getattr(upload, "filename", "") or "file",
                            allowed_types=FILE_TYPES, max_bytes=FILE_MAX_BYTES, field=field)
        out.append(Attachment.create(item=item, file=stored, added_by=by))
    return out


def file_web_report(region: Region, data: dict, uploads: list, client: str) -> tuple[Item, str]:
    """A citizen's web report (网络举报) to the commission of ``region``: registered with
    its number and files; returns the item and the receipt code (to show once)."""
    if len(uploads) > FILES_PER_REPORT:
        raise FieldError("file", _("At most %(n)d files.", n=FILES_PER_REPORT))
    fields = intake.clean_report({**data, "channel": "web"}, staff=False)
    subject_region = intake._region(data.get("subject_region") or region.id,
                                    "subject_region")
    rate_limit(FILE_BUCKET, f"ip:{client}", REPORTS_PER_HOUR, 3600)
    code = new_code()
    with db.atomic():
        item = intake.register(region, fields, received_on=today(),
                               subject_region=subject_region,
                               receipt_hash=code_index(code))
        _save_files(item, uploads)
    return item, code


def find_by_code(value, client: str) -> Item | None:
    """The item of a receipt code, or None — the same None for every kind of miss.

    Every attempt counts against the client's address; misses also count against the
    code's index, and once a code has had too many misses in the minute only the
    addresses that missed it are refused (the reporter, who has not missed, is not
    locked out by a flood of guesses). Every attempt is audited."""
    code = normalize_code(value)
    index = code_index(code or "0" * CODE_DIGITS)  # the same work for a malformed code
    found = Item.select(Item.id, Item.region, Item.number).where(
        Item.receipt_hash == index).first()
    if not code:
        found = None
    limit = current_app.config["QL_SETTINGS"].public_lookup_per_minute
    address, misses = f"ip:{client}", f"miss:{index[:32]}"
    pair = f"{misses}|ip:{client}"
    with db.atomic():
        keys = [address] + ([misses, pair] if found is None else [])
        counts = hit_many(LOOKUP_BUCKET, keys, WINDOW_SECONDS)
        if found is None:
            code_misses, own = counts.get(misses, 0), counts.get(pair, 0) - 1
        else:
            code_misses = hits(LOOKUP_BUCKET, misses, WINDOW_SECONDS)
            own = hits(LOOKUP_BUCKET, pair, WINDOW_SECONDS)
        limited = counts[address] > limit or (code_misses > limit and own > 0)
        if limited:
            record("cases.receipt.limited", object_type="cases_item", summary="",
                   success=False)
        else:
            record("cases.receipt.lookup", object_type="cases_item",
                   object_id=found.id if found else None, summary="",
                   region_id=found.region_id if found else None, success=found is not None)
    if limited:
        raise RateLimited(_("Too many attempts: at most %(n)d a minute. Please wait a "
                            "minute and try again.", n=limit), WINDOW_SECONDS)
    if found is None:
        return None
    return Item.get_by_id(found.id)


def _notify_office(item: Item, what: str) -> None:
    """Tell the office that the reporter wrote: the item's number only, never content."""
    with deployment_language():
        subject = _("%(number)s: the reporter added %(what)s", number=item.number,
                    what=what)
    emit("cases.portal.news", item.region, subject,
         target_department=supervision_office(item.region),
         ref=f"cases.item:{item.id}", dedupe_key=f"cases.portal:{item.id}")


def reporter_adds(item: Item, text: str, uploads: list) -> Message | None:
    """The reporter adds information and/or files through the receipt code."""
    text = clean_text(text, "text", max_length=5000, multiline=True)
    if not text and not uploads:
        raise FieldError("text", _("Write something or add a file."))
    if len(uploads) > FILES_PER_REPORT:
        raise FieldError("file", _("At most %(n)d files.", n=FILES_PER_REPORT))
    with db.atomic():
        message = Message.create(item=item, author="reporter", text=text) if text else None
        files = _save_files(item, uploads)
        item.reporter_seen_at = utcnow()
        item.save()
        record("cases.reporter.add", object_type="cases_item", object_id=item.id,
               summary=f"{item.number} {len(files)} file(s)", region_id=item.region_id)
        with deployment_language():
            what = _("information") if message else _("files")
        _notify_office(item, what)
    return message


def reporter_reads(item: Item) -> list[Message]:
    """The messages the reporter reads; the reading is audited by the lookup."""
    return list(item.messages.order_by(Message.id))


def office_message(user, item: Item, text: str) -> Message:
    """The office writes to the reporter of a web report (a question, a notice)."""
    if item.receipt_hash is None:
        raise FieldError("text", _("Only a web report's reporter can read messages."))
    if not intake.can_read_identity(user, item) and not (
            item.office == "supervision"
            and intake.covers(user, intake.SUPERVISE, item.region_id)):
        raise FieldError("text", _("Only the office holding the item writes to its "
                                   "reporter."))
    text = clean_text(text, "text", max_length=5000, multiline=True, required=True)
    with db.atomic():
        message = Message.create(item=item, author="office", text=text,
                                 created_by=user.username)
        record("cases.message.office", object_type="cases_item", object_id=item.id,
               summary=item.number, region_id=item.region_id, user=user)
    return message
