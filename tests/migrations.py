"""Helpers of the migration tests: a database of the test's own, the app on a chain that
stops at a given migration, rows written by plain SQL under old names, ID numbers sealed
as the service hall sealed them before core.pii, and every name a plugin's tables carry
(indexes; on PostgreSQL constraints and sequences too)."""
from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import os
import uuid

import peewee as pw
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from core.db import db, is_postgres
from tests.conftest import ON_POSTGRES, TEST_DATA_KEY, make_settings, pg_admin, pg_url

LEGACY_KEY = bytes.fromhex(TEST_DATA_KEY)


def legacy_id_token(number: str) -> str:
    """An ID number as plugins/eservice/idnumber.py sealed it before the key ring: base64
    of nonce ‖ AES-GCM under QL_DATA_KEY, associated data ``eservice.id``."""
    nonce = os.urandom(12)
    return base64.b64encode(nonce + AESGCM(LEGACY_KEY).encrypt(
        nonce, number.encode(), b"eservice.id")).decode()


def legacy_id_hash(number: str) -> str:
    """Its blind index then: HMAC-SHA256 under a key derived from QL_DATA_KEY."""
    key = hmac.new(LEGACY_KEY, b"qinglian.eservice.id-index", hashlib.sha256).digest()
    return hmac.new(key, number.encode(), hashlib.sha256).hexdigest()


def database(tmp_path, stem: str):
    """(url, drop) of an empty database of this test's own."""
    if ON_POSTGRES:
        name = f"ql_mig_{stem}_{uuid.uuid4().hex[:8]}"
        admin = pg_admin()
        admin.execute_sql(f'CREATE DATABASE "{name}"')

        def drop():
            admin.execute_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.close()
        return pg_url(name), drop
    return f"sqlite:///{tmp_path / f'{stem}.db'}", lambda: None


@contextlib.contextmanager
def app_before(tmp_path, plugins: dict, component: str, previous: str):
    """The app on a database whose ``component`` chain stops at ``previous``; every other
    chain is complete."""
    from core import migrate
    from core.app import create_app
    from core.db import release_all
    from core.plugins import host
    url, drop = database(tmp_path, "old")
    app = create_app(make_settings(tmp_path, database_url=url), available_plugins=plugins)
    ctx = app.app_context()
    ctx.push()
    db.connect(reuse_if_open=True)
    try:
        for name, directory in migrate.chains(host()):
            migrate.runner(name, directory).up(target=previous if name == component else None)
        yield app
    finally:
        release_all()
        ctx.pop()
        drop()


def insert(table: str, **values) -> int:
    """One row under a table's old name, by plain SQL (the models name the new tables)."""
    mark = "%s" if is_postgres() else "?"
    sql = (f'INSERT INTO "{table}" ({", ".join(values)}) '
           f'VALUES ({", ".join([mark] * len(values))})')
    if is_postgres():
        return db.execute_sql(sql + " RETURNING id", list(values.values())).fetchone()[0]
    return db.execute_sql(sql, list(values.values())).lastrowid


def names(database: pw.Database, prefix: str) -> dict:
    """Every name the tables starting with ``prefix`` carry: indexes (with their columns),
    and on PostgreSQL constraints and id sequences too."""
    out = {}
    for table in sorted(t for t in database.get_tables() if t.startswith(prefix)):
        out[table] = {"indexes": sorted((i.name, tuple(i.columns), i.unique)
                                        for i in database.get_indexes(table))}
        if isinstance(database, pw.PostgresqlDatabase):
            out[table]["constraints"] = sorted(r[0] for r in database.execute_sql(
                "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass", (table,)))
            out[table]["sequence"] = database.execute_sql(
                "SELECT pg_get_serial_sequence(%s, 'id')", (table,)).fetchone()[0]
    return out


def model_names(app, tmp_path, prefix: str) -> dict:
    """:func:`names` of the tables the enabled plugins' models create today."""
    from core.db import make_database
    url, drop = database(tmp_path, "models")
    target = make_database(url, pooled=False)
    try:
        models = app.extensions["qinglian.plugins"].collect("ql_models")
        with target.bind_ctx(models):
            target.create_tables(models)
        return names(target, prefix)
    finally:
        target.close()
        drop()
