"""Key rotation: every value re-sealed under the newest key, in batches, resumable,
audited; `keys status|add|rotate|retire`."""
from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from core.audit.models import AuditEvent
from core.db import BaseModel, db, utcnow
from core.hookspecs import hookimpl
from core.pii import crypto
from core.pii.fields import EncryptedField
from core.pii.models import KeyRotation, KeyRotationStep
from core.pii.rotation import LEASE_SECONDS, RotationError, encrypted_columns, rotate

SM4_KEY = "5a" * 16


class Reporter(BaseModel):
    """A throw-away table with two encrypted columns."""

    name = EncryptedField("test.reporter_name")
    phone = EncryptedField("test.reporter_phone", null=True)

    class Meta:
        table_name = "test_rotation_reporter"


class Models:
    @hookimpl
    def ql_models(self):
        return [Reporter]


@pytest.fixture
def reporters(app):
    """300 reporters sealed under key 0 (QL_DATA_KEY); the table's model is registered so
    the `keys` commands see it."""
    from core.plugins import host
    db.create_tables([Reporter])
    rows = [{"name": f"举报人{i}", "phone": f"1380013{i:04d}" if i % 2 else None}
            for i in range(300)]
    Reporter.insert_many(rows).execute()
    plugin = Models()
    host().pm.register(plugin, name="rotation-test-models")
    yield rows
    host().pm.unregister(plugin)
    db.drop_tables([Reporter])


def tokens() -> list[tuple[str, str | None]]:
    return db.execute_sql("SELECT name, phone FROM test_rotation_reporter ORDER BY id").fetchall()


def keys_of(rows) -> set[str]:
    return {crypto.token_key(t) for row in rows for t in row if t is not None}


def add_key(app, entry: str) -> None:
    settings = app.config["QL_SETTINGS"]
    with open(settings.key_ring_file, "a") as fh:
        fh.write(entry + "\n")
    crypto.key_ring(reload=True)


def test_rotation_reseals_every_value_under_the_newest_key(app, reporters):
    assert keys_of(tokens()) == {"0"}
    add_key(app, f"1:sm4-gcm:{SM4_KEY}")
    before = tokens()
    outcome = rotate([Reporter], batch_size=7)
    after = tokens()
    assert keys_of(after) == {"1"}
    assert all(t.startswith("ql1:1:sm4-gcm:") for row in after for t in row if t)
    assert [(r.name, r.phone) for r in Reporter.select().order_by(Reporter.id)] == \
        [(r["name"], r["phone"]) for r in reporters]
    assert outcome.rewritten == 300 + 150 and outcome.remaining == {}
    assert not outcome.resumed
    rotation = outcome.rotation
    assert (rotation.state, rotation.target_key, rotation.rows_done) == ("done", "1", 450)
    steps = {s.target: s.rows_done for s in rotation.steps}
    assert steps == {"test_rotation_reporter.name": 300, "test_rotation_reporter.phone": 150}
    assert [b is None for _a, b in before] == [b is None for _a, b in after]
    actions = [e.action for e in AuditEvent.select().where(
        AuditEvent.object_type == "key_rotation").order_by(AuditEvent.id)]
    assert actions == ["keys.rotate.start", "keys.rotate.done"]
    again = rotate([Reporter])  # nothing left to do: a new run rewrites nothing
    assert again.rewritten == 0 and tokens() == after


def test_an_interrupted_rotation_resumes_after_its_last_committed_batch(app, reporters):
    add_key(app, f"1:sm4-gcm:{SM4_KEY}")
    column = encrypted_columns([Reporter])[0]
    calls = {"n": 0}
    original = column.reseal.__func__

    def failing(self, rows, ring, key):
        calls["n"] += 1
        if calls["n"] == 5:
            raise KeyboardInterrupt  # the process dies inside the fifth batch
        return original(self, rows, ring, key)

    from core.pii import rotation as rotation_module
    rotation_module.Column.reseal = failing
    try:
        with pytest.raises(KeyboardInterrupt):
            rotate([Reporter], batch_size=10)
    finally:
        rotation_module.Column.reseal = original
    step = KeyRotationStep.get(KeyRotationStep.target == "test_rotation_reporter.name")
    assert (step.rows_done, step.finished) == (40, False)  # four batches committed
    assert [crypto.token_key(n) for n, _p in tokens()].count("1") == 40
    KeyRotation.update(heartbeat_at=utcnow() - dt.timedelta(seconds=LEASE_SECONDS + 1)) \
        .execute()  # the lease of the dead run lapses
    outcome = rotate([Reporter], batch_size=10)
    assert outcome.resumed and outcome.rewritten == 450 - 40
    assert outcome.rotation.rows_done == 450 and keys_of(tokens()) == {"1"}
    assert KeyRotation.select().count() == 1
    assert AuditEvent.select().where(AuditEvent.action == "keys.rotate.resume").count() == 1


def test_a_live_rotation_is_not_run_twice(app, reporters):
    add_key(app, f"1:sm4-gcm:{SM4_KEY}")
    KeyRotation.create(target_key="1", batch_size=10, owner="other-host:4242")
    with pytest.raises(RotationError, match="is running .*other-host:4242"):
        rotate([Reporter])
    KeyRotation.update(owner="this-host-long-gone:1").execute()
    with pytest.raises(RotationError):
        rotate([Reporter])  # another host, heartbeat fresh: its lease holds
    KeyRotation.update(heartbeat_at=utcnow() - dt.timedelta(minutes=5)).execute()
    assert rotate([Reporter]).resumed


def test_a_rotation_to_an_older_target_is_superseded(app, reporters):
    add_key(app, f"1:sm4-gcm:{SM4_KEY}")
    KeyRotation.create(target_key="1", batch_size=10, owner="gone:1",
                       heartbeat_at=utcnow() - dt.timedelta(minutes=5))
    add_key(app, "2:aes-256-gcm:" + "bb" * 32)
    rotate([Reporter])
    assert keys_of(tokens()) == {"2"}
    assert [(r.target_key, r.state) for r in KeyRotation.select().order_by(KeyRotation.id)] \
        == [("1", "superseded"), ("2", "done")]


def test_a_value_that_does_not_open_stops_the_rotation_naming_it(app, reporters):
    add_key(app, f"1:sm4-gcm:{SM4_KEY}")
    ring = crypto.key_ring()
    victim = Reporter.select().order_by(Reporter.id).offset(123).first().id
    db.execute_sql(f"UPDATE test_rotation_reporter SET name = {db.obj.param} "
                   f"WHERE id = {db.obj.param}",
                   [ring.seal_token("x", "test.another_column", ring.keys["0"]), victim])
    with pytest.raises(RotationError, match=f"test_rotation_reporter.name id {victim} "
                       "does not open"):
        rotate([Reporter], batch_size=50)
    assert all(crypto.token_key(n) == "1" for n, _p in tokens()[:100])


def test_a_row_edited_during_the_batch_keeps_the_edit(app, reporters):
    add_key(app, f"1:sm4-gcm:{SM4_KEY}")
    column = encrypted_columns([Reporter])[0]
    ring = crypto.key_ring()
    rows = column.pending(0, ring.primary, 5)
    first = rows[0][0]
    Reporter.update(name="改过的名字").where(Reporter.id == first).execute()
    assert column.reseal(rows, ring, ring.primary) == 4
    assert Reporter.get_by_id(first).name == "改过的名字"


def test_rows_written_meanwhile_with_an_old_key_are_walked_again(app, reporters):
    add_key(app, f"1:sm4-gcm:{SM4_KEY}")
    column = encrypted_columns([Reporter])[0]
    old_key = crypto.key_ring().keys["0"]
    original = column.reseal.__func__
    state = {"done": False}

    def lagging_writer(self, rows, ring, key):
        written = original(self, rows, ring, key)
        if not state["done"]:  # a process still on the old ring rewrites row 1
            state["done"] = True
            db.execute_sql(f"UPDATE test_rotation_reporter SET name = {db.obj.param} "
                           f"WHERE id = {db.obj.param}",
                           [ring.seal_token("举报人0", "test.reporter_name", old_key),
                            rows[0][0]])
        return written

    from core.pii import rotation as rotation_module
    rotation_module.Column.reseal = lagging_writer
    try:
        outcome = rotate([Reporter], batch_size=50)
    finally:
        rotation_module.Column.reseal = original
    assert outcome.remaining == {} and outcome.rotation.passes == 2
    assert keys_of(tokens()) == {"1"} and Reporter.select().order_by(Reporter.id).first().name == "举报人0"


def test_keys_commands(app, runner, reporters):
    settings = app.config["QL_SETTINGS"]
    out = runner.invoke(args=["keys", "status"])
    assert out.exit_code == 0, out.output
    assert "test_rotation_reporter.name" in out.output and "0: 300" in out.output
    out = runner.invoke(args=["keys", "add", "--cipher", "sm4-gcm"])
    assert out.exit_code == 0, out.output
    assert "Added key 1 (sm4-gcm)" in out.output
    assert settings.key_ring_file.read_text().startswith("1:sm4-gcm:")
    assert crypto.token_key(crypto.encrypt("x", "test.x")) == "1"
    out = runner.invoke(args=["keys", "retire", "0"])
    assert out.exit_code != 0 and "still seals" in out.output
    out = runner.invoke(args=["keys", "rotate", "--batch", "25"])
    assert out.exit_code == 0, out.output
    assert "every value is under key 1 (450 re-sealed" in out.output
    out = runner.invoke(args=["keys", "status"])
    assert "1: 300" in out.output and "1: 150" in out.output and " done," in out.output
    out = runner.invoke(args=["keys", "retire", "1"])
    assert out.exit_code != 0 and "seals new values" in out.output
    out = runner.invoke(args=["keys", "retire", "0"])  # from QL_DATA_KEY: unset it there
    assert out.exit_code == 0 and "remove it from QL_DATA_KEY" in out.output
    out = runner.invoke(args=["keys", "add", "--id", "1"])
    assert out.exit_code != 0 and "already has a key 1" in out.output
    out = runner.invoke(args=["keys", "add", "--id", "bad id"])
    assert out.exit_code != 0
    actions = {e.action for e in AuditEvent.select()}
    assert {"keys.add", "keys.rotate.start", "keys.rotate.done"} <= actions
    assert SM4_KEY not in "".join(e.summary for e in AuditEvent.select())


def test_keys_retire_removes_an_unused_key_from_the_ring_file(app, runner, reporters):
    settings = app.config["QL_SETTINGS"]
    add_key(app, f"1:sm4-gcm:{SM4_KEY}")
    add_key(app, "2:aes-256-gcm:" + "bb" * 32)
    assert runner.invoke(args=["keys", "rotate"]).exit_code == 0
    out = runner.invoke(args=["keys", "retire", "1"])
    assert out.exit_code == 0, out.output
    assert [e.id for e in settings.key_ring_entries()] == ["0", "2"]
    assert AuditEvent.select().where(AuditEvent.action == "keys.retire").count() == 1


def test_keys_add_with_the_ring_in_the_environment_prints_the_entry(app, runner):
    original = app.config["QL_SETTINGS"]
    app.config["QL_SETTINGS"] = dataclasses.replace(
        original, data_keys=f"1:sm4-gcm:{SM4_KEY}").resolved()
    try:
        out = runner.invoke(args=["keys", "add", "--cipher", "aes-256-gcm"])
    finally:
        app.config["QL_SETTINGS"] = original
    assert out.exit_code == 0, out.output
    assert "append this entry" in out.output
    assert "\n2:aes-256-gcm:" in out.output
    assert not original.key_ring_file.exists()
