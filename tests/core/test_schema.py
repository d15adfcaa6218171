"""No drift: the schema the migrations build equals the one the models declare."""
import uuid

import peewee as pw
import pytest

from core.db import db, make_database
from tests.conftest import ON_POSTGRES, pg_admin, pg_url


def describe(database: pw.Database) -> dict:
    """Tables with their columns, primary keys, indexes and foreign keys."""
    out = {}
    for table in sorted(database.get_tables()):
        if table.startswith("migrations_"):
            continue
        cols = {c.name: (_norm(c.data_type), c.null) for c in database.get_columns(table)}
        idx = sorted((tuple(i.columns), i.unique) for i in database.get_indexes(table)
                     if not i.name.endswith("_pkey") and not i.name.startswith("sqlite_autoindex"))
        fks = sorted((f.column, f.dest_table, f.dest_column)
                     for f in database.get_foreign_keys(table))
        pks = sorted(database.get_primary_keys(table))
        out[table] = {"columns": cols, "indexes": idx, "fks": fks, "pk": pks}
    return out


def _norm(data_type: str) -> str:
    return data_type.lower().split("(")[0].strip()


def test_migrations_match_models(app, tmp_path):
    """`app` sits on a database built by the migrations of every installed plugin."""
    migrated = describe(db.obj)
    models = app.extensions["qinglian.plugins"].collect("ql_models")
    assert models, "no models declared"
    if ON_POSTGRES:
        name = f"ql_drift_{uuid.uuid4().hex[:8]}"
        admin = pg_admin()
        admin.execute_sql(f'CREATE DATABASE "{name}"')
        target = make_database(pg_url(name))
    else:
        admin = None
        target = make_database(f"sqlite:///{tmp_path / 'models.db'}")
    try:
        with target.bind_ctx(models):
            target.create_tables(models)
        declared = describe(target)
    finally:
        target.close()
        if admin is not None:
            admin.execute_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.close()
    assert set(migrated) == set(declared), (
        f"tables only in migrations: {sorted(set(migrated) - set(declared))}; "
        f"only in models: {sorted(set(declared) - set(migrated))}")
    for table in declared:
        assert migrated[table] == declared[table], f"drift in table {table}"


@pytest.mark.parametrize("url_kind", ["sqlite"] + (["postgres"] if ON_POSTGRES else []))
def test_db_status_after_upgrade_has_nothing_pending(app, runner, url_kind):
    result = runner.invoke(args=["db", "status"])
    assert result.exit_code == 0, result.output
    assert "0 pending" in result.output
