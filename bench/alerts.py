"""Benchmark of the alert bus: raise 100,000 alerts to post holders with ``emit`` one by
one, then the same alerts with ``emit_many`` (a batch per transaction), draining the
outbox through the inbox channel after each. Prints alerts per second, SQL statements per
alert, and the ratio of each to a bare insert of the same rows (alert, outbox and audit
rows) in the same run; then ``emit_many`` of the same keys again (all deduplicated).

    python bench/alerts.py [--alerts 100000] [--posts 1000] [--database-url URL]

SQLite in a temporary folder by default; pass a PostgreSQL URL of an empty database
to measure there.
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

BATCH = 1000  # alerts per caller transaction (and per emit_many batch)


def build(settings):
    from core import calendar, migrate
    from core.app import create_app
    from core.auth.roles import sync_builtin_roles
    from core.db import db
    from core.plugins import host
    app = create_app(settings)
    ctx = app.app_context()
    ctx.push()
    db.connect(reuse_if_open=True)
    migrate.upgrade(host())
    calendar.ensure()
    sync_builtin_roles(host())
    return app


def seed_org(n_posts: int) -> list[int]:
    """One region, departments of 20 posts, one holder (with an account) per post."""
    from core.auth.models import User
    from core.db import db
    from core.org.models import Department, Person, Post, PostHolding, Region
    with db.atomic():
        region = Region.create(code="510199", name="Bench county", level="county")
        Department.create(region=region, code="JW", name="Supervision office",
                          is_supervision_office=True)
        posts = []
        for d in range(max(1, n_posts // 20)):
            dept = Department.create(region=region, code=f"D{d}", name=f"Dept {d}")
            for p in range(20):
                posts.append(Post.create(department=dept, title=f"Post {p}",
                                         is_head=p == 0).id)
        people = []
        for i, post in enumerate(posts):
            person = Person.create(name=f"holder {i}", region=region)
            PostHolding.create(person=person, post=post, start=dt.date(2024, 1, 1))
            people.append(person.id)
        User.insert_many([{"username": f"bench{i}", "password_hash": "-", "person": pid}
                          for i, pid in enumerate(people)]).execute()
    return posts, region.id


def holders_by_post(posts):
    from core.auth.models import User
    from core.org.models import PostHolding
    out = {}
    for post, user in (PostHolding.select(PostHolding.post, User.id)
                       .join(User, on=(User.person == PostHolding.person)).tuples()):
        out.setdefault(post, []).append(user)
    return out


class Prepared:
    """A fixed INSERT of every column of ``model`` (what a hand-written loader would do)."""

    def __init__(self, model, returning: bool = False):
        from core.db import db
        self.model, self.fields = model, model._meta.fields
        self.columns = [n for n in model._meta.sorted_field_names if n != "id"]
        self.sql = (f'INSERT INTO "{model._meta.table_name}" ('
                    + ", ".join(f'"{self.fields[c].column_name}"' for c in self.columns)
                    + ") VALUES (" + ", ".join([db.obj.param] * len(self.columns)) + ")"
                    + (' RETURNING "id"' if returning else ""))

    def params(self, values: dict) -> list:
        out = []
        for c in self.columns:
            if c in values:
                v = values[c]
            else:
                d = self.fields[c].default
                v = d() if callable(d) else d
            out.append(self.fields[c].db_value(v))
        return out


def bare_insert(n: int, posts, region_id, holders) -> float:
    """Insert the rows emit writes (alert, its outbox rows, its audit event) with fixed
    statements and no logic: no recipient query, no dedupe, no channel choice."""
    from core.alerts.models import Alert, Notification
    from core.audit.models import AuditEvent
    from core.db import db, utcnow
    ins_alert, ins_note = Prepared(Alert, returning=True), Prepared(Notification)
    ins_audit = Prepared(AuditEvent)
    start = time.perf_counter()
    for base in range(0, n, BATCH):
        now = utcnow()
        with db.atomic():
            for i in range(base, min(n, base + BATCH)):
                post = posts[i % len(posts)]
                aid = db.execute_sql(ins_alert.sql, ins_alert.params({
                    "kind": "core.test", "level": "reminder", "region": region_id,
                    "subject": f"bench {i}", "target_post": post, "created_at": now,
                    "open_key": f"core.test|bare-{i}", "dedupe_key": f"bare-{i}"})
                ).fetchone()[0]
                for user in holders[post]:
                    db.execute_sql(ins_note.sql, ins_note.params({
                        "uid": uuid.uuid4().hex, "alert": aid, "user": user,
                        "channel": "inbox", "next_attempt_at": now, "created_at": now}))
                db.execute_sql(ins_audit.sql, ins_audit.params({
                    "ts": now, "action": "alert.raise", "object_type": "alert",
                    "object_id": str(aid), "region_id": region_id,
                    "summary": f"core.test reminder: bench {i}"}))
    return time.perf_counter() - start


def clear() -> None:
    """Remove the baseline's alerts (audit events are append-only and stay)."""
    from core.alerts.models import Alert, InboxItem, Notification
    from core.db import db
    with db.atomic():
        InboxItem.delete().execute()
        Notification.delete().execute()
        Alert.delete().execute()


def emit_all(n: int, posts, region_id) -> float:
    from core.alerts import emit
    from core.db import db
    start = time.perf_counter()
    for base in range(0, n, BATCH):
        with db.atomic():
            for i in range(base, min(n, base + BATCH)):
                emit("core.test", region_id, f"bench {i}", target_post=posts[i % len(posts)],
                     dedupe_key=f"bench-{i}")
    return time.perf_counter() - start


def emit_many_all(n: int, posts, region_id) -> float:
    from core.alerts import AlertSpec, emit_many
    from core.db import db
    start = time.perf_counter()
    for base in range(0, n, BATCH):
        specs = [AlertSpec("core.test", region_id, f"bench {i}",
                           target_post=posts[i % len(posts)], dedupe_key=f"bench-{i}")
                 for i in range(base, min(n, base + BATCH))]
        with db.atomic():
            emit_many(specs)
    return time.perf_counter() - start


class Statements:
    """Counts the SQL statements the database runs inside the block."""

    def __enter__(self):
        from core.db import db
        self.n, self.database = 0, db.obj
        original = self.database.execute_sql

        def execute_sql(sql, params=None):
            self.n += 1
            return original(sql, params)

        self.database.execute_sql = execute_sql
        return self

    def __exit__(self, *exc) -> None:
        del self.database.execute_sql


def drain() -> tuple[float, int]:
    from core.alerts.outbox import dispatch
    start = time.perf_counter()
    total = 0
    while True:
        done = dispatch(limit=5000)
        total += done["batched"] + done["enqueued"]
        if not done["batched"] and not done["enqueued"]:
            break
    return time.perf_counter() - start, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=100_000)
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    from core.settings import Settings
    tmp = Path(tempfile.mkdtemp(prefix="ql-bench-alerts-"))
    settings = Settings(instance_path=tmp, database_url=args.database_url
                        or f"sqlite:///{tmp / 'bench.db'}", queue_url="memory://",
                        secret_key="bench", data_key="00" * 32, locale="en",
                        discover_plugins=False).resolved()
    build(settings)
    from core.alerts.models import Alert
    posts, region_id = seed_org(args.posts)
    holders = holders_by_post(posts)
    n = args.alerts
    print(f"alert bus bench: {n} alerts to {len(posts)} posts, "
          f"{settings.database_url.split(':')[0]}")

    t_bare = bare_insert(n, posts, region_id, holders)
    clear()
    with Statements() as q_emit:
        t_emit = emit_all(n, posts, region_id)
    t_drain, drained = drain_checked()
    clear()
    with Statements() as q_many:
        t_many = emit_many_all(n, posts, region_id)
    t_drain_many, _ = drain_checked()
    with Statements() as q_again:
        t_again = emit_many_all(n, posts, region_id)
    assert Alert.select().count() == n

    print(f"bare insert of the same rows:     {t_bare:8.2f} s  {n / t_bare:10.0f} alerts/s")
    print(f"emit():                           {t_emit:8.2f} s  {n / t_emit:10.0f} alerts/s  "
          f"{q_emit.n / n:6.3f} statements/alert")
    print(f"emit_many(), batches of {BATCH}:    {t_many:8.2f} s  {n / t_many:10.0f} alerts/s  "
          f"{q_many.n / n:6.3f} statements/alert")
    print(f"emit_many() again, deduplicated:  {t_again:8.2f} s  {n / t_again:10.0f} alerts/s  "
          f"{q_again.n / n:6.3f} statements/alert")
    print(f"drain through the inbox:          {t_drain:8.2f} s  {drained / t_drain:10.0f} "
          f"notifications/s ({drained} inbox items)")
    print(f"end to end (emit + drain):        {t_emit + t_drain:8.2f} s  "
          f"{n / (t_emit + t_drain):10.0f} alerts/s")
    print(f"end to end (emit_many + drain):   {t_many + t_drain_many:8.2f} s  "
          f"{n / (t_many + t_drain_many):10.0f} alerts/s")
    print(f"ratio emit / bare insert:         {t_emit / t_bare:8.2f}")
    print(f"ratio emit_many / bare insert:    {t_many / t_bare:8.2f}")
    print(f"ratio emit / emit_many:           {t_emit / t_many:8.2f}")


def drain_checked() -> tuple[float, int]:
    """Drain the outbox; every notification must now be sent, once, to an inbox."""
    from core.alerts.models import InboxItem, Notification
    outbox = Notification.select().count()
    t_drain, drained = drain()
    inbox = InboxItem.select().count()
    assert drained == outbox == inbox, (drained, outbox, inbox)
    assert Notification.select().where(Notification.state != "sent").count() == 0
    return t_drain, drained


if __name__ == "__main__":
    main()
