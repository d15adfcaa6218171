"""Account, role and grant administration: services, pages and the CLI."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from core.audit.models import AuditEvent
from core.auth import accounts, grants
from core.auth.models import Grant, Role, User, UserSession
from core.auth.passwords import PasswordPolicyError
from core.auth.roles import declared_permissions
from core.db import utcnow
from core.plugins import host
from tests.conftest import STRONG


def _token(client, path):
    html = client.get(path).get_data(as_text=True)
    m = re.search(r'name="csrf_token" value="([^"]+)"', html) or \
        re.search(r'"X-CSRFToken": "([^"]+)"', html)
    return m.group(1)


def _events(action):
    return list(AuditEvent.select().where(AuditEvent.action == action).order_by(AuditEvent.id))


@pytest.fixture
def sysadmin(org, make_user):
    return make_user("sys_city", role="sys_admin", region=org["city"], totp=True)


@pytest.fixture
def secadmin(org, make_user):
    return make_user("sec_city", role="security_admin", region=org["city"], totp=True)


# -- accounts: services -------------------------------------------------------------
def test_create_account_must_change_password_at_first_login(app, org, sysadmin, client, login):
    user = accounts.create_account(sysadmin, username="newbie", password=STRONG,
                                   name="新同事", region_id=org["a"].id, email="n@x.cn")
    assert user.must_change_password and user.person.region_id == org["a"].id
    assert not list(user.grants)  # no role: granting is the security administrator's job
    ev = _events("user.create")[-1]
    assert ev.object_id == str(user.id) and ev.username == "sys_city"
    assert ev.region_id == org["a"].id
    resp = client.post("/login", data={"username": "newbie", "password": STRONG,
                                       "csrf_token": _token(client, "/login")})
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/password")
    assert client.get("/dashboard").headers["Location"].endswith("/password")


def test_create_account_refuses_bad_input_and_changes_nothing(app, org, sysadmin, make_user):
    county_admin = make_user("sys_b", role="sys_admin", region=org["b"])
    before = User.select().count(), AuditEvent.select().count()
    with pytest.raises(accounts.AuthError, match="scope"):
        accounts.create_account(county_admin, username="x1", password=STRONG, name="某人",
                                region_id=org["a"].id)
    with pytest.raises(PasswordPolicyError):
        accounts.create_account(sysadmin, username="x2", password="short", name="某人",
                                region_id=org["a"].id)
    with pytest.raises(accounts.AuthError, match="taken"):
        accounts.create_account(sysadmin, username="sys_b", password=STRONG, name="某人",
                                region_id=org["a"].id)
    assert (User.select().count(), AuditEvent.select().count()) == before


def test_disable_ends_sessions_and_enable(app, org, sysadmin, make_user):
    clerk = make_user("clerk_a", role="staff", region=org["a"])
    UserSession.create(sid="s1", user=clerk)
    accounts.set_active(sysadmin, clerk, False)
    assert not User.get_by_id(clerk.id).active
    assert UserSession.get(UserSession.sid == "s1").ended_at is not None
    assert _events("user.disable")[-1].object_id == str(clerk.id)
    accounts.set_active(sysadmin, clerk, True)
    assert User.get_by_id(clerk.id).active and _events("user.enable")
    with pytest.raises(accounts.AuthError):
        accounts.set_active(sysadmin, sysadmin, False)


def test_reset_password_forces_change_and_unlock(app, org, sysadmin, make_user):
    clerk = make_user("clerk_a", role="staff", region=org["a"])
    User.update(locked_until=utcnow() + dt.timedelta(minutes=10), failed_logins=3) \
        .where(User.id == clerk.id).execute()
    clerk = accounts.unlock(sysadmin, User.get_by_id(clerk.id))
    assert clerk.locked_until is None and clerk.failed_logins == 0
    assert _events("user.unlock")
    with pytest.raises(PasswordPolicyError):
        accounts.reset_password(sysadmin, clerk, "clerk_a-Pass123")
    clerk = accounts.reset_password(sysadmin, clerk, "Temp#Pass2026x")
    assert clerk.must_change_password
    ev = _events("user.password_reset")[-1]
    assert "Temp#Pass2026x" not in ev.changes and "***" in ev.changes


def test_password_of_another_administrator_cannot_be_reset(app, org, sysadmin, make_user):
    """Whoever resets it could log in as them before they enrol a second factor."""
    auditor = make_user("aud_a", role="audit_admin", region=org["a"])
    with pytest.raises(accounts.AuthError, match="another administrator"):
        accounts.reset_password(sysadmin, auditor, "Temp#Pass2026x")
    other_sys = make_user("sys_a", role="sys_admin", region=org["a"])
    assert accounts.reset_password(sysadmin, other_sys, "Temp#Pass2026x").must_change_password


def test_users_in_scope(app, org, make_user):
    a_admin = make_user("sys_a", role="sys_admin", region=org["a"])
    make_user("clerk_a", role="staff", region=org["a"])
    make_user("clerk_b", role="staff", region=org["b"])
    names = {u.username for u in accounts.users_in_scope(a_admin)}
    assert "clerk_a" in names and "clerk_b" not in names
    assert [u.username for u in accounts.users_in_scope(a_admin, q="CLERK")] == ["clerk_a"]


# -- accounts: pages ----------------------------------------------------------------
def test_account_pages(app, org, sysadmin, client, login, make_user):
    for i in range(27):
        User.create(username=f"bulk{i:02d}", password_hash="x", person=None)
    make_user("clerk_a", role="staff", region=org["a"])
    login(sysadmin)
    html = client.get("/admin/users").get_data(as_text=True)
    assert "bulk00" in html and "Page 1 of 2" in html
    html = client.get("/admin/users?q=clerk_a").get_data(as_text=True)
    assert "clerk_a" in html and "bulk00" not in html
    token = _token(client, "/admin/users/new")
    resp = client.post("/admin/users/new", data={
        "username": "web_new", "name": "王五", "region_id": org["a"].id,
        "password": "weak", "csrf_token": token})
    assert resp.status_code == 422 and "at least 10" in resp.get_data(as_text=True)
    assert not User.select().where(User.username == "web_new").exists()
    resp = client.post("/admin/users/new", data={
        "username": "web_new", "name": "王五", "region_id": org["a"].id, "email": "w@x.cn",
        "password": "Init#Pass2026", "csrf_token": token})
    assert resp.status_code == 303
    user = User.get(User.username == "web_new")
    assert user.must_change_password and user.person.name == "王五"
    detail = client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert "王五" in detail and "Disable now" in detail
    assert client.post(f"/admin/users/{user.id}/disable",
                       data={"csrf_token": token}).status_code == 303
    assert not User.get_by_id(user.id).active
    assert client.post(f"/admin/users/{user.id}/enable",
                       data={"csrf_token": token}).status_code == 303
    assert client.post(f"/admin/users/{user.id}/password",
                       data={"password": "abc", "csrf_token": token}).status_code == 422
    assert client.post(f"/admin/users/{user.id}/password",
                       data={"password": "Reset#Pass2026", "csrf_token": token}
                       ).status_code == 303
    assert client.post(f"/admin/users/{user.id}/unlock",
                       data={"csrf_token": token}).status_code == 303
    assert client.post(f"/admin/users/{sysadmin.id}/disable",
                       data={"csrf_token": token}).status_code == 422
    assert User.get_by_id(sysadmin.id).active
    assert client.get("/admin/users/999999").status_code == 404


def test_disable_from_page_refuses_live_session(app, org, sysadmin, make_user, login):
    clerk = make_user("clerk_a", role="staff", region=org["a"])
    admin_client, clerk_client = app.test_client(), app.test_client()
    login(clerk, c=clerk_client)
    assert clerk_client.get("/dashboard").status_code == 200
    login(sysadmin, c=admin_client)
    token = _token(admin_client, "/admin/users")
    assert admin_client.post(f"/admin/users/{clerk.id}/disable",
                             data={"csrf_token": token}).status_code == 303
    resp = clerk_client.get("/dashboard")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


# -- roles and grants: services -----------------------------------------------------
def test_grant_and_revoke_are_audited(app, org, secadmin, make_user):
    clerk = make_user("clerk_a", region=org["a"])
    staff = Role.get(Role.code == "staff")
    row = grants.grant(secadmin, clerk, staff, org["a"])
    ev = _events("grant.create")[-1]
    assert ev.username == "sec_city" and "staff" in ev.summary and ev.region_id == org["a"].id
    with pytest.raises(grants.GrantError, match="already"):
        grants.grant(secadmin, clerk, staff, org["a"])
    grants.revoke(secadmin, Grant.get_by_id(row.id))
    assert not Grant.select().where(Grant.user == clerk.id).exists()
    assert _events("grant.revoke")[-1].object_id == str(clerk.id)


def test_nobody_grants_themselves(app, org, secadmin):
    staff = Role.get(Role.code == "staff")
    with pytest.raises(grants.GrantError, match="yourself"):
        grants.grant(secadmin, secadmin, staff, org["a"])
    own = Grant.get(Grant.user == secadmin.id)
    with pytest.raises(grants.GrantError, match="yourself"):
        grants.revoke(secadmin, own)


def test_no_account_holds_two_admin_roles(app, org, secadmin, make_user):
    admin = make_user("sys_a", role="sys_admin", region=org["a"])
    for code in ("security_admin", "audit_admin"):
        with pytest.raises(grants.GrantError, match="two administrators"):
            grants.grant(secadmin, admin, Role.get(Role.code == code), org["a"])
    grants.grant(secadmin, admin, Role.get(Role.code == "sys_admin"), org["b"])  # same job


def test_grant_region_within_granter_scope(app, org, make_user):
    county_sec = make_user("sec_a", role="security_admin", region=org["a"])
    clerk = make_user("clerk_a", region=org["a"])
    clerk_b = make_user("clerk_b", region=org["b"])
    staff = Role.get(Role.code == "staff")
    with pytest.raises(grants.GrantError, match="region"):
        grants.grant(county_sec, clerk, staff, org["b"])
    with pytest.raises(grants.GrantError, match="user"):
        grants.grant(county_sec, clerk_b, staff, org["a"])
    grants.grant(county_sec, clerk, staff, org["a"])


def test_custom_roles(app, org, secadmin, make_user):
    known = declared_permissions(host())
    role = grants.create_role(secadmin, "window_clerk", "窗口人员",
                              ["core.dashboard"], known)
    assert grants.role_permissions(role.id) == {"core.dashboard"}
    with pytest.raises(grants.GrantError, match="two administrators"):
        grants.create_role(secadmin, "super", "Super",
                           ["core.users.manage", "core.roles.manage"], known)
    with pytest.raises(grants.GrantError, match="unknown"):
        grants.create_role(secadmin, "bogus", "Bogus", ["no.such.permission"], known)
    with pytest.raises(grants.GrantError, match="exists"):
        grants.create_role(secadmin, "window_clerk", "again", [], known)
    grants.update_role(secadmin, role, "窗口人员", ["core.dashboard", "core.org.read"], known)
    assert grants.role_permissions(role.id) == {"core.dashboard", "core.org.read"}
    ev = _events("role.update")[-1]
    assert ev.object_id == str(role.id) and "core.org.read" in ev.changes
    with pytest.raises(grants.GrantError, match="Built-in"):
        grants.update_role(secadmin, Role.get(Role.code == "staff"), "x", [], known)
    # a holder of the security job cannot get the audit job through a role edit
    sec2 = make_user("sec_b", role="security_admin", region=org["city"])
    grants.grant(secadmin, sec2, role, org["city"])
    with pytest.raises(grants.GrantError, match="sec_b holds this role"):
        grants.update_role(secadmin, role, "窗口人员", ["core.audit.read"], known)
    # nobody edits a role they hold (that would grant themselves more)
    with pytest.raises(grants.GrantError, match="You hold this role"):
        grants.update_role(sec2, role, "窗口人员", ["core.dashboard"], known)


def test_county_security_admin_cannot_edit_roles(app, org, make_user):
    county_sec = make_user("sec_a", role="security_admin", region=org["a"])
    with pytest.raises(grants.GrantError, match="top region"):
        grants.create_role(county_sec, "x_role", "X", [], declared_permissions(host()))


# -- roles and grants: pages --------------------------------------------------------
def test_role_and_grant_pages(app, org, secadmin, make_user, client, login):
    clerk = make_user("clerk_a", region=org["a"])
    login(secadmin)
    html = client.get("/admin/roles").get_data(as_text=True)
    assert "Manage roles and grants" in html and "sys_admin" in html  # labels from hooks
    token = _token(client, "/admin/roles/new")
    resp = client.post("/admin/roles/new", data={"code": "reader", "label": "阅读者",
                                                 "permissions": ["core.org.read"],
                                                 "csrf_token": token})
    assert resp.status_code == 303
    role = Role.get(Role.code == "reader")
    resp = client.post("/admin/roles/new", data={
        "code": "bad", "label": "Bad", "csrf_token": token,
        "permissions": ["core.users.manage", "core.audit.read"]})
    assert resp.status_code == 422 and "two administrators" in resp.get_data(as_text=True)
    resp = client.post(f"/admin/roles/{role.id}", data={
        "code": "reader", "label": "阅读者", "csrf_token": token,
        "permissions": ["core.org.read", "core.dashboard"]})
    assert resp.status_code == 303
    assert grants.role_permissions(role.id) == {"core.org.read", "core.dashboard"}
    assert "clerk_a" in client.get("/admin/grants?q=clerk").get_data(as_text=True)
    resp = client.post(f"/admin/grants/{clerk.id}", data={
        "role_id": role.id, "region_id": org["a"].id, "csrf_token": token})
    assert resp.status_code == 303
    row = Grant.get(Grant.user == clerk.id)
    assert "阅读者" in client.get(f"/admin/grants/{clerk.id}").get_data(as_text=True)
    resp = client.post(f"/admin/grants/{clerk.id}/{row.id}/revoke",
                       data={"csrf_token": token})
    assert resp.status_code == 303 and not Grant.select().where(Grant.user == clerk.id).exists()
    sys_role = Role.get(Role.code == "sys_admin")
    resp = client.post(f"/admin/grants/{secadmin.id}", data={
        "role_id": sys_role.id, "region_id": org["a"].id, "csrf_token": token})
    assert resp.status_code == 422 and "yourself" in resp.get_data(as_text=True)
    sysad = make_user("sys_a", role="sys_admin", region=org["a"])
    audit_role = Role.get(Role.code == "audit_admin")
    resp = client.post(f"/admin/grants/{sysad.id}", data={
        "role_id": audit_role.id, "region_id": org["a"].id, "csrf_token": token})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "two administrators" in body
    assert Grant.select().where(Grant.user == sysad.id).count() == 1


# -- CLI ----------------------------------------------------------------------------
def test_cli_users_create_refusals(app, org, runner):
    before = User.select().count()
    cases = [(["--password", "short", "--role", "staff", "--region", "510104"], "at least 10"),
             (["--password", STRONG, "--role", "nope", "--region", "510104"], "Unknown role"),
             (["--password", STRONG, "--role", "staff", "--region", "999999"],
              "Unknown region")]
    for args, message in cases:
        result = runner.invoke(args=["users", "create", "cli_user", *args])
        assert result.exit_code != 0 and message in result.output, result.output
    assert User.select().count() == before
    result = runner.invoke(args=["users", "create", "cli_user", "--password", STRONG,
                                 "--role", "sys_admin", "--region", "510100",
                                 "--email", "a@b.cn", "--phone", "13800000000"])
    assert result.exit_code == 0, result.output
    user = User.get(User.username == "cli_user")
    assert user.email == "a@b.cn" and Grant.get(Grant.user == user.id).role.code == "sys_admin"


def test_cli_users_disable_and_unlock(app, org, runner, make_user):
    clerk = make_user("clerk_a", role="staff", region=org["a"])
    UserSession.create(sid="live", user=clerk)
    User.update(locked_until=utcnow() + dt.timedelta(minutes=9)).where(
        User.id == clerk.id).execute()
    result = runner.invoke(args=["users", "unlock", "clerk_a"])
    assert result.exit_code == 0 and User.get_by_id(clerk.id).locked_until is None
    result = runner.invoke(args=["users", "disable", "clerk_a"])
    assert result.exit_code == 0 and not User.get_by_id(clerk.id).active
    assert UserSession.get(UserSession.sid == "live").ended_at is not None
    assert _events("user.unlock") and _events("user.disable")
    result = runner.invoke(args=["users", "disable", "ghost"])
    assert result.exit_code != 0 and "unknown user" in result.output


# -- the separation of the three administrators (三员分立) when disabling --------------
def test_system_administrator_cannot_disable_the_other_administrators(
        app, org, sysadmin, secadmin, make_user, client, login):
    auditor = make_user("aud_city", role="audit_admin", region=org["city"], totp=True)
    for target in (secadmin, auditor):
        with pytest.raises(accounts.AuthError, match="security administrator"):
            accounts.set_active(sysadmin, target, False)
        assert User.get_by_id(target.id).active
    other_sys = make_user("sys_b", role="sys_admin", region=org["b"], totp=True)
    with pytest.raises(accounts.AuthError):
        accounts.set_active(sysadmin, other_sys, False)  # a peer of the same job
    login(sysadmin)
    page = client.get(f"/admin/users/{secadmin.id}").get_data(as_text=True)
    assert "Disable now" not in page and "only the security administrator" in page
    resp = client.post(f"/admin/users/{secadmin.id}/disable",
                       data={"csrf_token": _token(client, "/dashboard")})
    assert resp.status_code == 422 and User.get_by_id(secadmin.id).active
    clerk = make_user("clerk_a", role="staff", region=org["a"])
    accounts.set_active(sysadmin, clerk, False)  # ordinary accounts stay his job
    assert not User.get_by_id(clerk.id).active


def test_security_administrator_disables_administrators_but_not_a_peer(
        app, org, sysadmin, secadmin, make_user, client, login):
    auditor = make_user("aud_city", role="audit_admin", region=org["city"], totp=True)
    other_sec = make_user("sec_b", role="security_admin", region=org["b"], totp=True)
    with pytest.raises(accounts.AuthError, match="your own administrator job"):
        accounts.set_active(secadmin, other_sec, False)
    login(secadmin)
    token = _token(client, f"/admin/grants/{sysadmin.id}")
    assert "Disable now" in client.get(f"/admin/grants/{sysadmin.id}").get_data(as_text=True)
    resp = client.post(f"/admin/grants/{sysadmin.id}/active",
                       data={"csrf_token": token, "state": "off"})
    assert resp.status_code == 303 and not User.get_by_id(sysadmin.id).active
    assert _events("user.disable")[-1].username == "sec_city"
    resp = client.post(f"/admin/grants/{other_sec.id}/active",
                       data={"csrf_token": token, "state": "off"})
    assert resp.status_code == 422 and User.get_by_id(other_sec.id).active
    resp = client.post(f"/admin/grants/{auditor.id}/active",
                       data={"csrf_token": token, "state": "sideways"})
    assert resp.status_code == 422 and User.get_by_id(auditor.id).active
    resp = client.post(f"/admin/grants/{sysadmin.id}/active",
                       data={"csrf_token": token, "state": "on"})
    assert resp.status_code == 303 and User.get_by_id(sysadmin.id).active
