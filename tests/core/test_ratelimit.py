"""The core rate limiter (counters in the database) and the client address behind
trusted proxies (QL_TRUSTED_PROXIES, Werkzeug's ProxyFix)."""
from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from core import ratelimit
from core.db import db, utcnow
from tests.conftest import running_app


def test_hits_are_counted_per_bucket_key_and_window(app):
    with db.atomic():
        assert ratelimit.hit("t", "a", 60) == 1
        assert ratelimit.hit("t", "a", 60) == 2
        assert ratelimit.hit("t", "b", 60) == 1
        assert ratelimit.hit("u", "a", 60) == 1
        assert ratelimit.hit_many("t", ["a", "c", "a"], 60) == {"a": 3, "c": 1}
    assert ratelimit.hits("t", "a", 60) == 3 and ratelimit.hits("t", "zz", 60) == 0


def test_rate_limit_raises_after_the_limit_and_counts_refusals(app):
    for _ in range(3):
        ratelimit.rate_limit("login", "1.2.3.4", 3, 60)
    with pytest.raises(ratelimit.RateLimited) as info:
        ratelimit.rate_limit("login", "1.2.3.4", 3, 60)
    assert 1 <= info.value.retry_after <= 61
    assert ratelimit.hits("login", "1.2.3.4", 60) == 4


def test_windows_are_fixed_and_old_ones_purged(app):
    start = ratelimit.window_start(60, dt.datetime(2026, 3, 2, 9, 30, 42))
    assert start == dt.datetime(2026, 3, 2, 9, 30)
    assert ratelimit.window_start(3600, dt.datetime(2026, 3, 2, 9, 30)) == \
        dt.datetime(2026, 3, 2, 9, 0)
    ratelimit.hit("t", "a", 60)
    ratelimit.RateCounter.create(bucket="t", key="old", count=5,
                                 window=utcnow() - dt.timedelta(days=2))
    assert ratelimit.purge() == 1
    assert ratelimit.hits("t", "a", 60) == 1


def test_a_refused_request_answers_429_with_retry_after(app):
    from flask import jsonify

    @app.route("/_limited")
    def limited():
        ratelimit.rate_limit("probe", ratelimit.client_address(), 1, 60)
        return jsonify(ok=True)

    c = app.test_client()
    assert c.get("/_limited").status_code == 200
    resp = c.get("/_limited")
    assert resp.status_code == 429 and int(resp.headers["Retry-After"]) >= 1


def _address_route(application):
    @application.route("/_whoami")
    def whoami():
        return ratelimit.client_address()
    return application.test_client()


def test_client_address_behind_a_trusted_proxy(settings):
    with running_app(replace(settings, trusted_proxies=1)) as application:
        c = _address_route(application)
        got = c.get("/_whoami", headers={"X-Forwarded-For": "203.0.113.9, 198.51.100.7"},
                    environ_base={"REMOTE_ADDR": "10.0.0.2"}).get_data(as_text=True)
        assert got == "198.51.100.7"  # the hop the trusted proxy saw, not a forged one


def test_without_trusted_proxies_the_header_is_ignored(app):
    c = _address_route(app)
    got = c.get("/_whoami", headers={"X-Forwarded-For": "203.0.113.9"},
                environ_base={"REMOTE_ADDR": "10.0.0.2"}).get_data(as_text=True)
    assert got == "10.0.0.2"


def test_trusted_proxies_setting_is_checked():
    from core.settings import Settings, SettingsError
    assert Settings.from_env({"QL_TRUSTED_PROXIES": "2"}).trusted_proxies == 2
    for bad in ("-1", "9", "many"):
        with pytest.raises(SettingsError):
            Settings.from_env({"QL_TRUSTED_PROXIES": bad})
