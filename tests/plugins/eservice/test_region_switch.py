"""A service hall switched off for a region is off for that region's public pages too
(issue 15 defect 3): the catalogue, the service guide, online application, the lookup,
the rating and the statistics — while the other regions' pages go on working."""
from __future__ import annotations

import pytest

from core.api import FieldError
from core.models import PluginSwitch
from plugins.eservice import applications, catalogue, lookup, statistics
from plugins.eservice.models import Case, Rating
from tests.plugins.eservice.conftest import VALID_ID, item_spec
from tests.plugins.eservice.test_cases import case_in
from tests.plugins.eservice.test_online import application, apply_url, token
from tests.plugins.eservice.test_public import rate
from tests.plugins.eservice.test_public import token as track_token


@pytest.fixture
def other(org):
    return catalogue.create_item(item_spec(org["dept_b"], name="烟草专卖零售许可"))


def switch_off(region):
    PluginSwitch.create(plugin="eservice", region=region, switched_by="test")


def test_public_pages_of_a_switched_off_region_are_off(app, org, client, item, other, clerk):
    closed = case_in("closed", item, clerk)
    tok = token(client, apply_url(item))
    switch_off(org["a"])
    page = client.get("/public/services/").get_data(as_text=True)
    assert other.name in page and item.name not in page
    assert org["a"].name not in page  # not offered as a region to browse either
    assert client.get(f"/public/services/?region={org['a'].code}").get_data(
        as_text=True).count(item.name) == 0
    assert client.get(f"/public/services/items/{item.code}").status_code == 404
    assert client.get(f"/public/services/items/{other.code}").status_code == 200
    assert client.get(apply_url(item)).status_code == 404
    before = Case.select().count()
    assert client.post(apply_url(item), data=application(item, tok)).status_code == 404
    assert Case.select().count() == before
    resp = client.post("/public/services/track", data={
        "serial": closed.serial, "id_number": VALID_ID, "csrf_token": track_token(client)})
    assert resp.status_code == 404 and closed.item.name not in resp.get_data(as_text=True)
    assert rate(client, closed.serial, 5).status_code == 404
    assert Rating.select().count() == 0
    assert statistics.statistics()["departments"] == []
    assert org["dept_a"].name not in client.get("/public/services/stats").get_data(as_text=True)


def test_switched_off_below_the_city_closes_its_descendants_only(app, org, item, other):
    switch_off(org["city"])
    assert applications.item_open_for_application(item.code) is None
    assert applications.item_open_for_application(other.code) is None
    PluginSwitch.delete().execute()
    assert applications.item_open_for_application(other.code).id == other.id


def test_the_service_refuses_an_online_filing_where_the_hall_is_off(app, org, item):
    switch_off(org["a"])
    with pytest.raises(FieldError) as err:
        applications.file_online(item, applicant_name="李四", id_number=VALID_ID,
                                 phone="13900000000", client="198.51.100.1")
    assert err.value.field == "item" and Case.select().count() == 0


def test_the_lookup_answers_a_miss_for_a_switched_off_region(app, org, item, clerk):
    case = case_in("in_review", item, clerk)
    assert lookup.find_case(case.serial, VALID_ID, "198.51.100.2").id == case.id
    switch_off(org["a"])
    assert lookup.find_case(case.serial, VALID_ID, "198.51.100.3") is None


def test_switching_back_on_reopens_the_pages(app, org, client, item):
    switch_off(org["a"])
    assert client.get(f"/public/services/items/{item.code}").status_code == 404
    PluginSwitch.delete().execute()
    assert client.get(f"/public/services/items/{item.code}").status_code == 200


def test_penalty_and_enforcement_items_take_no_online_application(app, org, client):
    penalty = catalogue.create_item(item_spec(org["dept_a"], name="对未取得许可经营的处罚",
                                              type="CF"))
    enforcement = catalogue.create_item(item_spec(org["dept_a"], name="查封扣押", type="QZ"))
    for item in (penalty, enforcement):
        page = client.get(f"/public/services/items/{item.code}").get_data(as_text=True)
        assert apply_url(item) not in page and "takes no application" in page
        assert client.get(apply_url(item)).status_code == 404
        with pytest.raises(FieldError) as err:
            applications.file_online(item, applicant_name="李四", id_number=VALID_ID,
                                     phone="13900000000", client="198.51.100.4")
        assert err.value.field == "item"
    assert Case.select().count() == 0


def test_public_statistics_filter_by_region_department_and_month(app, org, client, item,
                                                                   other, clerk):
    case_in("closed", item, clerk)
    case_in("closed", other, clerk)
    both = statistics.statistics()
    assert {d.id for d, _r in both["departments"]} == {org["dept_a"].id, org["dept_b"].id}
    body = client.get(f"/public/services/stats?region={org['b'].code}").get_data(as_text=True)
    assert org["dept_b"].name in body and org["dept_a"].name not in body
    body = client.get(f"/public/services/stats?region={org['a'].code}"
                      f"&department={org['dept_a'].id}").get_data(as_text=True)
    assert org["dept_a"].name in body and org["dept_b"].name not in body
    body = client.get("/public/services/stats?month=2026-03").get_data(as_text=True)
    assert org["dept_a"].name in body and "2026-03" in body
    body = client.get("/public/services/stats?month=2025-01").get_data(as_text=True)
    assert org["dept_a"].name not in body
    bad = client.get("/public/services/stats?month=2026-13")
    assert bad.status_code == 400 and "field-error" in bad.get_data(as_text=True)
    assert client.get("/public/services/stats?region=999999").status_code == 400
