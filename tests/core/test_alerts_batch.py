"""emit_many: many alerts through the alert bus at once, as emit() one by one would."""
from __future__ import annotations

import datetime as dt
import math
import shutil
import sqlite3
import threading
import uuid
from contextlib import contextmanager
from dataclasses import replace
from urllib.parse import unquote, urlparse

import pytest
from peewee import fn

from core.alerts import AlertError, AlertSpec, emit, emit_many, service
from core.alerts.models import Alert, AlertPreference, InboxItem, Notification
from core.alerts.outbox import dispatch
from core.audit.models import AuditEvent
from core.audit.service import record, record_many
from core.auth.models import User
from core.db import db, make_database, release_all, utcnow
from core.org.models import Department, Person, Post, PostHolding
from tests.conftest import ON_POSTGRES, pg_admin, pg_url
from tests.core.test_alerts import escalating  # noqa: F401 - a fixture: test.deadline

NOW = dt.datetime(2026, 11, 27, 6, 30)


@pytest.fixture
def people(org):
    """An account for every holder of the org fixture's posts (clerk, head, office head)."""
    out = {}
    for key in ("a", "b", "city"):
        for role, name in (("clerk", "受理员"), ("head", "局长"), ("sup", "主任")):
            person = Person.get(Person.name == name + key)
            out[f"{role}_{key}"] = User.create(username=f"{role}_{key}", password_hash="-",
                                               person=person)
    return out


@pytest.fixture
def channels_on(app):
    """E-mail and SMS configured (nothing is sent: the tests dispatch the inbox only)."""
    app.config["QL_SETTINGS"] = replace(app.config["QL_SETTINGS"],
                                        smtp_url="smtp://127.0.0.1:1",
                                        sms_gateway_url="http://127.0.0.1:1/sms")


def counts() -> tuple[int, int, int]:
    raised = AuditEvent.select().where(AuditEvent.action == "alert.raise").count()
    return Alert.select().count(), Notification.select().count(), raised


def spec(kind="core.test", region=None, subject="late", **kw) -> AlertSpec:
    return AlertSpec(kind, region, subject, **kw)


# -- equivalence with emit() one by one ---------------------------------------------------
@contextmanager
def copy_of_database(settings, tmp_path):
    """A copy of this test's database as it is now; yields a function binding the proxy
    to the copy (True) or back to the test's database (False)."""
    original = db.obj
    release_all()
    source = urlparse(settings.database_url)
    if ON_POSTGRES:
        name = f"ql_twin_{uuid.uuid4().hex[:10]}"
        admin = pg_admin()
        admin.execute_sql(f'CREATE DATABASE "{name}" TEMPLATE "{source.path.lstrip("/")}"')
        url = pg_url(name)
    else:
        path = tmp_path / "twin.db"
        shutil.copy(unquote(source.path), path)
        url = f"sqlite:///{path}"
    twin = make_database(url)

    def bind(to_twin: bool) -> None:
        release_all()
        db.initialize(twin if to_twin else original)
        db.connect(reuse_if_open=True)

    try:
        yield bind
    finally:
        bind(False)
        twin.close_all()
        if ON_POSTGRES:
            admin.execute_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.close()


def snapshot(results, since: int) -> dict:
    """The alert bus's rows, normalised: ids, uids and delivery times left out, an alert
    named by its content, everything sorted."""
    label = {}
    alerts = []
    for a in Alert.select().order_by(Alert.id):
        row = {k: v for k, v in a.__data__.items() if k != "id"}
        label[a.id] = repr(sorted(row.items()))
        alerts.append(label[a.id])
    notifications = sorted(
        (label[n.alert_id], n.user_id, n.channel, n.escalation_level, n.state, n.attempts,
         n.next_attempt_at, n.created_at, n.last_error, n.retries)
        for n in Notification.select())
    inbox = sorted((label[i.alert_id], i.user_id, i.read_at) for i in InboxItem.select())
    events = sorted(
        (e.action, e.object_type, label[int(e.object_id)], e.region_id, e.summary,
         e.changes, e.user_id, e.username, e.role, e.success)
        for e in AuditEvent.select().where(AuditEvent.id > since))
    returned = [(label[a.id], a.deduplicated) for a in results]
    return {"alerts": sorted(alerts), "notifications": notifications, "inbox": inbox,
            "events": events, "returned": returned}


def deliver_inbox() -> None:
    """Deliver the inbox rows (set-based, in this transaction's database)."""
    ids = [n for (n,) in Notification.select(Notification.id)
           .where(Notification.channel == "inbox").tuples()]
    dispatch(ids=ids)


@pytest.mark.usefixtures("escalating", "channels_on")
def test_emit_many_writes_what_emit_one_by_one_writes(app, settings, tmp_path, org, people):
    # reachable by e-mail and SMS; preferences that differ from the defaults
    Person.update(email="a@example.cn", phone="13800000001").where(
        Person.name.in_(["受理员a", "局长a", "主任b"])).execute()
    AlertPreference.create(user=people["clerk_a"], channel="email", enabled=False)
    AlertPreference.create(user=people["clerk_a"], channel="sms", enabled=True)
    # a second holder of clerk_a, an inactive account, vacant posts and a vacant head
    second = Person.create(name="受理员a2", region=org["a"], email="a2@example.cn")
    PostHolding.create(person=second, post=org["clerk_a"], start=dt.date(2024, 1, 1))
    User.create(username="clerk_a2", password_hash="-", person=second)
    retired = User.create(username="retired", password_hash="-", active=False)
    vacant = Post.create(department=org["dept_b"], title="空岗")
    headless = Department.create(region=org["b"], code="XX", name="无人部门")
    Post.create(department=headless, title="负责人", is_head=True)
    headless_clerk = Post.create(department=headless, title="科员")
    # an open alert and a resolved one whose keys the specs use again
    emit("core.test", org["a"], "already open", target_post=org["clerk_a"],
         dedupe_key="open-1", now=NOW)
    gone = emit("core.test", org["a"], "resolved", target_post=org["clerk_a"],
                dedupe_key="gone-1", now=NOW)
    service.resolve(gone, people["head_a"], "Done.", now=NOW)

    targets = [
        {"target_post": org["clerk_a"]},
        {"target_post": org["clerk_a"].id},
        {"target_department": org["dept_a"]},
        {"target_user": people["sup_b"]},
        {"target_post": org["clerk_b"], "target_user": people["clerk_a"].id},
        {"target_department": org["sup_a"]},
        {"target_post": vacant},
        {"target_post": headless_clerk},
        {"target_department": headless},
        {"target_user": retired},
        {"target_post": org["head_b"], "target_department": org["dept_b"]},
    ]
    kinds = ("core.test", "test.deadline", "core.test")  # reminder; yellow, escalating
    specs = []
    for i in range(66):
        key = None if i % 5 == 4 else f"k-{i % 40}"
        specs.append(spec(kinds[i % 40 % 3], org["a"] if i % 2 else org["b"].id,
                          f"signal {i} " + "长" * (i * 7 % 230), dedupe_key=key,
                          ref=f"case:{i}", details={"n": i % 40} if i % 3 else None,
                          level="red" if i % 40 % 3 == 2 else None,
                          **targets[i % len(targets)]))
    specs += [spec(region=org["a"], subject="again", target_user=people["clerk_a"],
                   dedupe_key="open-1"),
              spec(region=org["a"], subject="reborn", target_user=people["clerk_a"],
                   dedupe_key="gone-1")]
    since = AuditEvent.select().order_by(AuditEvent.id.desc()).first().id

    with copy_of_database(settings, tmp_path) as bind:
        with db.atomic():
            one_by_one = [emit(s.kind, s.region, s.subject, target_post=s.target_post,
                               target_department=s.target_department,
                               target_user=s.target_user, ref=s.ref, dedupe_key=s.dedupe_key,
                               details=s.details, level=s.level, now=NOW) for s in specs]
        deliver_inbox()
        expected = snapshot(one_by_one, since)
        bind(True)
        with db.atomic():
            batch = emit_many(specs, now=NOW)
        deliver_inbox()
        got = snapshot(batch, since)

    assert got == expected
    # the specs meant what they say: duplicates, escalations and every channel occur;
    # 13 keyless, 32 keys (21 again later in the batch), one open, one resolved
    assert sum(d for _, d in got["returned"]) == 22
    levels = {(a.escalation_level, a.escalated_to) for a in batch}
    assert levels == {(0, ""), (1, "department_head"), (1, "supervision_office"),
                      (2, "supervision_office")}
    assert {n[2] for n in got["notifications"]} == {"inbox", "email", "sms"}
    assert len(got["events"]) == 46 and len(got["inbox"]) > 46


# -- dedupe ------------------------------------------------------------------------------
@pytest.mark.usefixtures("escalating")
def test_dedupe_within_the_batch_and_against_open_alerts(org, people):
    before = emit("core.test", org["a"], "open", target_post=org["clerk_a"], dedupe_key="k1")
    with db.atomic():
        out = emit_many([spec(region=org["a"], target_post=org["clerk_a"], dedupe_key="k1"),
                         spec(region=org["a"], target_post=org["clerk_b"], dedupe_key="k2"),
                         spec(region=org["a"], target_post=org["head_a"], dedupe_key="k2"),
                         spec(region=org["a"], target_post=org["clerk_a"]),
                         spec(region=org["a"], target_post=org["clerk_a"])])
    assert [a.deduplicated for a in out] == [True, False, True, False, False]
    assert out[0].id == before.id and out[0].subject == "open"
    assert out[2].id == out[1].id and out[2].target_post_id == org["clerk_b"].id
    assert len({a.id for a in out}) == 4
    assert counts() == (4, 4, 4)
    assert Alert.get(Alert.open_key == "core.test|k2").target_post_id == org["clerk_b"].id
    # the same key under another kind is another alert
    other = emit_many([spec("test.deadline", org["a"],
                            target_post=org["clerk_a"], dedupe_key="k1")])
    assert not other[0].deduplicated and other[0].id != before.id


def test_a_resolved_key_is_raised_again_and_an_acknowledged_one_is_not(org, people):
    first, = emit_many([spec(region=org["a"], target_post=org["clerk_a"], dedupe_key="k")])
    service.acknowledge(first, people["clerk_a"])
    again, = emit_many([spec(region=org["a"], target_post=org["clerk_a"], dedupe_key="k")])
    assert again.deduplicated and again.id == first.id and again.state == "acknowledged"
    service.resolve(Alert.get_by_id(first.id), people["clerk_a"], "Handled.")
    reborn, twin = emit_many([spec(region=org["a"], subject="late again",
                                   target_post=org["clerk_a"], dedupe_key="k")] * 2)
    assert not reborn.deduplicated and reborn.id != first.id and reborn.state == "open"
    assert twin.deduplicated and twin.id == reborn.id
    assert Alert.get_by_id(reborn.id).open_key == "core.test|k"


# -- recipients and channels --------------------------------------------------------------
def test_vacant_targets_escalate_to_the_first_level_with_someone(org, people):
    PostHolding.update(end=dt.date(2024, 6, 30)).where(
        PostHolding.post.in_([org["clerk_a"], org["head_b"]])).execute()
    nobody = Department.create(region=org["b"], code="XX", name="无人部门")
    out = emit_many([spec(region=org["a"], subject="a1", target_post=org["clerk_a"]),
                     spec(region=org["a"], subject="a2", target_post=org["clerk_a"]),
                     spec(region=org["b"], subject="b", target_post=org["clerk_b"]),
                     spec(region=org["b"], subject="b head", target_department=org["dept_b"]),
                     spec(region=org["b"], subject="nobody", target_department=nobody)],
                    now=NOW)
    got = [(a.escalation_level, a.escalated_to, a.escalated_at) for a in out]
    assert got == [(1, "department_head", NOW), (1, "department_head", NOW), (0, "", None),
                   (1, "supervision_office", NOW), (1, "supervision_office", NOW)]
    assert [(a.escalation_level, a.escalated_to, a.escalated_at)
            for a in (Alert.get_by_id(x.id) for x in out)] == got
    who = {a.subject: sorted((n.user_id, n.escalation_level) for n in a.notifications)
           for a in out}
    assert who == {"a1": [(people["head_a"].id, 1)], "a2": [(people["head_a"].id, 1)],
                   "b": [(people["clerk_b"].id, 0)], "b head": [(people["sup_b"].id, 1)],
                   "nobody": [(people["sup_b"].id, 1)]}


def test_nobody_anywhere_still_raises_the_alert_and_audits_it(org, people):
    PostHolding.delete().execute()
    out = emit_many([spec(region=org["a"], target_post=org["clerk_a"], dedupe_key="x")])
    assert out[0].escalation_level == 0 and not out[0].deduplicated
    event = AuditEvent.get(AuditEvent.action == "alert.raise")
    assert event.object_id == str(out[0].id)
    assert event.changes == '{"notifications": [null, 0], "recipients": [null, 0]}'
    assert counts() == (1, 0, 1)


def test_channels_follow_preferences_and_red_goes_everywhere(org, people, channels_on):
    Person.update(email="w@example.cn", phone="13800000000").execute()
    AlertPreference.create(user=people["clerk_a"], channel="email", enabled=False)
    AlertPreference.create(user=people["clerk_a"], channel="sms", enabled=True)
    yellow, red, other = emit_many([
        spec(region=org["a"], subject="y", target_user=people["clerk_a"], level="yellow"),
        spec(region=org["a"], subject="r", target_user=people["clerk_a"], level="red"),
        spec(region=org["a"], subject="o", target_user=people["head_a"], level="yellow")])
    assert {n.channel for n in yellow.notifications} == {"inbox", "sms"}
    assert {n.channel for n in red.notifications} == {"inbox", "email", "sms"}
    assert {n.channel for n in other.notifications} == {"inbox", "email"}


def test_each_distinct_target_is_looked_up_once_per_batch(org, people, channels_on):
    """Five times the alerts to the same targets (held, vacant, departments, users, red
    and yellow): the same statements, none of them per alert."""
    Person.update(email="w@example.cn").execute()
    vacant = Post.create(department=org["dept_b"], title="空岗")
    targets = [{"target_post": org["clerk_a"]}, {"target_post": vacant},
               {"target_department": org["dept_b"]}, {"target_user": people["sup_a"]},
               {"target_user": people["clerk_b"], "target_department": org["sup_b"]}]
    statements = []
    for n in (10, 50):
        specs = [spec(region=org["a"] if i % 2 else org["b"], subject=f"s{i}",
                      dedupe_key=f"{n}-{i}", level="red" if i % 3 else "yellow",
                      **targets[i % len(targets)]) for i in range(n)]
        with counting() as seen, db.atomic():
            out = emit_many(specs)
        statements.append(len(seen))
        assert {a.escalated_to for a in out} == {"", "department_head"}
    assert statements[0] == statements[1] <= 20, statements


# -- transactions, bad input, size ------------------------------------------------------
def test_rolling_back_the_callers_transaction_leaves_nothing(org, people):
    class Undo(Exception):
        pass

    with pytest.raises(Undo), db.atomic():
        emit_many([spec(region=org["a"], subject=f"s{i}", target_post=org["clerk_a"],
                        dedupe_key=f"k{i}") for i in range(10)])
        assert counts() == (10, 10, 10)
        raise Undo
    assert counts() == (0, 0, 0)
    # the keys are free: nothing of the rolled-back batch holds them
    assert not any(a.deduplicated for a in emit_many(
        [spec(region=org["a"], target_post=org["clerk_a"], dedupe_key="k1")]))


def test_an_empty_batch_writes_nothing(org):
    with counting() as statements:
        assert emit_many([]) == []
        assert emit_many(iter(())) == []
    assert statements == [] and counts() == (0, 0, 0)


@pytest.mark.parametrize("bad, message", [
    (spec("nope", subject="s3"), r"Alert 3 of 4 \(nope s3\): Unknown alert kind nope"),
    (spec(subject="late", dedupe_key="k3"),
     r"Alert 3 of 4 \(core.test k3\): An alert needs a target"),
    (spec(subject="  ", dedupe_key="k3", target_user=1), r"Alert 3 of 4 .*subject"),
    (spec(subject="x", level="pink", target_user=1), r"Alert 3 of 4 .*Unknown alert level pink"),
    ({"kind": "core.test"},
     r"Alert 3 of 4 \(\{'kind': 'core.test'\}\): An AlertSpec is required, not dict"),
])
def test_a_bad_spec_is_named_and_nothing_of_the_batch_is_written(org, people, bad, message):
    good = [spec(region=org["a"], subject=f"ok{i}", target_post=org["clerk_a"],
                 dedupe_key=f"ok{i}") for i in range(4)]
    with pytest.raises(AlertError, match=message):
        emit_many([*good[:2], bad, good[3]])
    assert counts() == (0, 0, 0)


def test_large_batches_fit_the_variable_limit_and_take_few_statements(org, people):
    """SQLite's historic limit of 999 variables: every insert is split to fit it."""
    if not ON_POSTGRES:
        db.connection().setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999)
    extra = [Person.create(name=f"p{i}", region=org["a"]) for i in range(3)]
    for p in extra:
        PostHolding.create(person=p, post=org["clerk_a"], start=dt.date(2024, 1, 1))
        User.create(username=p.name, password_hash="-", person=p)
    specs = [spec(region=org["a"], subject=f"s{i}", target_post=org["clerk_a"],
                  dedupe_key=None if i % 3 == 0 else f"k{i}") for i in range(600)]
    with counting() as statements, db.atomic():
        out = emit_many(specs)
    assert len({a.id for a in out}) == 600 and not any(a.deduplicated for a in out)
    subjects = dict(Alert.select(Alert.id, Alert.subject).tuples())
    assert [subjects[a.id] for a in out] == [s.subject for s in specs]
    assert counts() == (600, 2400, 600)
    per_alert = (Notification.select(Notification.alert, fn.COUNT(Notification.id))
                 .group_by(Notification.alert).tuples())
    assert dict(per_alert) == {a.id: 4 for a in out}
    # in chunks that fit the limit: 600 alerts of 17 columns, 2400 notifications of 11,
    # 600 audit events of 14; then one look-up of the post's holders
    limit = 999 if not ON_POSTGRES else 32766
    inserts = sum(math.ceil(rows / (limit // width))
                  for rows, width in ((600, 17), (2400, 11), (600, 14)))
    assert len(statements) == inserts + 1, statements


@contextmanager
def counting():
    """The SQL statements executed on this connection inside the block."""
    database = db.obj
    seen: list[str] = []
    original = database.execute_sql

    def execute_sql(sql, params=None):
        seen.append(sql)
        return original(sql, params)

    database.execute_sql = execute_sql
    try:
        yield seen
    finally:
        del database.execute_sql


# -- concurrency -------------------------------------------------------------------------
def test_concurrent_batches_with_overlapping_keys_raise_one_alert_per_key(app, org, people):
    """Four threads, each on its own connection, raise overlapping keys in different
    orders at once (and one of them with single emits)."""
    db.commit() if db.in_transaction() else None
    region, post = org["a"].id, org["clerk_a"].id
    plans = [range(60), reversed(range(30, 90)), range(20, 80, 2)]
    plans = [[f"race-{k}" for k in plan] for plan in plans]
    barrier = threading.Barrier(4)
    results: dict[int, list] = {}
    errors = []

    def worker(n):
        try:
            with app.app_context(), db.connection_context():
                barrier.wait()
                with db.atomic():
                    if n < 3:
                        results[n] = emit_many([spec(region=region, target_post=post,
                                                     dedupe_key=k) for k in plans[n]])
                    else:
                        results[n] = [emit("core.test", region, "late", target_post=post,
                                           dedupe_key=f"race-{k}") for k in range(50, 70)]
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    ids: dict[str, set[int]] = {}
    new = 0
    for alerts in results.values():
        for a in alerts:
            ids.setdefault(a.open_key, set()).add(a.id)
            new += not a.deduplicated
    assert len(ids) == 90 and all(len(v) == 1 for v in ids.values())
    assert new == 90
    assert counts() == (90, 90, 90)


# -- record_many --------------------------------------------------------------------------
def test_record_many_writes_what_record_writes(app, org, people):
    changes = {"password": ["old", "new"], "id_number": [None, "510104199001011234"],
               "name": ["a", "b"]}
    one = record("thing.update", object_type="person", object_id=7, summary="x",
                 changes=changes, region_id=org["a"].id, user=people["head_a"])
    assert record_many("thing.update", [
        {"object_type": "person", "object_id": 7, "summary": "x", "changes": changes,
         "region_id": org["a"].id},
        {"object_type": "person", "object_id": 8, "success": False}],
        user=people["head_a"]) == 2
    assert record_many("thing.update", []) == 0
    rows = list(AuditEvent.select().where(AuditEvent.action == "thing.update")
                .order_by(AuditEvent.id))
    columns = ("user_id", "username", "role", "region_id", "object_type", "object_id",
               "summary", "changes", "success")
    assert [[getattr(r, c) for c in columns] for r in rows[:2]] == \
        [[getattr(one, c) for c in columns]] * 2
    assert '"***"' in rows[1].changes and "5101**********1234" in rows[1].changes
    assert (rows[2].object_id, rows[2].success, rows[2].changes) == ("8", False, "")
    assert rows[1].ts == rows[2].ts and rows[1].ts >= utcnow() - dt.timedelta(minutes=1)
