"""Multi-row inserts of many rows of one shape, for a plugin's import or nightly pass:
``executemany`` on SQLite (one prepared statement), ``execute_values`` on PostgreSQL
(multi-row VALUES pages; psycopg2's ``executemany`` is a round trip per row). Peewee's
``insert_many`` builds its SQL value by value, which was most of the time of a risk
import of 50,000 points and of a red-flag pass raising 30,000 flags.

Table and column names come from the caller's models, never from input."""
from __future__ import annotations

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
        from psycopg2.extras import execute_values
        execute_values(db.cursor(), f'INSERT INTO "{table}" ({cols}) VALUES %s{tail}', rows,
                       page_size=page)
        return
    marks = ", ".join([db.param] * len(columns))
    cursor = db.cursor()
    for i in range(0, len(rows), page):
        cursor.executemany(f'INSERT INTO "{table}" ({cols}) VALUES ({marks}){tail}',
                           rows[i:i + page])


def bulk_insert_dicts(model, rows: list[dict]) -> None:
    """``rows`` (dicts of the same fields) of ``model``, its defaults filled in and each
    value converted by its field, as ``insert_many`` would."""
    if not rows:
        return
    fields = [model._meta.fields[name] for name in rows[0]]
    given = {f.name for f in fields}
    extra = [f for f in model._meta.sorted_fields
             if f.name not in given and f.default is not None and not f.primary_key]
    defaults = tuple(f.db_value(f.default() if callable(f.default) else f.default)
                     for f in extra)
    bulk_insert(model._meta.table_name, [f.column_name for f in fields + extra],
                [tuple(f.db_value(r[f.name]) for f in fields) + defaults for r in rows])
