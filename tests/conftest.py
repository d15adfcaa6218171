"""Test fixtures: a fresh app and database per test, built from the migrations.

SQLite by default. Set QL_DATABASE_URL=postgresql://… to run the suite on PostgreSQL
(each test gets its own database cloned from a migrated template) and
QL_QUEUE_URL=redis://… for the tests that run a real worker against Redis.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import peewee as pw
import pytest

from core.settings import Settings

BASE_DB_URL = os.environ.get("QL_DATABASE_URL", "")
BASE_QUEUE_URL = os.environ.get("QL_QUEUE_URL", "")
ON_POSTGRES = BASE_DB_URL.startswith(("postgres://", "postgresql://"))
ON_REDIS = BASE_QUEUE_URL.startswith("redis://")
TEST_SECRET = "test-secret-key-0123456789abcdef"
TEST_DATA_KEY = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"


def worker_id() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "gw0")


def pg_url(name: str) -> str:
    parsed = urlparse(BASE_DB_URL)
    return urlunparse(parsed._replace(path="/" + name))


def pg_admin():
    parsed = urlparse(BASE_DB_URL)
    return pw.PostgresqlDatabase("postgres", user=parsed.username, password=parsed.password,
                                 host=parsed.hostname, port=parsed.port)


def redis_url() -> str:
    """A Redis database of its own for each xdist worker."""
    parsed = urlparse(BASE_QUEUE_URL)
    n = 1 + int(worker_id().removeprefix("gw") or 0) % 15
    return urlunparse(parsed._replace(path=f"/{n}"))


def local_redis_url() -> str:
    """QL_QUEUE_URL when it is Redis, else the local Redis; one database per xdist worker
    (for the tests that need Redis whichever queue the suite runs on)."""
    base = BASE_QUEUE_URL if ON_REDIS else "redis://127.0.0.1:6379/0"
    n = 1 + int(worker_id().removeprefix("gw") or 0) % 15
    return urlunparse(urlparse(base)._replace(path=f"/{n}"))


@pytest.fixture
def redis_client():
    """A client of this worker's Redis database, flushed before and after (skips the test
    when Redis is not reachable)."""
    import redis
    client = redis.Redis.from_url(local_redis_url())
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip("Redis is not reachable at " + local_redis_url())
    client.flushdb()
    yield client
    client.flushdb()


def make_settings(tmp: Path, **overrides) -> Settings:
    base = {"instance_path": tmp, "database_url": f"sqlite:///{tmp / 'ql.db'}",
                "queue_url": f"sqlite:///{tmp / 'queue.db'}", "secret_key": TEST_SECRET,
                "data_key": TEST_DATA_KEY, "locale": "en"}
    base.update(overrides)
    return Settings(**base).resolved()


def build_schema(settings: Settings) -> None:
    """Run `db upgrade` in-process for these settings."""
    from core import calendar, migrate
    from core.app import create_app
    from core.auth.roles import sync_builtin_roles
    from core.db import db, release_all
    from core.plugins import host
    app = create_app(settings)
    with app.app_context(), db.connection_context():
        migrate.upgrade(host())
        calendar.ensure()
        sync_builtin_roles(host())
    release_all()  # pooled connections closed: the file is complete, the template free


@pytest.fixture(scope="session")
def template_db(tmp_path_factory):
    """A migrated database (every installed plugin) to clone for each test."""
    tmp = tmp_path_factory.mktemp("template")
    if ON_POSTGRES:
        name = f"ql_tpl_{worker_id()}_{uuid.uuid4().hex[:6]}"
        admin = pg_admin()
        admin.execute_sql(f'CREATE DATABASE "{name}"')
        build_schema(make_settings(tmp, database_url=pg_url(name)))
        yield name
        admin.execute_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
    else:
        build_schema(make_settings(tmp))
        yield tmp / "ql.db"


@pytest.fixture
def fresh_db_url(template_db, tmp_path):
    """A database URL of this test's own, cloned from the template."""
    if ON_POSTGRES:
        name = f"ql_t_{uuid.uuid4().hex[:10]}"
        admin = pg_admin()
        admin.execute_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template_db}"')
        yield pg_url(name)
        from core.db import release_all
        release_all()
        admin.execute_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
    else:
        target = tmp_path / "ql.db"
        shutil.copy(template_db, target)
        yield f"sqlite:///{target}"


@pytest.fixture
def settings(tmp_path, fresh_db_url):
    return make_settings(tmp_path, database_url=fresh_db_url)


@contextlib.contextmanager
def running_app(settings, **create_kwargs):
    """An app built from ``settings`` (and ``create_app`` keyword arguments), its app
    context pushed, a connection open and jobs run inline; all undone on exit."""
    from core.app import create_app
    from core.db import db, release_all
    from core.queue import huey
    application = create_app(settings, **create_kwargs)
    application.config.update(TESTING=True)
    huey.immediate = True
    ctx = application.app_context()
    ctx.push()
    db.connect(reuse_if_open=True)
    try:
        yield application
    finally:
        release_all()
        ctx.pop()
        huey.immediate = False


@pytest.fixture
def app(settings):
    """The app on this test's database, with every installed plugin, jobs run inline."""
    with running_app(settings) as application:
        yield application


@pytest.fixture
def csrf_app(app):
    """The same app; CSRF stays on (it is on by default): named for readability."""
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def city(app):
    from core.org.models import Region
    return Region.create(code="510100", name="成都市", level="city")


@pytest.fixture
def org(app):
    """A small organisation: the city, two counties, a department each, posts, people."""
    import datetime as dt

    from core.org.models import Department, Person, Post, PostHolding, Region
    city = Region.create(code="510100", name="成都市", level="city")
    a = Region.create(code="510104", name="锦江区", level="district", parent=city, sort=1)
    b = Region.create(code="510105", name="青羊区", level="district", parent=city, sort=2)
    out = {"city": city, "a": a, "b": b}
    for key, region in (("city", city), ("a", a), ("b", b)):
        dept = Department.create(region=region, code="ZF", name=f"{region.name}政务服务局")
        sup = Department.create(region=region, code="JW", name=f"{region.name}纪委监委",
                                is_supervision_office=True)
        head = Post.create(department=dept, title="局长", is_head=True, risk_level=3)
        clerk = Post.create(department=dept, title="窗口受理员", risk_level=2)
        sup_head = Post.create(department=sup, title="主任", is_head=True)
        for post, name in ((head, "局长" + key), (clerk, "受理员" + key), (sup_head, "主任" + key)):
            person = Person.create(name=name, region=region)
            PostHolding.create(person=person, post=post, start=dt.date(2024, 1, 1))
        out[f"dept_{key}"] = dept
        out[f"head_{key}"] = head
        out[f"clerk_{key}"] = clerk
        out[f"sup_{key}"] = sup
    return out


STRONG = "Strong#Pass2026"


@pytest.fixture
def make_user(app):
    """make_user(name, role, region, totp=False) -> User (password STRONG)."""
    from core.auth.service import create_user

    def make(name, role=None, region=None, totp=False, **kw):
        user = create_user(name, STRONG, role=role,
                           region_code=region.code if region is not None else None,
                           must_change=False, **kw)
        if totp:
            import pyotp

            from core.auth.models import User
            User.update(totp_secret=pyotp.random_base32()).where(User.id == user.id).execute()
            user = User.get_by_id(user.id)
        return user
    return make


def _csrf(client, path="/login"):
    import re
    html = client.get(path).get_data(as_text=True)
    m = re.search(r'name="csrf_token" value="([^"]+)"', html) or \
        re.search(r'"X-CSRFToken": "([^"]+)"', html)
    return m.group(1) if m else ""


@pytest.fixture
def login(client):
    """login(user, password=STRONG) logs the test client in (with TOTP when needed)."""
    def do(user, password=STRONG, c=None):
        import pyotp

        from core.auth.models import User
        c = c or client
        token = _csrf(c)
        resp = c.post("/login", data={"username": user.username, "password": password,
                                      "csrf_token": token})
        if resp.status_code == 303 and resp.headers["Location"].endswith("/login/totp"):
            fresh = User.get_by_id(user.id)
            token = _csrf(c, "/login/totp")
            import time
            step = int(time.time()) // 30
            if fresh.totp_last_step >= step:  # a code is single-use: wait for the next
                time.sleep(30 - time.time() % 30 + 0.1)
            with c.session_transaction() as s:
                secret = s.get("enrol_secret") or fresh.totp_secret
            resp = c.post("/login/totp", data={"code": pyotp.TOTP(secret).now(),
                                               "csrf_token": token})
        assert resp.status_code == 303, resp.get_data(as_text=True)[:500]
        return resp
    return do


@pytest.fixture
def csrf_token(client):
    def get(path="/login"):
        return _csrf(client, path)
    return get


pytest_plugins = ["tests.browser"]
