"""Organisation import (CSV and XLSX) and export: people with their posts, and departments.

Flow: upload → :func:`preview` lists each bad row with its reason → :func:`apply` writes
everything in one transaction, or nothing when any row is bad. The uploaded file waits in
the instance folder under a random token between the two steps. Columns: docs/org-import.md.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import secrets
import time
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from peewee import fn

from core.audit.service import record
from core.auth.scope import region_ids
from core.clock import today as local_today
from core.db import db, utcnow
from core.i18n import _
from core.org.models import Department, Person, Post, PostHolding, Region
from core.org.services import (
    DEPT_CODE,
    MANAGE,
    OrgError,
    check_email,
    check_phone,
    check_risk_level,
    parse_date,
)

KINDS = ("people", "departments")
COLUMNS = {
    "people": ("region_code", "department_code", "department_name", "post_title",
               "risk_level", "is_head", "person_name", "phone", "email", "start_date"),
    "departments": ("region_code", "department_code", "department_name", "short_name",
                    "is_supervision_office", "sort"),
}
REQUIRED = {
    "people": ("region_code", "department_code", "post_title", "person_name", "start_date"),
    "departments": ("region_code", "department_code", "department_name"),
}
MAX_ROWS = 20000
UPLOAD_DIR = "org_imports"
UPLOAD_TTL_SECONDS = 24 * 3600
TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")
TRUE = {"1", "y", "yes", "true", "是", "√"}
FALSE = {"", "0", "n", "no", "false", "否"}


class ImportFileError(ValueError):
    """The file as a whole cannot be read (wrong type, no header, missing columns)."""


@dataclass
class Preview:
    """The outcome of checking an import file: good rows (parsed) and bad rows."""

    kind: str
    good: list[dict] = field(default_factory=list)
    bad: list[tuple[int, str]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.good) + len(self.bad)

    @property
    def ok(self) -> bool:
        return not self.bad and bool(self.good)


class ImportRejected(ValueError):
    """Apply refused: the file has bad rows; nothing was written."""

    def __init__(self, preview: Preview):
        super().__init__(_("The file has %(n)d bad rows; nothing was imported.",
                           n=len(preview.bad)))
        self.preview = preview


# -- reading ------------------------------------------------------------------------
def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dt.date, dt.datetime)):
        return value
    return str(value).strip()


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError(_("file: the CSV is neither UTF-8 nor GB18030 text."))


def _csv_rows(data: bytes) -> Iterable[list]:
    return csv.reader(io.StringIO(_decode(data), newline=""))


def _xlsx_rows(data: bytes) -> Iterable[list]:
    import openpyxl
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ImportFileError(_("file: not a readable XLSX workbook.")) from exc
    sheet = book.worksheets[0]
    return ([c for c in row] for row in sheet.iter_rows(values_only=True))


def file_type(filename: str, data: bytes) -> str:
    """``csv`` or ``xlsx``, from the name and checked against the content."""
    name = (filename or "").lower()
    if name.endswith(".xlsx"):
        if not data.startswith(b"PK"):
            raise ImportFileError(_("file: not a readable XLSX workbook."))
        return "xlsx"
    if name.endswith(".csv"):
        return "csv"
    raise ImportFileError(_("file: expected a .csv or .xlsx file."))


def read_rows(data: bytes, ftype: str) -> tuple[list[str], list[tuple[int, dict]]]:
    """(header, [(row number, {column: value})]); row 1 is the header, blank rows skipped."""
    rows = _xlsx_rows(data) if ftype == "xlsx" else _csv_rows(data)
    header: list[str] | None = None
    out: list[tuple[int, dict]] = []
    try:
        for number, raw in enumerate(rows, start=1):
            cells = [_cell(v) for v in raw]
            if header is None:
                if not any(cells):
                    continue
                header = [str(c).strip().lower() for c in cells]
                continue
            if not any(c != "" for c in cells):
                continue
            if len(out) >= MAX_ROWS:
                raise ImportFileError(_("file: at most %(n)d rows per import.", n=MAX_ROWS))
            out.append((number, {name: cells[i] if i < len(cells) else ""
                                 for i, name in enumerate(header) if name}))
    except csv.Error as exc:
        raise ImportFileError(_("file: not a readable CSV file (%(err)s).", err=exc)) from exc
    if header is None:
        raise ImportFileError(_("file: it is empty; the first row must name the columns."))
    return header, out


# -- checking -----------------------------------------------------------------------
def _flag(value: Any, column: str) -> bool:
    text = str(value).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise OrgError(_("%(field)s: expected yes or no (1 or 0).", field=column), column)


def _text(row: dict, column: str, max_length: int, required: bool = False) -> str:
    text = str(row.get(column, "") or "").strip()
    if required and not text:
        raise OrgError(_("%(field)s: required.", field=column), column)
    if len(text) > max_length:
        raise OrgError(_("%(field)s: at most %(n)d characters.", field=column, n=max_length),
                       column)
    return text


class _Checker:
    """Row-by-row validation with the lookups and cross-row consistency it needs."""

    def __init__(self, actor, kind: str):
        self.kind = kind
        self.scope = region_ids(actor, MANAGE)
        self.regions = {r.code: r for r in Region.select()}
        self.depts = {(d.region_id, d.code): d for d in Department.select()}
        self.heads = {p.department_id: p.title for p in
                      Post.select().where(Post.is_head == True)}
        self.seen_depts: dict[tuple[int, str], tuple[int, str]] = {}
        self.seen_posts: dict[tuple[int, str, str], tuple[int, int, bool]] = {}
        self.seen_heads: dict[tuple[int, str], tuple[int, str]] = {}

    def region(self, row: dict) -> Region:
        code = _text(row, "region_code", 12, required=True)
        region = self.regions.get(code)
        if region is None or region.id not in self.scope:
            raise OrgError(_("region_code: %(code)s is unknown or not within your scope.",
                             code=code), "region_code")
        return region

    def department(self, number: int, row: dict, region: Region) -> dict:
        code = _text(row, "department_code", 16, required=True)
        if not DEPT_CODE.match(code):
            raise OrgError(_("department_code: letters, digits, '.', '_' or '-' only."),
                           "department_code")
        name = _text(row, "department_name", 100)
        existing = self.depts.get((region.id, code))
        if existing is None and not name:
            raise OrgError(_("department_name: required to create department %(code)s.",
                             code=code), "department_name")
        key = (region.id, code)
        if name:
            first = self.seen_depts.setdefault(key, (number, name))
            if first[1] != name:
                raise OrgError(_("department_name: differs from row %(row)d for the same "
                                 "department_code.", row=first[0]), "department_name")
        return {"code": code, "name": name or existing.name, "existing": existing}

    def people_row(self, number: int, row: dict) -> dict:
        region = self.region(row)
        dept = self.department(number, row, region)
        title = _text(row, "post_title", 100, required=True)
        risk = check_risk_level(row.get("risk_level") or 1, "risk_level")
        is_head = _flag(row.get("is_head", ""), "is_head")
        post_key = (region.id, dept["code"], title)
        first = self.seen_posts.setdefault(post_key, (number, risk, is_head))
        if first[1:] != (risk, is_head):
            raise OrgError(_("risk_level: risk_level and is_head differ from row %(row)d for "
                             "the same post.", row=first[0]), "risk_level")
        if is_head:
            existing = dept["existing"]
            head = self.heads.get(existing.id) if existing is not None else None
            if head is not None and head != title:
                raise OrgError(_("is_head: the department already has a head post "
                                 "(%(title)s).", title=head), "is_head")
            other = self.seen_heads.setdefault((region.id, dept["code"]), (number, title))
            if other[1] != title:
                raise OrgError(_("is_head: row %(row)d already names another head post for "
                                 "this department.", row=other[0]), "is_head")
        return {"region_id": region.id, "department_code": dept["code"],
                "department_name": dept["name"], "post_title": title, "risk_level": risk,
                "is_head": is_head,
                "person_name": _text(row, "person_name", 64, required=True),
                "phone": check_phone(row.get("phone", ""), "phone"),
                "email": check_email(row.get("email", ""), "email"),
                "start_date": parse_date(row.get("start_date"), "start_date")}

    def departments_row(self, number: int, row: dict) -> dict:
        region = self.region(row)
        dept = self.department(number, row, region)
        sort = str(row.get("sort", "") or "0").strip()
        if not re.fullmatch(r"-?\d+", sort):
            raise OrgError(_("sort: expected a whole number."), "sort")
        return {"region_id": region.id, "department_code": dept["code"],
                "department_name": dept["name"],
                "short_name": _text(row, "short_name", 32),
                "is_supervision_office": _flag(row.get("is_supervision_office", ""),
                                               "is_supervision_office"),
                "sort": int(sort)}


def check(actor, kind: str, header: list[str], rows: list[tuple[int, dict]]) -> Preview:
    """Validate every row: a bad row gets its row number and the reason."""
    if kind not in KINDS:
        raise ImportFileError(_("kind: expected people or departments."))
    missing = [c for c in REQUIRED[kind] if c not in header]
    if missing:
        raise ImportFileError(_("file: missing columns %(cols)s (expected: %(all)s).",
                                cols=", ".join(missing), all=", ".join(COLUMNS[kind])))
    checker = _Checker(actor, kind)
    parse = checker.people_row if kind == "people" else checker.departments_row
    preview = Preview(kind)
    seen_lines: dict[tuple[int, str], int] = {}
    for number, row in rows:
        try:
            parsed = parse(number, row)
        except OrgError as exc:
            preview.bad.append((number, str(exc)))
            continue
        if kind == "departments":
            key = (parsed["region_id"], parsed["department_code"])
            if key in seen_lines:
                preview.bad.append((number, _("department_code: listed twice in this file "
                                              "(first in row %(row)d).", row=seen_lines[key])))
                continue
            seen_lines[key] = number
        parsed["row"] = number
        preview.good.append(parsed)
    return preview


def preview(actor, kind: str, data: bytes, filename: str) -> Preview:
    """Read and check an uploaded file without writing anything."""
    header, rows = read_rows(data, file_type(filename, data))
    return check(actor, kind, header, rows)


# -- applying -----------------------------------------------------------------------
def _department(cache: dict, counts: dict, row: dict, update: dict | None = None) -> Department:
    """The row's department from ``cache`` (preloaded), created or updated as needed."""
    key = (row["region_id"], row["department_code"])
    dept = cache.get(key)
    if dept is None:
        dept = Department.create(region=key[0], code=key[1], name=row["department_name"],
                                 **(update or {}))
        counts["departments_created"] += 1
    elif update is not None:
        changes = {"name": row["department_name"], **update}
        if any(getattr(dept, k) != v for k, v in changes.items()):
            Department.update(**changes).where(Department.id == dept.id).execute()
            for k, v in changes.items():
                setattr(dept, k, v)
            counts["departments_updated"] += 1
    cache[key] = dept
    return dept


def _preload_departments(rows: list[dict]) -> dict:
    regions = sorted({row["region_id"] for row in rows})
    return {(d.region_id, d.code): d
            for d in Department.select().where(Department.region.in_(regions))}


def _create_people(rows: list[dict], people: dict, counts: dict) -> None:
    """Insert the people not yet in ``people`` in batches and add their ids to it."""
    missing: dict = {}
    for row in rows:
        key = (row["region_id"], row["person_name"], row["phone"], row["email"])
        if key not in people:
            missing.setdefault(key, {"region": key[0], "name": key[1], "phone": key[2],
                                     "email": key[3], "created_at": utcnow()})
    if not missing:
        return
    last = Person.select(fn.MAX(Person.id)).scalar() or 0
    values = list(missing.values())
    for chunk in range(0, len(values), 500):
        Person.insert_many(values[chunk:chunk + 500]).execute()
    regions = sorted({key[0] for key in missing})
    for pid, rid, name, phone, email in (
            Person.select(Person.id, Person.region, Person.name, Person.phone, Person.email)
            .where(Person.region.in_(regions) & (Person.id > last)).order_by(Person.id)
            .tuples()):
        if (rid, name, phone, email) in missing:
            people.setdefault((rid, name, phone, email), pid)
    counts["people_created"] += len(missing)


def _apply_people(rows: list[dict], counts: dict) -> None:
    """Write people, posts and holdings with lookups preloaded (one query per table)."""
    depts = _preload_departments(rows)
    regions = sorted({row["region_id"] for row in rows})
    dept_ids = [d.id for d in depts.values()]
    posts: dict = {}
    for post in Post.select().where(Post.department.in_(dept_ids)).order_by(Post.id):
        posts.setdefault((post.department_id, post.title), post)
    people: dict = {}
    for pid, rid, name, phone, email in (
            Person.select(Person.id, Person.region, Person.name, Person.phone, Person.email)
            .where(Person.region.in_(regions)).order_by(Person.id).tuples()):
        people.setdefault((rid, name, phone, email), pid)
    ends: dict = {}
    for person_id, post_id, end in (
            PostHolding.select(PostHolding.person, PostHolding.post, PostHolding.end)
            .join(Post).where(Post.department.in_(dept_ids)).tuples()):
        ends.setdefault((person_id, post_id), []).append(end)
    row_posts = []
    for row in rows:
        dept = _department(depts, counts, row)
        post = posts.get((dept.id, row["post_title"]))
        if post is None:
            post = Post.create(department=dept, title=row["post_title"],
                               risk_level=row["risk_level"], is_head=row["is_head"])
            posts[(dept.id, row["post_title"])] = post
            counts["posts_created"] += 1
        elif (post.risk_level, post.is_head) != (row["risk_level"], row["is_head"]):
            Post.update(risk_level=row["risk_level"], is_head=row["is_head"]).where(
                Post.id == post.id).execute()
            post.risk_level, post.is_head = row["risk_level"], row["is_head"]
            counts["posts_updated"] += 1
        row_posts.append(post.id)
    _create_people(rows, people, counts)
    new_holdings = []
    for row, post_id in zip(rows, row_posts):
        person_id = people[(row["region_id"], row["person_name"], row["phone"], row["email"])]
        start = row["start_date"]
        held = ends.setdefault((person_id, post_id), [])
        if not any(end is None or end >= start for end in held):
            held.append(None)
            new_holdings.append({"person": person_id, "post": post_id, "start": start})
    for chunk in range(0, len(new_holdings), 500):
        PostHolding.insert_many(new_holdings[chunk:chunk + 500]).execute()
    counts["holdings_created"] += len(new_holdings)


def _apply_departments(rows: list[dict], counts: dict) -> None:
    cache = _preload_departments(rows)
    for row in rows:
        _department(cache, counts, row, {"short_name": row["short_name"],
                                         "is_supervision_office": row["is_supervision_office"],
                                         "sort": row["sort"]})


def apply(actor, kind: str, data: bytes, filename: str) -> dict:
    """Check the file again and write it all in one audited transaction, or nothing.

    Returns counts of what was created or updated; raises :class:`ImportRejected` when
    any row is bad (or there are no rows) and :class:`ImportFileError` for an unreadable
    file."""
    result = preview(actor, kind, data, filename)
    if not result.ok:
        raise ImportRejected(result)
    counts = {k: 0 for k in ("departments_created", "departments_updated", "posts_created",
                             "posts_updated", "people_created", "holdings_created")}
    with db.atomic():
        if kind == "people":
            _apply_people(result.good, counts)
        else:
            _apply_departments(result.good, counts)
        region_set = sorted({row["region_id"] for row in result.good})
        record("org.import", object_type="org_import", object_id=kind, user=actor,
               region_id=region_set[0] if len(region_set) == 1 else None,
               summary=f"import {kind} from {filename[:80]}: {len(result.good)} rows",
               changes={k: [None, v] for k, v in counts.items() if v})
    return counts


# -- the upload between preview and apply ------------------------------------------
def _upload_dir(instance_path: str | Path) -> Path:
    path = Path(instance_path) / UPLOAD_DIR
    path.mkdir(parents=True, exist_ok=True)
    return path


def store_upload(instance_path: str | Path, user_id: int, kind: str, filename: str,
                 data: bytes) -> str:
    """Keep an uploaded file server-side; return the random token that names it."""
    folder = _upload_dir(instance_path)
    cutoff = time.time() - UPLOAD_TTL_SECONDS
    for old in folder.iterdir():
        if old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)
    token = secrets.token_urlsafe(24)
    (folder / f"{token}.bin").write_bytes(data)
    (folder / f"{token}.json").write_text(json.dumps(
        {"user_id": user_id, "kind": kind, "filename": filename[:200]}), encoding="utf-8")
    return token


def load_upload(instance_path: str | Path, token: str, user_id: int
                ) -> tuple[dict, bytes] | None:
    """(meta, data) of the stored upload if ``token`` is valid and ``user_id`` made it."""
    if not TOKEN.match(token or ""):
        return None
    folder = _upload_dir(instance_path)
    meta_path, data_path = folder / f"{token}.json", folder / f"{token}.bin"
    if not meta_path.exists() or not data_path.exists():
        return None
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if meta.get("user_id") != user_id:
        return None
    return meta, data_path.read_bytes()


def discard_upload(instance_path: str | Path, token: str) -> None:
    """Delete a stored upload (after apply, or when the user cancels)."""
    if TOKEN.match(token or ""):
        folder = _upload_dir(instance_path)
        (folder / f"{token}.bin").unlink(missing_ok=True)
        (folder / f"{token}.json").unlink(missing_ok=True)


# -- export -------------------------------------------------------------------------
def export_people(actor, people_query) -> list[list]:
    """The rows (the import's columns) of the people in ``people_query``, one line per
    current post, for ``core.export``; audited as ``org.export``."""
    today = local_today()
    people = list(people_query)
    ids = [p.id for p in people]
    holdings: dict[int, list[PostHolding]] = {}
    if ids:
        rows = (PostHolding.select(PostHolding, Post, Department).join(Post).join(Department)
                .where(PostHolding.person.in_(ids)
                       & (PostHolding.end.is_null(True) | (PostHolding.end >= today)))
                .order_by(PostHolding.start))
        for h in rows:
            holdings.setdefault(h.person_id, []).append(h)
    out: list[list] = []
    for person in people:
        base = [person.name, person.phone, person.email]
        for h in holdings.get(person.id) or [None]:
            if h is None:
                cells = [person.region.code, "", "", "", "", "", *base, ""]
            else:
                d, p = h.post.department, h.post
                cells = [person.region.code, d.code, d.name, p.title, p.risk_level,
                         "1" if p.is_head else "0", *base, h.start.isoformat()]
            out.append(cells)
    with db.atomic():
        record("org.export", object_type="person", user=actor,
               summary=f"export {len(people)} people ({len(out)} lines) as CSV")
    return out
