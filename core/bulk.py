"""Multi-row inserts of many rows of one shape, for a plugin's import or nightly pass:
``executemany`` on SQLite (one prepared statement); on PostgreSQL ``COPY`` when every value
is text, a number or NULL (psycopg2 quotes each value of ``execute_values`` in Python, about
2 µs a value: most of the time of storing an evaluation's 600 rows), else
``execute_values`` (multi-row VALUES pages; psycopg2's ``executemany`` is a round trip per
row). Peewee's ``insert_many`` builds its SQL value by value, which was most of the time of
a risk import of 50,000 points and of a red-flag pass raising 30,000 flags.

Table and column names come from the caller's models, never from input."""
from __future__ import annotations

import io
import re
from itertools import chain, repeat
from operator import itemgetter

import peewee as pw

from core.db import db, is_postgres


def bulk_insert(table: str, columns: list[str], rows: list[tuple], *, page: int = 2000,
                ignore_conflicts: bool = False) -> None:
    """Insert ``rows`` (tuples in the order of ``columns``, values already converted for
    the database) into ``table``, in the caller's transaction; with ``ignore_conflicts`` a
    row violating a unique constraint is skipped (``ON CONFLICT DO NOTHING``), as peewee's
    ``on_conflict_ignore`` does."""
    if not rows:
        return
    cols = ", ".join(f'"{c}"' for c in columns)
    tail = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    if is_postgres():
        if not ignore_conflicts and set(map(type, chain.from_iterable(rows))) <= _COPY_TYPES:
            lines = map("\t".join, zip(*map(_copy_column, zip(*rows))))
            db.cursor().copy_expert(f'COPY "{table}" ({cols}) FROM STDIN',
                                    io.StringIO("\n".join(lines) + "\n"))
            return
        from psycopg2.extras import execute_values
        execute_values(db.cursor(), f'INSERT INTO "{table}" ({cols}) VALUES %s{tail}', rows,
                       page_size=page)
        return
    marks = ", ".join([db.param] * len(columns))
    cursor = db.cursor()
    for i in range(0, len(rows), page):
        cursor.executemany(f'INSERT INTO "{table}" ({cols}) VALUES ({marks}){tail}',
                           rows[i:i + page])


_COPY_TYPES = {str, int, float, type(None)}
_COPY_SPECIAL = re.compile(r"[\\\t\n\r\x00]")


def _copy_column(values: tuple) -> list[str]:
    """A column in ``COPY``'s text format (a column of numbers written in one pass)."""
    if set(map(type, values)) <= {int, float}:
        return list(map(repr, values))
    return list(map(_copy_text, values))


def _copy_text(value) -> str:
    """A value in ``COPY``'s text format (NULL as ``\\N``; backslash, tab and line ends
    escaped; numbers as Python writes them, which PostgreSQL reads back exactly)."""
    if value is None:
        return "\\N"
    if value.__class__ is str:
        if _COPY_SPECIAL.search(value):
            if "\x00" in value:  # what execute_values raises
                raise ValueError("A string literal cannot contain NUL (0x00) characters.")
            return (value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
                    .replace("\r", "\\r"))
        return value
    return repr(value)


# Fields whose ``db_value`` is peewee's own and leaves a value of the type (or None) as it
# is: such a column of a thousand rows needs one type check, not a call per value.
_AS_IS = {pw.CharField: str, pw.TextField: str, pw.IntegerField: int,
          pw.SmallIntegerField: int, pw.BigIntegerField: int, pw.AutoField: int,
          pw.BigAutoField: int}


def _column(field, values: list) -> list:
    """``values`` converted by ``field`` for the database."""
    target = field.rel_field if type(field) is pw.ForeignKeyField else field
    kind = _AS_IS.get(type(target))
    if kind is not None and set(map(type, values)) <= {kind, type(None)}:
        return values
    return list(map(field.db_value, values))


def bulk_insert_dicts(model, rows: list[dict]) -> None:
    """``rows`` (dicts of the same fields) of ``model``, its defaults filled in and each
    value converted by its field, as ``insert_many`` would."""
    if not rows:
        return
    fields = [model._meta.fields[name] for name in rows[0]]
    given = {f.name for f in fields}
    extra = [f for f in model._meta.sorted_fields
             if f.name not in given and f.default is not None and not f.primary_key]
    defaults = [repeat(f.db_value(f.default() if callable(f.default) else f.default),
                       len(rows)) for f in extra]
    columns = [_column(f, list(map(itemgetter(f.name), rows))) for f in fields]
    bulk_insert(model._meta.table_name, [f.column_name for f in fields + extra],
                list(zip(*columns, *defaults)))
