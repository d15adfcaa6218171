"""Document numbers (文号) per series, region and year: suggestion letters (监察建议书),
risk notices (风险防控通知书), registration numbers of petitions and cases (登记编号).

A number is taken inside the caller's transaction, so a rolled-back document gives its
number back and a series has no gaps; concurrent writers each get their own number (one
upsert that increments and returns, serialised by the row lock on PostgreSQL and by the
write lock on SQLite).
"""
from __future__ import annotations

import peewee as pw

from core.db import BaseModel, db
from core.org.models import Region

SERIES_MAX = 64


class DocumentSequence(BaseModel):
    """The last number given in one series for one region and year."""

    series = pw.CharField(max_length=SERIES_MAX)
    region = pw.ForeignKeyField(Region, on_delete="CASCADE")
    year = pw.IntegerField()
    last = pw.IntegerField(default=0)

    class Meta:
        table_name = "document_sequence"
        indexes = ((("series", "region", "year"), True),)


def next_number(series: str, region: Region | int, year: int) -> int:
    """The next number (1, 2, …) of ``series`` for ``region`` in ``year``.

    Call it in the transaction that writes the document: the number is the document's
    only if that transaction commits."""
    if not series or len(series) > SERIES_MAX:
        raise ValueError(f"series must be 1–{SERIES_MAX} characters")
    if not 1900 <= int(year) <= 9999:
        raise ValueError(f"year {year} is out of range")
    region_id = region.id if isinstance(region, Region) else int(region)
    with db.atomic():
        query = (DocumentSequence
                 .insert(series=series, region=region_id, year=int(year), last=1)
                 .on_conflict(conflict_target=[DocumentSequence.series, DocumentSequence.region,
                                               DocumentSequence.year],
                              update={DocumentSequence.last: DocumentSequence.last + 1})
                 .returning(DocumentSequence.last))
        return query.tuples().execute()[0][0]


def format_number(prefix: str, year: int, number: int) -> str:
    """The official form of a document number: issuer's code, year in 〔〕, number, 号
    (e.g. ``锦纪建〔2026〕7号``), as GB/T 9704 lays out a 发文字号."""
    return f"{prefix}〔{year}〕{number}号"
