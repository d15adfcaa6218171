"""regions_in_scope: the one helper for "the regions in my scope" (辖区), behind every
region picker and per-region page."""
from __future__ import annotations

from core.api import regions_in_scope


def test_the_regions_a_grant_covers_in_the_organisations_order(app, org, make_user):
    city_user = make_user("cityadmin", role="staff", region=org["city"])
    county_user = make_user("countyclerk", role="staff", region=org["b"])
    assert [r.code for r in regions_in_scope(city_user)] == ["510100", "510104", "510105"]
    assert [r.code for r in regions_in_scope(county_user)] == ["510105"]
    assert regions_in_scope(county_user, "core.settings.manage") == []  # not staff's
    assert regions_in_scope(None) == []


def test_the_region_picker_lists_them(client, org, make_user, login):
    login(make_user("cityclerk", role="staff", region=org["city"]))
    html = client.get("/dashboard").get_data(as_text=True)
    picker = html[html.index('id="region-select"'):html.index("</select>")]
    assert picker.index("成都市") < picker.index("锦江区") < picker.index("青羊区")
