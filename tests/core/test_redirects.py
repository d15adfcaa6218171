"""The one redirect-target check, on a table of hostile values and on the routes that
redirect to a user-supplied place (login, language, region)."""
from __future__ import annotations

import pytest

from core.web.redirects import safe_redirect_target

HOSTILE = [
    "//evil.invalid/phish", "/\t/evil.invalid/phish", "/%09/evil.invalid", "\t//evil.invalid",
    "/\n/evil.invalid", "/\r\n/evil.invalid", "/\\evil.invalid", "\\\\evil.invalid",
    "/\\/evil.invalid", "https://evil.invalid/", "http:evil.invalid", "javascript:alert(1)",
    "//evil.invalid@localhost/", " /dashboard", "/dash\x00board", "/\x7f", "evil.invalid",
    "/dash\u2028board", "/ｅvil", "", None, 42, "/" + "a" * 3000,
]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_targets_fall_back(value):
    expected = "/" if value != "/%09/evil.invalid" else "/%09/evil.invalid"
    assert safe_redirect_target(value) == expected


@pytest.mark.parametrize("value", ["/dashboard", "/org/people?q=%E6%9D%8E&page=2",
                                   "/esupervision/", "/a#frag"])
def test_site_paths_pass(value):
    assert safe_redirect_target(value, "/home") == value


def test_own_absolute_url_becomes_its_path(app):
    with app.test_request_context("/", base_url="http://ql.example/"):
        assert safe_redirect_target("http://ql.example/org/people") == "/org/people"
        assert safe_redirect_target("http://ql.example.evil.invalid/x") == "/"


def off_site(location: str) -> bool:
    """Where a browser would go: tabs and line breaks dropped, backslashes as slashes."""
    from urllib.parse import urlsplit
    seen = location.replace("\t", "").replace("\n", "").replace("\r", "").replace("\\", "/")
    return seen.startswith("//") or urlsplit(seen).netloc not in ("", "localhost")


@pytest.mark.parametrize("raw_query", ["next=/%09/evil.invalid/phish", "next=//evil.invalid",
                                       "next=/%0A/evil.invalid", "next=/%5Cevil.invalid",
                                       "next=%2F%2Fevil.invalid", "next=/%0D%0A/evil"])
def test_login_never_redirects_off_site(app, org, make_user, client, csrf_token, raw_query):
    make_user("clerk_a", role="staff", region=org["a"])
    from tests.conftest import STRONG
    resp = client.post("/login?" + raw_query,
                       data={"username": "clerk_a", "password": STRONG,
                             "csrf_token": csrf_token()})
    assert resp.status_code == 303
    assert not off_site(resp.headers["Location"]), resp.headers["Location"]


@pytest.mark.parametrize("nxt", ["/\t/evil.invalid/phish", "//evil.invalid", "/\n/x",
                                 "/x\r\nSet-Cookie: a=b", "/\\evil.invalid"])
def test_language_switch_never_redirects_off_site(client, csrf_token, nxt):
    resp = client.post("/locale", data={"locale": "en", "next": nxt,
                                        "csrf_token": csrf_token()})
    assert resp.status_code == 303
    assert not off_site(resp.headers["Location"]) and "Set-Cookie: a" not in str(resp.headers)
