"""Demo seed of the core: a believable deployment, idempotent. (Each plugin tests its own
demo data; here the plugins are disabled so the core's part is measured alone.)"""
from dataclasses import replace

import pytest

from core.auth.models import Grant, User
from core.org.models import Department, Person, Region


@pytest.fixture
def settings(settings):
    return replace(settings, plugins=())


def counts():
    return (Region.select().count(), Department.select().count(), Person.select().count(),
            User.select().count(), Grant.select().count())


def test_demo_seed_is_idempotent_and_complete(app, runner):
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    first = counts()
    assert first[0] == 21  # the city and its 20 districts and counties
    city = Region.get(Region.code == "510100")
    assert Department.select().where(Department.region == city).count() == 49
    assert Department.select().where(Department.is_supervision_office == True).count() == 21
    for name in ("sysadmin", "secadmin", "auditadmin", "supervisor", "staff"):
        user = User.get(User.username == name)
        assert user.is_demo and not user.must_change_password
    assert User.get(User.username == "sysadmin").totp_secret
    again = runner.invoke(args=["demo", "seed"])
    assert again.exit_code == 0, again.output
    assert counts() == first


def test_demo_banner_only_when_demo_accounts_exist(app, client, runner):
    assert "Demo deployment" not in client.get("/login").get_data(as_text=True)
    runner.invoke(args=["demo", "seed"])
    assert "Demo deployment" in client.get("/login").get_data(as_text=True)


def test_demo_totp_prints_a_code_for_demo_accounts_only(app, runner, make_user, org):
    runner.invoke(args=["demo", "seed"])
    out = runner.invoke(args=["demo", "totp", "sysadmin"])
    assert out.exit_code == 0 and out.output.strip().isdigit()
    make_user("realone", role="staff", region=Region.get(Region.code == "510104"))
    bad = runner.invoke(args=["demo", "totp", "realone"])
    assert bad.exit_code != 0 and "not a demo account" in bad.output


def test_bad_size_is_refused(runner):
    result = runner.invoke(args=["demo", "seed", "--size", "huge"])
    assert result.exit_code != 0 and "huge" in result.output
