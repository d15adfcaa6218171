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


@pytest.mark.parametrize("lang,word", [("zh_CN", "初步核实"), ("en", "Preliminary verification")])
def test_lead_and_case_pages_render_and_refuse_a_gate(app, client, world, login, lang, word):
    case = world.case()
    login(world.leader)
    with client.session_transaction() as s:
        s["locale"] = lang
    for page in ("/cases/leads", "/cases/cases", f"/cases/leads/{case.lead_id}",
                 f"/cases/cases/{case.id}"):
        resp = client.get(page)
        assert resp.status_code == 200, page
        assert word in resp.get_data(as_text=True) or page.endswith("leads"), page
    token = _token(client, f"/cases/cases/{case.id}")
    resp = client.post(f"/cases/cases/{case.id}/advance", data={"csrf_token": token})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert ("初步核实情况报告" if lang == "zh_CN" else "Preliminary verification report") in body


def test_propose_and_approve_through_the_pages(app, world, login):
    from plugins.cases.models import Lead
    lead = world.lead()
    handler, approver = app.test_client(), app.test_client()
    login(world.supervision, c=handler)
    token = _token(handler, f"/cases/leads/{lead.id}")
    resp = handler.post(f"/cases/leads/{lead.id}/propose",
                        data={"csrf_token": token, "way": "close", "reason": "",
                              "meeting_ref": "会议"})
    assert resp.status_code == 422
    resp = handler.post(f"/cases/leads/{lead.id}/propose",
                        data={"csrf_token": token, "way": "close", "reason": "反映不实",
                              "meeting_ref": "第5次专题会"})
    assert resp.status_code == 303
    login(world.leader, c=approver)
    token = _token(approver, f"/cases/leads/{lead.id}")
    resp = approver.post(f"/cases/leads/{lead.id}/decide",
                         data={"csrf_token": token, "approve": "yes"})
    assert resp.status_code == 303
    assert Lead.get_by_id(lead.id).status == "closed"
