"""Accounts of a kind other than staff (core.auth.kinds): same login, lockout and second
factor; only their own views, the public pages and their account pages; no staff page."""
from __future__ import annotations

import pytest
from flask import Blueprint

from core import hookimpl
from core.api import AuthError, create_external_account, for_accounts
from tests.conftest import STRONG, running_app

outside = Blueprint("outside", __name__, url_prefix="/outside")


@outside.route("/")
@for_accounts("partner")
def home():
    return "partner home"


class PartnerKind:
    """A throw-away core part declaring the ``partner`` kind and its page."""

    __name__ = "partner_kind"

    @staticmethod
    @hookimpl
    def ql_account_kinds():
        return [{"code": "partner", "label": "Partner", "home": "outside.home"}]

    @staticmethod
    @hookimpl
    def ql_blueprints():
        return [outside]


@pytest.fixture
def kind_app(settings):
    with running_app(settings, extra_core=[PartnerKind]) as application:
        yield application


@pytest.fixture
def kclient(kind_app):
    return kind_app.test_client()


def _login(client, username, password=STRONG):
    import re
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": token})


def test_partner_lands_on_its_home_and_never_sees_staff_pages(kind_app, kclient):
    from core.org.models import Region
    Region.create(code="510100", name="成都市", level="city")
    create_external_account("acme", STRONG, kind="partner", email="a@example.org")
    resp = _login(kclient, "acme")
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/outside/")
    assert kclient.get("/outside/").get_data(as_text=True) == "partner home"
    for url in ("/dashboard", "/alerts/", "/org/", "/admin/users", "/audit/"):
        assert kclient.get(url).status_code == 403, url
    assert kclient.get("/", follow_redirects=False).headers["Location"].endswith("/outside/")
    assert kclient.get("/public/").status_code == 200
    assert kclient.get("/password").status_code == 200
    html = kclient.get("/password").get_data(as_text=True)
    assert 'class="sidebar"' not in html or "/dashboard" not in html


def test_staff_cannot_open_partner_pages(kind_app, kclient, org, make_user):
    user = make_user("clerk", role="staff", region=org["a"])
    assert _login(kclient, user.username).status_code == 303
    assert kclient.get("/outside/").status_code == 403
    assert kclient.get("/dashboard").status_code == 200


def test_anonymous_is_sent_to_login(kind_app, kclient):
    resp = kclient.get("/outside/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_partner_lockout_counts_like_staff(kind_app, kclient):
    from core.auth.models import User
    create_external_account("acme2", STRONG, kind="partner")
    settings = kind_app.config["QL_SETTINGS"]
    for _ in range(settings.login_max_failures):
        assert _login(kclient, "acme2", "wrong-password").status_code == 422
    assert User.get(User.username == "acme2").failed_logins == settings.login_max_failures
    assert _login(kclient, "acme2").status_code == 422  # refused from this address


def test_refusals(kind_app):
    from core.auth.grants import GrantError, grant
    from core.auth.models import Role, User
    from core.auth.service import create_user
    from core.org.models import Region
    city = Region.create(code="510100", name="成都市", level="city")
    org = {"city": city, "a": Region.create(code="510104", name="锦江区", parent=city)}
    with pytest.raises(AuthError):
        create_external_account("x1", STRONG, kind="nonsense")
    with pytest.raises(AuthError):
        create_external_account("x2", STRONG, kind="staff")
    with pytest.raises(AuthError):
        create_user("x3", STRONG, kind="partner", role="staff", region_code=org["a"].code)
    partner = create_external_account("x4", STRONG, kind="partner")
    assert User.get_by_id(partner.id).kind == "partner"
    admin = create_user("secadm", STRONG, role="security_admin", region_code=org["city"].code)
    with pytest.raises(GrantError):
        grant(admin, partner, Role.get(Role.code == "staff"), org["a"])


def test_unknown_kind_without_its_plugin_is_refused(app):
    with pytest.raises(AuthError):
        create_external_account("y1", STRONG, kind="partner")
