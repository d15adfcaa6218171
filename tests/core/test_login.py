"""Login flow basics (the security matrix lives in test_security.py)."""


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
    login(admin)  # enrols TOTP on the way
    from core.auth.models import User
    assert User.get_by_id(admin.id).totp_secret
    assert client.get("/admin/plugins").status_code == 200


def test_acting_region_switch(client, org, make_user, login, csrf_token):
    user = make_user("cityclerk", role="staff", region=org["city"])
    login(user)
    html = client.get("/dashboard").get_data(as_text=True)
    assert 'name="region_id"' in html and org["a"].name in html
    token = csrf_token("/dashboard")
    resp = client.post("/region", data={"region_id": org["a"].id, "next": "/dashboard",
                                        "csrf_token": token})
    assert resp.status_code == 303
    html = client.get("/dashboard").get_data(as_text=True)
    assert f'value="{org["a"].id}" selected' in html
    # a region outside the grants is not found
    from core.org.models import Region
    other = Region.create(code="520100", name="贵阳市", level="city")
    assert client.post("/region", data={"region_id": other.id, "csrf_token": token}
                       ).status_code == 404
    assert client.post("/region", data={"region_id": "x", "csrf_token": token}
                       ).status_code == 400
