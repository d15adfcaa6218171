"""Public pages a shared cache keeps (Cache-Control: public) carry no session cookie and
no per-session CSRF token (issue 11): a proxy must never hand one visitor's token to the
next. Their language switch fetches the visitor's token when it is submitted."""
from __future__ import annotations

import re

from core.plugins import host

TOKEN = re.compile(r'name="csrf_token" value="[^"]+"|"X-CSRFToken": "[^"]+"')


def _public_rules(app):
    return [r for r in app.url_map.iter_rules()
            if "GET" in r.methods and not r.arguments
            and (r.rule.startswith("/public/") or r.endpoint.startswith("public"))]


def test_every_public_cacheable_page_sets_no_cookie_and_carries_no_token(app, org):
    """Walk the public pages of the url map: each answer marked public is free of
    cookies and tokens — for a new visitor and for one who already has a session."""
    cached = []
    newcomer = app.test_client()
    returning = app.test_client()
    returning.get("/login")  # a session of its own (the login form's token)
    assert returning.get_cookie("ql_session") is not None
    for rule in _public_rules(app):
        for client in (newcomer, returning):
            resp = client.get(rule.rule)
            if "public" not in resp.headers.get("Cache-Control", ""):
                continue
            cached.append(rule.rule)
            assert resp.headers.getlist("Set-Cookie") == [], rule.rule
            body = resp.get_data(as_text=True)
            assert not TOKEN.search(body), rule.rule
            assert "data-csrf-fetch" in body, rule.rule  # the language switch still works
    if host().records.get("eservice") and host().records["eservice"].enabled:
        assert {"/public/services/", "/public/services/stats"} <= set(cached)
    # an htmx search of the catalogue is cached the same way
    resp = newcomer.get("/public/services/?q=x", headers={"HX-Request": "true",
                                                         "HX-Target": "results"})
    assert resp.headers.getlist("Set-Cookie") == []


def test_language_switch_of_a_cached_page_fetches_its_token(app, org):
    client = app.test_client()
    page = client.get("/public/services/")
    assert "public" in page.headers["Cache-Control"]
    action = re.search(r'data-csrf-fetch="([^"]+)"', page.get_data(as_text=True)).group(1)
    token = client.get(action)
    assert token.headers["Cache-Control"] == "no-store"
    resp = client.post("/locale", data={"locale": "en", "next": "/public/services/",
                                        "csrf_token": token.get_json()["token"]})
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/public/services/")
    refused = app.test_client().post("/locale", data={"locale": "en"})  # no token: no switch
    assert refused.status_code == 400


def test_logged_in_users_and_pending_messages_get_no_store(app, org, make_user, login):
    client = app.test_client()
    login(make_user("clerk_a", role="staff", region=org["a"]), c=client)
    resp = client.get("/public/services/")
    assert resp.headers["Cache-Control"] == "no-store"
    assert TOKEN.search(resp.get_data(as_text=True))  # an ordinary page, with its token
    visitor = app.test_client()
    with visitor.session_transaction() as s:
        s["_flashes"] = [("info", "你好")]
    resp = visitor.get("/public/services/")
    assert resp.headers["Cache-Control"] == "no-store" and "你好" in resp.get_data(as_text=True)
