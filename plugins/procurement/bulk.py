"""Multi-row inserts of many rows of one shape, for the red-flag pass: ``executemany`` on
SQLite (one prepared statement), ``execute_values`` on PostgreSQL (multi-row VALUES pages;
psycopg2's ``executemany`` is a round trip per row). Peewee's ``insert_many`` builds its
SQL value by value, which was most of the time of a pass raising 30,000 flags."""
from __future__ import annotations

from core.api import db, is_postgres


def insert(table: str, columns: list[str], rows: list[tuple], *, page: int = 2000,
           ignore_conflicts: bool = False) -> None:
    """Insert ``rows`` (tuples in the order of ``columns``, values already converted for
    the database) into ``table``; with ``ignore_conflicts`` a row violating a unique
    constraint is skipped (``ON CONFLICT DO NOTHING``), as peewee's
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
