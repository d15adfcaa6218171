"""The staff pages in both languages; bad input answered 422 naming the field with
nothing written; every view of an item audited; the identity only for the petitions
office."""
from __future__ import annotations

import re

import pytest


def _token(client, path):
    html = client.get(path).get_data(as_text=True)
    m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or \
        re.search(r'"X-CSRFToken": "([^"]+)"', html)
    return m.group(1)


@pytest.mark.parametrize("lang,word", [("zh_CN", "信访"), ("en", "Ledger")])
def test_staff_pages_render(app, client, world, login, lang, word):
    item = world.report()
    login(world.petition)
    with client.session_transaction() as s:
        s["locale"] = lang
    for page in ("/cases/", "/cases/?office=petition&status=registered",
                 "/cases/items/new", f"/cases/items/{item.id}"):
        resp = client.get(page)
        assert resp.status_code == 200, page
    assert word in client.get("/cases/").get_data(as_text=True)
    html = client.get(f"/cases/items/{item.id}").get_data(as_text=True)
    assert "王五" in html and "13800138000" in html and "收受" in html


def test_register_and_route_through_the_pages(app, client, world, login):
    from core.audit.models import AuditEvent
    from plugins.cases.models import Item
    login(world.petition)
    token = _token(client, "/cases/items/new")
    form = {"csrf_token": token, "region": world.a.id, "channel": "visit",
            "received_on": "2026-09-21", "reporter_name": "王五",
            "reporter_contact": "13800138000", "subject_name": "李四",
            "subject_region": world.a.id, "subject_rank": "general",
            "category": "integrity", "text": "来访反映问题"}
    resp = client.post("/cases/items/new", data=form)
    assert resp.status_code == 303
    item = Item.get()
    assert item.channel == "visit"
    resp = client.post(f"/cases/items/{item.id}/route",
                       data={"csrf_token": token, "decision": "send_up"})
    assert resp.status_code == 422 and "decision" in resp.get_data(as_text=True)
    resp = client.post(f"/cases/items/{item.id}/route",
                       data={"csrf_token": token, "decision": "accept"})
    assert resp.status_code == 303
    assert Item.get_by_id(item.id).status == "accepted"
    views = AuditEvent.select().where((AuditEvent.action == "record.view")
                                      & (AuditEvent.object_type == "cases_item"))
    assert views.count() >= 1


def test_bad_form_is_422_and_writes_nothing(app, client, world, login):
    from plugins.cases.models import Item
    login(world.petition)
    token = _token(client, "/cases/items/new")
    base = {"csrf_token": token, "region": world.a.id, "channel": "letter",
            "received_on": "2026-09-21", "reporter_name": "王五",
            "reporter_contact": "13800138000", "subject_name": "李四",
            "subject_region": world.a.id, "subject_rank": "general",
            "category": "integrity", "text": "内容"}
    for field, value in (("received_on", "2026-02-30"), ("reporter_contact", "123"),
                         ("category", "x"), ("region", world.b.id),
                         ("received_on", "2026-13-01"), ("text", "")):
        resp = client.post("/cases/items/new", data={**base, field: value})
        assert resp.status_code == 422, field
        assert 'field-error' in resp.get_data(as_text=True), field
    assert Item.select().count() == 0


def test_supervision_sees_no_identity_and_only_its_items(app, client, world, login):
    from plugins.cases import intake
    item = world.report()
    login(world.supervision)
    assert client.get(f"/cases/items/{item.id}").status_code == 404  # not routed to it
    intake.route(world.petition, item, "accept")
    html = client.get(f"/cases/items/{item.id}").get_data(as_text=True)
    assert "收受" in html and "王五" not in html and "13800138000" not in html
