"""The tamper-evident audit trail: recording, append-only tables, sealing and verification.

Runs on SQLite and, with QL_DATABASE_URL=postgresql://…, on PostgreSQL: every tamper test
first removes the append-only guard the way a database administrator could.
"""
from __future__ import annotations

import json
import threading

import peewee as pw
import pytest

from core.audit import seal as sealing
from core.audit.models import AuditBlock, AuditEvent, AuditSealEntry
from core.audit.service import record, record_view
from core.db import db, is_postgres
from tests.conftest import ON_POSTGRES

AUDIT_TABLES = ("audit_event", "audit_block", "audit_seal_entry")


def drop_guard(table: str) -> None:
    """What a DBA would do before tampering: switch the append-only triggers off."""
    if is_postgres():
        db.execute_sql(f"ALTER TABLE {table} DISABLE TRIGGER USER")
    else:
        for op in ("update", "delete"):
            db.execute_sql(f"DROP TRIGGER IF EXISTS {table}_no_{op}")


def write_events(n: int, prefix: str = "test") -> list[AuditEvent]:
    out = []
    for i in range(n):
        with db.atomic():
            out.append(record(f"{prefix}.act", object_type="thing", object_id=i,
                              summary=f"{prefix} event {i}"))
    return out


# -- recording ----------------------------------------------------------------------
def test_record_outside_a_request_names_the_user_and_roles(app, org, make_user):
    user = make_user("aud0", role="audit_admin", region=org["city"])
    with db.atomic():
        ev = record("thing.update", object_type="person", object_id=7, user=user,
                    region_id=org["a"].id, summary="changed a person",
                    changes={"name": ["A", "B"], "id_number": ["110101199001011234", None],
                             "password": ["old-secret", "new-secret"]})
    ev = AuditEvent.get_by_id(ev.id)
    assert (ev.user_id, ev.username, ev.role, ev.region_id) == (user.id, "aud0",
                                                                 "audit_admin", org["a"].id)
    assert ev.ts is not None and ev.success is True
    changes = json.loads(ev.changes)
    assert changes["name"] == ["A", "B"]
    assert changes["id_number"] == ["1101**********1234", None]
    assert changes["password"] == ["***", "***"]
    assert "old-secret" not in ev.changes and "199001011234" not in ev.changes


def test_record_in_a_request_takes_ip_agent_request_id_roles_region(app, client, org,
                                                                     make_user, login):
    aud = make_user("aud1", role="audit_admin", region=org["city"])
    login(aud)
    token = _token(client)
    resp = client.post("/audit/verify", headers={"X-CSRFToken": token, "HX-Request": "true",
                                                 "User-Agent": "AuditTest/1.0",
                                                 "X-Request-Id": "req-123"})
    assert resp.status_code == 200
    ev = AuditEvent.select().where(AuditEvent.action == "audit.verify").get()
    assert ev.username == "aud1" and ev.user_id == aud.id
    assert ev.role == "audit_admin"
    assert ev.region_id == org["city"].id
    assert ev.ip == "127.0.0.1" and ev.user_agent == "AuditTest/1.0"
    assert ev.request_id == "req-123"


def test_record_view_of_a_confidential_record(app, client, org, make_user, login):
    aud = make_user("aud2", role="audit_admin", region=org["city"])
    login(aud)
    with app.test_request_context("/anything"):
        from flask import g
        g.ql_user, g.ql_region, g.ql_roles = aud, org["a"], {"audit_admin"}
        ev = record_view("case", 42, "opened a confidential case")
    ev = AuditEvent.get_by_id(ev.id)
    assert (ev.action, ev.object_type, ev.object_id, ev.region_id) == (
        "record.view", "case", "42", org["a"].id)


# -- append-only ---------------------------------------------------------------------
@pytest.mark.parametrize("table", AUDIT_TABLES)
def test_database_refuses_update_and_delete(app, table):
    write_events(3)
    sealing.seal(lag_seconds=0)
    column = {"audit_event": "summary", "audit_block": "hash",
              "audit_seal_entry": "block_id"}[table]
    value = "'x'" if column != "block_id" else "99"
    with pytest.raises(pw.DatabaseError, match="append-only"), db.atomic():
        db.execute_sql(f"UPDATE {table} SET {column} = {value}")
    with pytest.raises(pw.DatabaseError, match="append-only"), db.atomic():
        db.execute_sql(f"DELETE FROM {table}")
    assert sealing.verify().ok


def test_postgres_refuses_truncate(app):
    write_events(1)
    if not ON_POSTGRES:
        # SQLite has no TRUNCATE: an unqualified DELETE is its truncate, refused above.
        with pytest.raises(pw.DatabaseError, match="append-only"), db.atomic():
            db.execute_sql("DELETE FROM audit_event")
        return
    for table in AUDIT_TABLES:
        with pytest.raises(pw.DatabaseError, match="append-only"), db.atomic():
            db.execute_sql(f"TRUNCATE {table}")


# -- sealing and verification ----------------------------------------------------------
def test_seal_and_verify_intact(app, settings):
    write_events(7)
    result = sealing.seal(lag_seconds=0, block_size=3)
    assert result.events == 7 and len(result.blocks) == 3
    blocks = list(AuditBlock.select().order_by(AuditBlock.first_seq))
    assert [(b.first_seq, b.last_seq, b.count) for b in blocks] == [(1, 3, 3), (4, 6, 3),
                                                                    (7, 7, 1)]
    assert blocks[0].prev_hash == sealing.GENESIS and blocks[1].prev_hash == blocks[0].hash
    seqs = [s for (s,) in AuditSealEntry.select(AuditSealEntry.seq)
            .order_by(AuditSealEntry.seq).tuples()]
    assert seqs == list(range(1, 8))
    anchor = json.loads((settings.instance_path / "audit_anchor.json").read_text())
    assert anchor["block_id"] == blocks[-1].id and anchor["hash"] == blocks[-1].hash
    check = sealing.verify()
    assert check.ok and check.blocks == 3 and check.events == 7 and check.unsealed == 0
    assert sealing.seal(lag_seconds=0).events == 0  # nothing left: no empty block


def test_safety_lag_leaves_recent_events_for_later(app):
    write_events(2)
    assert sealing.seal(lag_seconds=3600).events == 0
    assert sealing.verify().unsealed == 2
    assert sealing.seal(lag_seconds=0).events == 2


def test_block_hash_is_sm3_over_previous_hash_and_canonical_events(app):
    write_events(2)
    sealing.seal(lag_seconds=0)
    block = AuditBlock.get()
    events = list(AuditEvent.select().order_by(AuditEvent.id).dicts())
    import hashlib
    h = hashlib.new("sm3")
    h.update(f"{sealing.GENESIS}|1|2|2\n".encode())
    for seq, ev in enumerate(events, start=1):
        h.update(sealing.canonical(ev, seq) + b"\n")
    assert block.hash == h.hexdigest() and len(block.hash) == 64


def test_changed_event_text_fails_naming_its_block(app, runner):
    events = write_events(6)
    sealing.seal(lag_seconds=0, block_size=2)
    target = events[3]  # seq 4: the second block
    second = AuditBlock.select().where(AuditBlock.first_seq == 3).get()
    drop_guard("audit_event")
    db.execute_sql("UPDATE audit_event SET summary = 'nothing happened' WHERE id = %s"
                   if is_postgres() else
                   "UPDATE audit_event SET summary = 'nothing happened' WHERE id = ?",
                   (target.id,))
    result = sealing.verify()
    assert not result.ok and result.block_id == second.id
    assert "changed" in result.reason
    out = runner.invoke(args=["audit", "verify"])
    assert out.exit_code == 1
    assert f"block {second.id}" in out.output


def test_deleted_event_fails(app, runner):
    events = write_events(5)
    sealing.seal(lag_seconds=0, block_size=10)
    block = AuditBlock.get()
    drop_guard("audit_event")
    AuditEvent.delete().where(AuditEvent.id == events[2].id).execute()
    result = sealing.verify()
    assert not result.ok and result.block_id == block.id
    assert f"event {events[2].id}" in result.reason and "deleted" in result.reason
    # the event and its seal entry both gone: the counts no longer add up
    drop_guard("audit_seal_entry")
    AuditSealEntry.delete().where(AuditSealEntry.event_id == events[2].id).execute()
    result = sealing.verify()
    assert not result.ok and result.block_id == block.id and "missing" in result.reason
    assert runner.invoke(args=["audit", "verify"]).exit_code == 1


def test_truncated_tail_fails_through_the_anchor(app, runner):
    write_events(6)
    sealing.seal(lag_seconds=0, block_size=2)
    newest = AuditBlock.select().order_by(AuditBlock.last_seq.desc()).get()
    drop_guard("audit_block")
    drop_guard("audit_seal_entry")
    drop_guard("audit_event")
    doomed = [e for (e,) in AuditSealEntry.select(AuditSealEntry.event_id)
              .where(AuditSealEntry.block_id == newest.id).tuples()]
    AuditSealEntry.delete().where(AuditSealEntry.block_id == newest.id).execute()
    AuditBlock.delete().where(AuditBlock.id == newest.id).execute()
    AuditEvent.delete().where(AuditEvent.id.in_(doomed)).execute()
    # the remaining chain is consistent in itself...
    assert sealing.verify(use_anchor=False).ok
    # ...but the anchor outside the database names the missing block
    result = sealing.verify()
    assert not result.ok and result.block_id == newest.id and "truncated" in result.reason
    out = runner.invoke(args=["audit", "verify"])
    assert out.exit_code == 1 and f"block {newest.id}" in out.output
    # sealing refuses to build on a truncated chain (and to move the anchor back)
    write_events(1)
    with pytest.raises(sealing.ChainError):
        sealing.seal(lag_seconds=0)
    assert runner.invoke(args=["audit", "seal", "--lag", "0"]).exit_code == 1


def test_rewritten_chain_fails_through_the_anchor(app):
    """A DBA who edits an event and recomputes every hash is still caught by the anchor."""
    events = write_events(3)
    sealing.seal(lag_seconds=0)
    block = AuditBlock.get()
    for table in AUDIT_TABLES:
        drop_guard(table)
    AuditEvent.update(summary="rewritten").where(AuditEvent.id == events[0].id).execute()
    rows = list(AuditEvent.select().order_by(AuditEvent.id).dicts())
    forged = sealing.block_hash(sealing.GENESIS, 1, 3, list(enumerate(rows, start=1)))
    AuditBlock.update(hash=forged).where(AuditBlock.id == block.id).execute()
    assert sealing.verify(use_anchor=False).ok
    result = sealing.verify()
    assert not result.ok and result.block_id == block.id


def test_backdated_insert_is_not_sealed_and_fails_verify(app):
    import datetime as dt

    from core.db import utcnow
    write_events(2)
    sealing.seal(lag_seconds=0)
    forged = AuditEvent.create(action="user.create", summary="backdated",
                               ts=utcnow() - dt.timedelta(days=3))
    assert sealing.seal(lag_seconds=0).events == 0
    result = sealing.verify()
    assert not result.ok and f"event {forged.id}" in result.reason


def test_missing_anchor_fails_unless_skipped(app, settings, runner):
    write_events(1)
    sealing.seal(lag_seconds=0)
    (settings.instance_path / "audit_anchor.json").unlink()
    assert not sealing.verify().ok
    out = runner.invoke(args=["audit", "verify", "--no-anchor"])
    assert out.exit_code == 0 and "intact" in out.output


def test_anchor_path_setting(app, tmp_path):
    from dataclasses import replace
    target = tmp_path / "elsewhere" / "anchor.json"
    app.config["QL_SETTINGS"] = replace(app.config["QL_SETTINGS"],
                                        audit_anchor_path=str(target))
    write_events(1)
    sealing.seal(lag_seconds=0)
    assert json.loads(target.read_text())["block_id"] == AuditBlock.get().id
    assert sealing.verify().anchor_path == str(target)


def test_cli_seal_and_verify(app, runner):
    write_events(4)
    out = runner.invoke(args=["audit", "seal", "--lag", "0"])
    assert out.exit_code == 0 and "sealed 4 event(s) into 1 block(s)" in out.output
    out = runner.invoke(args=["audit", "verify"])
    assert out.exit_code == 0, out.output
    assert "intact: 1 block(s), 4 sealed event(s)" in out.output


def test_periodic_job_seals_events_older_than_the_lag(app):
    import datetime as dt

    from core.audit import hooks, tasks
    from core.db import utcnow
    from core.queue import huey
    hooks.ql_periodic_tasks(huey)  # idempotent: the job registers at import
    hooks.ql_periodic_tasks(huey)
    assert "core.audit.seal" in [t.__name__ for t in huey._registry._periodic_tasks]
    old = AuditEvent.create(ts=utcnow() - dt.timedelta(seconds=60), action="old.act")
    fresh = AuditEvent.create(action="fresh.act")
    result = tasks.seal_job.call_local()
    assert result.events == 1
    assert AuditSealEntry.get(AuditSealEntry.event_id == old.id).seq == 1
    assert AuditSealEntry.get_or_none(AuditSealEntry.event_id == fresh.id) is None


# -- concurrency -----------------------------------------------------------------------
def test_concurrent_writers_and_sealers_make_one_gap_free_chain(app):
    writers, per_writer = 6, 25
    errors: list[BaseException] = []
    stop = threading.Event()

    def write(n):
        try:
            db.connect(reuse_if_open=True)
            for i in range(per_writer):
                with db.atomic():
                    record("conc.write", object_type="w", object_id=f"{n}-{i}",
                           summary=f"writer {n} event {i}")
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            db.close()

    def seal_loop():
        try:
            with app.app_context():
                db.connect(reuse_if_open=True)
                while not stop.is_set():
                    sealing.seal(lag_seconds=0, block_size=7)
                db.close()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    sealers = [threading.Thread(target=seal_loop) for _ in range(2)]
    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for t in sealers + threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    for t in sealers:
        t.join()
    assert not errors, errors
    sealing.seal(lag_seconds=0)
    total = writers * per_writer
    assert AuditEvent.select().where(AuditEvent.action == "conc.write").count() == total
    seqs = [s for (s,) in AuditSealEntry.select(AuditSealEntry.seq)
            .order_by(AuditSealEntry.seq).tuples()]
    assert seqs == list(range(1, AuditEvent.select().count() + 1))
    result = sealing.verify()
    assert result.ok and result.unsealed == 0 and result.events == total


def _token(client, path="/audit/?sort=time&order=desc"):
    import re
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
