"""The shell: health, headers, error pages, locale, login page."""


def test_healthz_reports_database_and_queue(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.json == {"status": "ok", "database": "ok", "queue": "ok", "jobs": "none"}


def test_security_headers(client):
    resp = client.get("/login")
    csp = resp.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "unsafe-eval" not in csp and "unsafe-inline" not in csp
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


def test_pages_load_nothing_from_outside(client):
    import re
    html = client.get("/login").get_data(as_text=True) + client.get("/public/").get_data(
        as_text=True)
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert "<script>" not in html  # no inline script
    assert '"allowEval": false' in html and '"historyCacheSize": 0' in html
    assert '"selfRequestsOnly": true' in html


def test_unknown_page_is_404_page(client):
    resp = client.get("/no/such/page")
    assert resp.status_code == 404
    assert "Not found" in resp.get_data(as_text=True)


def test_chinese_by_default(app, settings):
    from dataclasses import replace

    from core.app import create_app
    zh = create_app(replace(settings, locale="zh_CN"))
    html = zh.test_client().get("/login").get_data(as_text=True)
    assert 'lang="zh-CN"' in html
    assert "登录" in html


def test_language_switch_per_session(client, csrf_token):
    token = csrf_token("/login")
    resp = client.post("/locale", data={"locale": "zh_CN", "next": "/login",
                                        "csrf_token": token})
    assert resp.status_code == 303
    assert "登录" in client.get("/login").get_data(as_text=True)


def test_unknown_language_is_400(client, csrf_token):
    token = csrf_token("/login")
    assert client.post("/locale", data={"locale": "fr", "csrf_token": token}).status_code == 400


def test_dashboard_requires_login(client):
    resp = client.get("/dashboard")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    hx = client.get("/dashboard", headers={"HX-Request": "true"})
    assert hx.status_code == 401 and "/login" in hx.headers["HX-Redirect"]


def test_public_portal_needs_no_login(client):
    assert client.get("/public/").status_code == 200
