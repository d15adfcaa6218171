"""Login flow basics (the security matrix lives in test_security.py)."""
from tests.conftest import STRONG


def test_login_and_dashboard(client, org, make_user, login):
    user = make_user("clerk1", role="staff", region=org["a"])
    login(user)
    html = client.get("/dashboard").get_data(as_text=True)
    assert "Dashboard" in html and "clerk1" in html


def test_wrong_password_is_422_and_generic(client, org, make_user, csrf_token):
    make_user("clerk2", role="staff", region=org["a"])
    resp = client.post("/login", data={"username": "clerk2", "password": "nope",
                                       "csrf_token": csrf_token()})
    assert resp.status_code == 422
    assert "Wrong user name or password." in resp.get_data(as_text=True)
    resp = client.post("/login", data={"username": "ghost", "password": "nope",
                                       "csrf_token": csrf_token()})
    assert "Wrong user name or password." in resp.get_data(as_text=True)


def test_admin_must_use_second_factor(client, org, make_user, login):
    admin = make_user("sys1", role="sys_admin", region=org["city"])
    resp = login(admin)  # enrols TOTP on the way
    from core.auth.models import User
    assert User.get_by_id(admin.id).totp_secret
    assert client.get("/admin/plugins").status_code == 200
