"""The one writer of every CSV and XLSX file the app hands out (导出).

A cell that a spreadsheet would read as a formula (text beginning ``=``, ``+``, ``-``,
``@``, a tab or a carriage return, or their full-width forms) is neutralised: in CSV it
gets a leading apostrophe (OWASP's advice for CSV injection); in XLSX every text is written
as a typed string cell, never a formula. Numbers, dates and booleans stay what they are.
CSV is streamed row by row (UTF-8 with a BOM so spreadsheet programs read Chinese text);
XLSX is built with openpyxl's write-only workbook.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import NamedTuple
from urllib.parse import quote

from flask import Response, stream_with_context

FORMULA_START = frozenset("=+-@\t\r\n＝＋－＠")
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIME = "text/csv; charset=utf-8"
XLSX_CELL_MAX = 32_767
_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_SHEET_ILLEGAL = re.compile(r"[\[\]:*?/\\]")


class Sheet(NamedTuple):
    """One worksheet of a workbook: its title, header row and rows."""

    title: str
    headers: list
    rows: Iterable[Iterable]


def _is_number(value) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def safe_cell(value) -> str:
    """``value`` as CSV text a spreadsheet cannot run: numbers as written, dates ISO,
    booleans ``1``/``0``, ``None`` empty, text starting like a formula prefixed with ``'``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if _is_number(value):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value)
    return "'" + text if text[:1] in FORMULA_START else text


def write_csv(headers: Iterable, rows: Iterable[Iterable]) -> Iterator[str]:
    """The CSV text, a line at a time: the BOM, the header row, then each row."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    yield "\ufeff"
    for row in _with_header(headers, rows):
        writer.writerow([safe_cell(v) for v in row])
        yield buf.getvalue()
        buf.seek(0)
        buf.truncate()


def _with_header(headers, rows):
    yield headers
    yield from rows


def _xlsx_value(ws, value):
    from openpyxl.cell import WriteOnlyCell
    if value is None or _is_number(value) or isinstance(value, (bool, dt.date)):
        if isinstance(value, Decimal):
            value = float(value) if abs(value) < Decimal(10) ** 15 else str(value)
        return value
    text = _XLSX_ILLEGAL.sub("\ufffd", str(value))[:XLSX_CELL_MAX]
    cell = WriteOnlyCell(ws, value=None)
    cell._value = text
    cell.data_type = "s"  # a text cell, even when it starts with "=": never a formula
    return cell


def sheet_title(title: str) -> str:
    """A legal worksheet name: at most 31 characters, none of ``[]:*?/\\``."""
    return (_SHEET_ILLEGAL.sub(" ", str(title)).strip() or "Sheet")[:31]


def write_xlsx(sheets: Iterable[Sheet]) -> bytes:
    """An XLSX workbook of ``sheets`` (text cells typed as strings, never formulas)."""
    from openpyxl import Workbook
    wb = Workbook(write_only=True)
    for sheet in sheets:
        ws = wb.create_sheet(sheet_title(sheet.title))
        for row in _with_header(sheet.headers, sheet.rows):
            ws.append([_xlsx_value(ws, v) for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _disposition(filename: str) -> str:
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_").replace('"', "")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def export_response(filename: str, headers: list, rows: Iterable[Iterable], fmt: str = "csv",
                    *, sheets: Iterable[Sheet] | None = None, title: str = "") -> Response:
    """A download of ``rows`` under ``headers`` as ``filename`` (its extension set from
    ``fmt``): CSV streamed, XLSX one sheet (``title``) or the ``sheets`` given. Not cached
    (exports hold records of the user's scope)."""
    if fmt not in ("csv", "xlsx"):
        raise ValueError(f"unknown export format {fmt!r}")
    stem = filename.rsplit(".", 1)[0] if filename.endswith((".csv", ".xlsx")) else filename
    if fmt == "csv":
        resp = Response(stream_with_context(write_csv(headers, rows)), mimetype=CSV_MIME)
    else:
        book = list(sheets) if sheets is not None else [Sheet(title or stem, headers, rows)]
        resp = Response(write_xlsx(book), mimetype=XLSX_MIME)
    resp.headers["Content-Disposition"] = _disposition(f"{stem}.{fmt}")
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp
