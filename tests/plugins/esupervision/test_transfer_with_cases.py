"""With the cases plugin installed and on, a confirmed supervision case's page offers the
transfer as a problem lead; switched off for the county, it does not."""
from __future__ import annotations

import pytest

from plugins.esupervision import supervision as sv
from plugins.esupervision.models import SupervisionCase
from tests.conftest import _csrf, running_app


@pytest.fixture
def app(settings):
    """The app with every installed plugin (cases among them)."""
    with running_app(settings) as application:
        yield application


def test_page_offers_the_transfer_only_where_cases_is_on(client, login, make_user, org,
                                                        red_signal):
    from core.models import PluginSwitch
    sup = make_user("sup", role="supervisor", region=org["a"])
    url = f"/esupervision/supervision/{sv.open_case(red_signal, sup).id}"
    login(sup)
    assert 'name="t-reason"' not in client.get(url).get_data(as_text=True)  # not verified
    sv.verify(SupervisionCase.get(), sup, "confirmed", "属实")
    assert 'name="t-reason"' in client.get(url).get_data(as_text=True)
    switch = PluginSwitch.create(plugin="cases", region=org["a"])
    assert 'name="t-reason"' not in client.get(url).get_data(as_text=True)
    switch.delete_instance()
    # the real subscribers hear the event in the transfer's transaction
    resp = client.post(url + "/transfer", data={"csrf_token": _csrf(client, url),
                                                "t-reason": "移送线索"})
    assert resp.status_code == 303
    page = client.get(url).get_data(as_text=True)
    assert "Transferred to the case supervision platform on" in page
    assert 'name="t-reason"' not in page
