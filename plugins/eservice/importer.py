"""Catalogue import and export (事项清单) as CSV or XLSX, in the column layout documented in
docs/eservice-catalogue.md: preview with every bad row and its reason, then all or nothing."""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
import secrets
from decimal import Decimal
from pathlib import Path

from flask import current_app
from peewee import prefetch

from core.api import Department, FieldError, Region, _, db, record, today, utcnow
from plugins.eservice import catalogue
from plugins.eservice.models import Item, ItemBasis, ItemMaterial, ItemSpecial, ItemStep

COLUMNS = ["code", "name", "type", "region_code", "department_code", "level",
           "statutory_days", "committed_days", "fee_amount", "fee_basis", "conditions",
           "visits", "consult_phone", "complaint_phone", "effective_from", "legal_bases",
           "materials", "steps", "specials"]
REQUIRED = ["name", "type", "region_code", "department_code", "statutory_days",
            "committed_days", "steps"]
MAX_BYTES = 20 * 1024 * 1024


class ImportError_(ValueError):
    """The file cannot be read, or it has bad rows."""


def _entries(cell: str) -> list[list[str]]:
    return [[f.strip() for f in part.split("|")] for part in (cell or "").split(";")
            if part.strip()]


def _fmt(entries: list[list]) -> str:
    return "; ".join("|".join(str(f) for f in e) for e in entries)


def read_rows(filename: str, data: bytes) -> list[dict]:
    """Rows of a CSV (UTF-8, with or without BOM) or XLSX file as dicts of COLUMNS."""
    if len(data) > MAX_BYTES:
        raise ImportError_(_("The file is larger than 20 MB."))
    name = filename.lower()
    if name.endswith(".csv"):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ImportError_(_("The CSV file must be UTF-8 encoded.")) from None
        reader = csv.reader(io.StringIO(text))
        rows = list(reader)
    elif name.endswith(".xlsx"):
        from openpyxl import load_workbook
        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception:  # noqa: BLE001 - any unreadable workbook is the user's input
            raise ImportError_(_("The XLSX file cannot be read.")) from None
        rows = [["" if v is None else (v.isoformat()[:10] if isinstance(v, dt.datetime)
                                       else str(v)) for v in r]
                for r in wb.active.iter_rows(values_only=True)]
    else:
        raise ImportError_(_("Upload a .csv or .xlsx file."))
    if not rows:
        raise ImportError_(_("The file is empty."))
    header = [h.strip() for h in rows[0]]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ImportError_(_("Missing columns: %(c)s.", c=", ".join(missing)))
    out = []
    for raw in rows[1:]:
        if not any(str(v).strip() for v in raw):
            continue
        out.append({h: (str(raw[i]).strip() if i < len(raw) else "")
                    for i, h in enumerate(header) if h in COLUMNS})
    return out


def parse_row(row: dict, departments: dict[tuple[str, str], Department]) -> dict:
    """A row as an item specification; raise FieldError naming the bad column."""
    dept = departments.get((row.get("region_code", ""), row.get("department_code", "")))
    if dept is None:
        raise FieldError("department_code",
                         _("Unknown department %(d)s in region %(r)s (or outside "
                           "your scope).", d=row.get("department_code", ""),
                           r=row.get("region_code", "")))
    try:
        effective = dt.date.fromisoformat(row["effective_from"]) \
            if row.get("effective_from") else today()
    except ValueError:
        raise FieldError("effective_from", _("Give the effective date as YYYY-MM-DD.")) from None
    try:
        materials = [{"name": e[0], "original": (e[1] if len(e) > 1 else "original")
                      != "copy", "copies": int(e[2]) if len(e) > 2 and e[2] else 1,
                      "required": (e[3] if len(e) > 3 else "required") != "optional"}
                     for e in _entries(row.get("materials", ""))]
        steps = [{"code": e[0], "name": e[1], "limit_days": int(e[2]),
                  "post_title": e[3] if len(e) > 3 else ""}
                 for e in _entries(row.get("steps", ""))]
        specials = [{"kind": e[0], "name": e[1] if len(e) > 1 else e[0],
                     "limit_days": int(e[2]) if len(e) > 2 and e[2] else 0}
                    for e in _entries(row.get("specials", ""))]
    except (IndexError, ValueError):
        raise FieldError("materials/steps/specials",
                         _("A list cell is malformed (see the documented layout).")) from None
    code = row.get("code", "").strip()
    if code and not code.startswith(catalogue.item_code_prefix(dept, row.get("type", ""))):
        raise FieldError("code", _("The code %(c)s does not match its region, department "
                                   "and type.", c=code))
    spec = {
        "code": code, "name": row.get("name", ""), "type": row.get("type", ""),
        "department": dept, "level": row.get("level") or "county",
        "statutory_days": row.get("statutory_days"), "committed_days":
            row.get("committed_days"), "fee_amount": row.get("fee_amount") or "0",
        "fee_basis": row.get("fee_basis", ""), "conditions": row.get("conditions", ""),
        "visits": int(row.get("visits") or 1) if (row.get("visits") or "1").isdigit() else 1,
        "consult_phone": row.get("consult_phone", ""),
        "complaint_phone": row.get("complaint_phone", ""), "effective_from": effective,
        "bases": [{"title": e[0], "article": e[1] if len(e) > 1 else ""}
                  for e in _entries(row.get("legal_bases", ""))],
        "materials": materials, "steps": steps, "specials": specials,
    }
    return catalogue.check_item(spec)


def _departments(allowed) -> dict[tuple[str, str], Department]:
    return {(d.region.code, d.code): d
            for d in allowed.select(Department, Region).join(Region)}


def validate(rows: list[dict], allowed) -> tuple[list[dict], list[tuple[int, str, str]]]:
    """(specs, bad rows as (row number, column, reason)); row 2 is the first data row."""
    departments = _departments(allowed)
    specs, bad, seen = [], [], set()
    for n, row in enumerate(rows, start=2):
        try:
            spec = parse_row(row, departments)
        except FieldError as exc:
            bad.append((n, exc.field, exc.message))
            continue
        if spec["code"]:
            if spec["code"] in seen:
                bad.append((n, "code", _("The code %(c)s appears twice.", c=spec["code"])))
                continue
            seen.add(spec["code"])
        specs.append(spec)
    return specs, bad


TOKEN = re.compile(r"[0-9a-f]{32}\.(?:csv|xlsx)")  # what preview() hands out, nothing else


def _store() -> Path:
    path = Path(current_app.config["QL_SETTINGS"].instance_path) / "eservice-imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def preview(filename: str, data: bytes, allowed) -> dict:
    """Parse and check every row; keep the upload under a token for the apply step."""
    rows = read_rows(filename, data)
    specs, bad = validate(rows, allowed)
    token = secrets.token_hex(16) + (".xlsx" if filename.lower().endswith(".xlsx") else ".csv")
    (_store() / token).write_bytes(data)
    existing = {c for (c,) in Item.select(Item.code).where(
        (Item.status == "active") & Item.code.in_([s["code"] for s in specs if s["code"]]))
        .tuples()} if specs else set()
    return {"token": token if not bad else "", "rows": len(rows), "bad": bad,
            "new": sum(1 for s in specs if s["code"] not in existing),
            "revised": sum(1 for s in specs if s["code"] in existing),
            "sample": specs[:20]}


def apply(token: str, allowed, user) -> int:
    """Import every row of a previewed upload, or nothing if one row is bad."""
    if not TOKEN.fullmatch(token or ""):
        raise ImportError_(_("The preview has expired: upload the file again."))
    path = _store() / token
    if not path.exists():
        raise ImportError_(_("The preview has expired: upload the file again."))
    rows = read_rows(path.name, path.read_bytes())
    specs, bad = validate(rows, allowed)
    if bad:
        raise ImportError_(_("%(n)d rows are bad: nothing was imported.", n=len(bad)))
    count = import_specs(specs, user)
    path.unlink(missing_ok=True)
    return count


def import_specs(specs: list[dict], user=None) -> int:
    """Create new items in bulk and revise existing codes, in one transaction."""
    with db.atomic():
        existing = {}
        codes = [s["code"] for s in specs if s["code"]]
        for i in range(0, len(codes), 500):
            for it in Item.select().where((Item.status == "active")
                                          & Item.code.in_(codes[i:i + 500])):
                existing[it.code] = it
        next_seq: dict[str, int] = {}
        fresh = []
        for spec in specs:
            if spec["code"] in existing:
                catalogue.revise_item(spec["code"], spec, user)
                continue
            if not spec["code"]:
                prefix = catalogue.item_code_prefix(spec["department"], spec["type"])
                if prefix not in next_seq:
                    last = catalogue.next_item_code(spec["department"], spec["type"])
                    next_seq[prefix] = int(last.rsplit("-", 1)[1])
                spec["code"] = f"{prefix}{next_seq[prefix]:04d}"
                next_seq[prefix] += 1
            fresh.append(spec)
        bulk_create(fresh)
        record("eservice.catalogue.import", object_type="eservice_item",
               summary=f"{len(fresh)} new, {len(specs) - len(fresh)} revised",
               user=user)
    return len(specs)


def _insert_rows(model, rows: list[dict]) -> None:
    """One prepared INSERT executed for many rows (fast: no per-row SQL generation)."""
    if not rows:
        return
    columns = list(rows[0])
    database = db.obj
    q = database.quote[0]
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        f"{q}{model._meta.table_name}{q}",
        ", ".join(f"{q}{model._meta.fields[c].column_name}{q}" for c in columns),
        ", ".join([database.param] * len(columns)))
    fields = [model._meta.fields[c] for c in columns]
    params = [tuple(f.db_value(row[c]) for f, c in zip(fields, columns)) for row in rows]
    cursor = database.cursor()
    cursor.executemany(sql, params)


def bulk_create(specs: list[dict]) -> None:
    """Insert version-1 items and their lists with a few set-based statements."""
    now = utcnow()
    for i in range(0, len(specs), 1000):
        chunk = specs[i:i + 1000]
        _insert_rows(Item, [{
            "code": s["code"], "version": 1, "name": s["name"], "type": s["type"],
            "department": s["department"].id, "region": s["department"].region_id,
            "level": s.get("level") or "county", "statutory_days": s["statutory_days"],
            "committed_days": s["committed_days"], "fee_amount": s["fee_amount"],
            "fee_basis": s.get("fee_basis", ""), "conditions": s.get("conditions", ""),
            "visits": s.get("visits", 1), "consult_phone": s.get("consult_phone", ""),
            "complaint_phone": s.get("complaint_phone", ""), "status": "active",
            "effective_from": s["effective_from"], "created_at": now} for s in chunk])
        ids = dict(Item.select(Item.code, Item.id).where(
            Item.code.in_([s["code"] for s in chunk]) & (Item.version == 1)).tuples())
        bases, materials, steps, specials = [], [], [], []
        for s in chunk:
            iid = ids[s["code"]]
            bases += [{"item": iid, "seq": n, "title": b["title"], "article": b["article"]}
                      for n, b in enumerate(s.get("bases") or [], 1)]
            materials += [{"item": iid, "seq": n, "name": m["name"], "original": m["original"],
                           "copies": m["copies"], "required": m["required"]}
                          for n, m in enumerate(s.get("materials") or [], 1)]
            steps += [{"item": iid, "seq": n, "code": st["code"] or f"s{n}", "name": st["name"],
                       "limit_days": st["limit_days"], "post_title": st.get("post_title", "")}
                      for n, st in enumerate(s["steps"], 1)]
            specials += [{"item": iid, "kind": sp["kind"], "name": sp["name"],
                          "limit_days": sp["limit_days"], "basis": sp.get("basis", "")}
                         for sp in s.get("specials") or []]
        for model, rows in ((ItemBasis, bases), (ItemMaterial, materials), (ItemStep, steps),
                            (ItemSpecial, specials)):
            _insert_rows(model, rows)


def _seq(row) -> int:
    return row.seq


def export_rows(query) -> list[list[str]]:
    """The catalogue's rows in the import's column layout (COLUMNS), for the export."""
    out = []
    query = query.select(Item, Department, Region).join(Department).join(Region)
    for item in prefetch(query, ItemBasis, ItemMaterial, ItemStep, ItemSpecial):
        out.append([
            item.code, item.name, item.type, item.department.region.code, item.department.code,
            item.level, str(item.statutory_days), str(item.committed_days),
            str(Decimal(item.fee_amount).quantize(Decimal("0.01"))), item.fee_basis,
            item.conditions, str(item.visits), item.consult_phone, item.complaint_phone,
            item.effective_from.isoformat(),
            _fmt([[b.title, b.article] for b in sorted(item.bases, key=_seq)]),
            _fmt([[m.name, "original" if m.original else "copy", m.copies,
                   "required" if m.required else "optional"]
                  for m in sorted(item.materials, key=_seq)]),
            _fmt([[s.code, s.name, s.limit_days, s.post_title]
                  for s in sorted(item.steps, key=_seq)]),
            _fmt([[s.kind, s.name, s.limit_days] for s in item.specials]),
        ])
    return out
