"""The account's own settings as services with audit events: enrolling the second factor
(双因素) and the language; the header's language and region switches parse with forms."""
from __future__ import annotations

import pyotp
import pytest

from core.audit.models import AuditEvent
from core.auth import service
from core.auth.models import User
from core.errors import FieldError


def _events(action: str, user) -> list[AuditEvent]:
    return list(AuditEvent.select().where((AuditEvent.action == action)
                                          & (AuditEvent.object_id == str(user.id))))


def test_enrolling_the_second_factor_keeps_the_secret_only_with_a_right_code(app, org,
                                                                             make_user):
    user = make_user("admin1", role="sys_admin", region=org["city"])
    secret = service.new_totp_secret()
    wrong = str((int(pyotp.TOTP(secret).now()) + 1) % 1_000_000).zfill(6)
    assert service.enrol_totp(user, secret, wrong) is False
    assert User.get_by_id(user.id).totp_secret == "" and _events("user.totp_enrol", user) == []
    assert service.enrol_totp(User.get_by_id(user.id), secret, pyotp.TOTP(secret).now())
    assert User.get_by_id(user.id).totp_secret == secret
    assert len(_events("user.totp_enrol", user)) == 1
    with pytest.raises(service.AuthError):
        service.enrol_totp(User.get_by_id(user.id), service.new_totp_secret(), "123456")
    assert User.get_by_id(user.id).totp_secret == secret


def test_the_language_is_kept_on_the_account_and_audited(app, org, make_user):
    user = make_user("clerk1", role="staff", region=org["a"])
    service.set_locale(user, "en")
    assert User.get_by_id(user.id).locale == "en"
    (event,) = _events("user.locale", user)
    assert event.changes and "en" in event.changes
    service.set_locale(User.get_by_id(user.id), "en")  # no change, no event
    assert len(_events("user.locale", user)) == 1
    with pytest.raises(FieldError) as err:
        service.set_locale(user, "fr")
    assert (err.value.field, err.value.status) == ("locale", 400)
    service.set_locale(None, "zh_CN")  # a visitor: the session only
    assert User.get_by_id(user.id).locale == "en"


def test_the_language_switch_saves_it_for_the_logged_in_user(client, org, make_user, login,
                                                            csrf_token):
    user = make_user("clerk2", role="staff", region=org["a"])
    login(user)
    resp = client.post("/locale", data={"locale": "en", "next": "/dashboard",
                                        "csrf_token": csrf_token("/dashboard")})
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/dashboard")
    assert User.get_by_id(user.id).locale == "en"
    assert client.post("/locale", data={"locale": "", "csrf_token": csrf_token("/dashboard")}
                       ).status_code == 400
