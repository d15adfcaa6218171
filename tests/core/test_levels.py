"""Level checks: a grant covers its region and those below; a county grant never changes
what holds for the whole city (covers, require_level, require_city_wide)."""
from __future__ import annotations

import pytest

from core.auth.scope import (
    covers,
    covers_city,
    require,
    require_city_wide,
    require_level,
)
from core.errors import AccessDenied


@pytest.fixture
def people(app, org, make_user):
    return {"city": make_user("city_sup", role="supervisor", region=org["city"]),
            "a": make_user("a_sup", role="supervisor", region=org["a"])}


def _perm(user) -> str:
    from core.auth.scope import permissions
    return min(permissions(user))


def test_covers_its_region_and_below_only(app, org, people):
    perm = _perm(people["a"])
    assert covers(people["a"], perm, org["a"]) and covers(people["a"], perm, org["a"].id)
    assert not covers(people["a"], perm, org["city"])
    assert not covers(people["a"], perm, org["b"])
    assert covers(people["city"], perm, org["b"])
    assert not covers(people["a"], "no.such.permission", org["a"])


def test_require_level_and_city_wide_raise_403(app, org, people):
    perm = _perm(people["a"])
    require_level(people["a"], perm, org["a"])
    with pytest.raises(AccessDenied):
        require_level(people["a"], perm, org["b"])
    with pytest.raises(AccessDenied):
        require_city_wide(people["a"], perm)
    require_city_wide(people["city"], perm)
    assert covers_city(people["city"], perm) and not covers_city(people["a"], perm)


def test_a_second_city_needs_its_own_grant(app, org, people):
    from core.org.models import Region
    perm = _perm(people["city"])
    Region.create(code="510200", name="另一市", level="city")
    from flask import g
    g.pop("_ql_tree", None)
    assert not covers_city(people["city"], perm)


def test_a_city_wide_view_answers_403_to_a_county_grant(app, org, people, login, client):
    perm = _perm(people["a"])

    @app.route("/_city_setting", methods=["POST"])
    @require(perm, city_wide=True)
    def city_setting():
        return "changed"

    from core.app import csrf
    csrf.exempt(city_setting)
    assert app.view_functions["city_setting"].ql_city_wide is True
    login(people["a"])
    resp = client.post("/_city_setting")
    assert resp.status_code == 403 and "whole city" in resp.get_data(as_text=True)
    client.post("/logout", data={"csrf_token": ""})
    other = app.test_client()
    login(people["city"], c=other)
    assert other.post("/_city_setting").get_data(as_text=True) == "changed"


def test_core_settings_services_check_the_level(app, org, make_user):
    import datetime as dt

    from core.models import CalendarOverride, PluginSwitch
    from core.web import admin
    county = make_user("sys_b", role="sys_admin", region=org["b"], totp=True)
    city = make_user("sys_city", role="sys_admin", region=org["city"], totp=True)
    with pytest.raises(AccessDenied):
        admin.override_calendar_day(county, dt.date(2026, 5, 6), "restday", "")
    assert not CalendarOverride.select().exists()
    admin.override_calendar_day(city, dt.date(2026, 5, 6), "restday", "")
    assert CalendarOverride.get().workday is False
    with pytest.raises(AccessDenied):
        admin.switch_plugin(county, "eservice", org["a"], False)
    with pytest.raises(AccessDenied):
        admin.switch_plugin(county, "eservice", org["city"], False)
    admin.switch_plugin(county, "eservice", org["b"], False)
    assert [(s.plugin, s.region_id) for s in PluginSwitch.select()] == [("eservice",
                                                                         org["b"].id)]
