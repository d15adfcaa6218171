"""Problem leads from other platforms, through core events only: a supervision case of
e-supervision or a risk warning a supervisor transfers (移送问题线索), and a procurement red
flag, become one item each of the channel "transferred from another platform" (however
often the event comes); the petitions office routes it and the supervision office takes it
up as a lead, with need-to-know intact. Here cases runs alone and the documented payloads
are published by hand; signals and warnings nobody transferred, unknown regions and
events naming no official register nothing. test_platforms_together.py runs the other
platforms' real services alongside."""
from __future__ import annotations

import datetime as dt

import pytest

from core.api import publish


def _transfer(post_id, supervision_id=31, region_code="510104", **extra):
    payload = {"supervision_id": supervision_id, "signal_id": 4021, "code": "STEP_OVERDUE",
               "level": "red", "region_code": region_code, "post_id": post_id,
               "handler_username": None,
               "case": {"id": 88, "serial": "510104-20260302-0007-K", "source": "eservice",
                        "department_name": "锦江区政务服务局", "item_name": "食品经营许可"},
               "finding": "confirmed", "reason": "经核实，受理员违规收取费用",
               "transferred_by": "supervisor", "transferred_at": "2026-03-25T02:00:00"}
    payload.update(extra)
    return payload


def _platform_items():
    from plugins.cases.models import Item
    return list(Item.select().where(Item.channel == "platform").order_by(Item.id))


def test_a_transferred_supervision_case_becomes_one_item_then_a_lead(app, world, org):
    """Cases alone: the documented payload is enough (no import of e-supervision)."""
    from core.audit.models import AuditEvent
    from plugins.cases import access, intake, leads
    from plugins.cases.models import Clock
    publish("esupervision.supervision.transferred", _transfer(org["clerk_a"].id))
    publish("esupervision.supervision.transferred", _transfer(org["clerk_a"].id))  # again
    items = _platform_items()
    assert len(items) == 1
    item = items[0]
    assert item.source_ref == "esupervision.supervision:31"
    assert (item.region_id, item.subject_region_id, item.anonymous) == (world.a.id,
                                                                         world.a.id, True)
    assert item.subject_name == "受理员a" and "窗口受理员" in item.subject_post
    assert "STEP_OVERDUE" in item.text and "违规收取费用" in item.text
    assert "31" in item.transferred_from
    assert item.status == "registered" and item.office == "petition"
    assert Clock.get((Clock.kind == "route") & (Clock.ref == item.number))
    assert AuditEvent.select().where(AuditEvent.action == "cases.item.register").count() == 1
    # need to know: the supervision office sees it only once routed to it; then a lead
    assert intake.get_item(world.supervision, item.id) is None
    assert intake.get_item(world.petition_b, item.id) is None
    intake.route(world.petition, item, "accept")
    lead = leads.take_up(world.supervision, intake.get_item(world.supervision, item.id))
    assert lead.item_id == item.id
    assert not access.can_open_lead(world.petition_b, lead)
    assert not access.can_open_lead(world.investigator, lead)


def test_what_registers_nothing(app, world, org, make_user):
    from core.models import PluginSwitch
    clerk = org["clerk_a"].id
    # signals and warnings are not leads until a supervisor transfers them
    publish("esupervision.signal.raised", {"signal_id": 4021, "level": "red",
                                           "region_code": "510104", "post_id": clerk})
    publish("risk.warning.raised", {"warning_id": 5, "alert_level": "red", "target": "post",
                                    "region_code": "510104", "post_id": clerk})
    publish("esupervision.supervision.transferred", _transfer(None, 1))     # no official
    publish("esupervision.supervision.transferred", _transfer(clerk, 2, region_code="999999"))
    publish("esupervision.supervision.transferred", _transfer(clerk, "3"))
    publish("esupervision.supervision.transferred", _transfer(clerk, True))
    publish("esupervision.supervision.transferred", "not a dict")
    publish("risk.anything", {"level": "red"})
    PluginSwitch.create(plugin="cases", region=world.b)  # switched off in county B
    publish("esupervision.supervision.transferred", _transfer(org["clerk_b"].id, 5,
                                                              region_code="510105"))
    assert _platform_items() == []


def test_a_procurement_red_flag_about_its_officer(app, world, org, make_user):
    officer = make_user("purchaser1", role="staff", region=world.a)
    from core.org.models import Person, PostHolding
    Person.update(name="赵采购").where(Person.id == officer.person_id).execute()
    PostHolding.create(person=officer.person_id, post=org["head_a"],
                       start=dt.date(2025, 1, 1))
    flag = {"flag_id": 12, "code": "R018", "level": "red", "region_code": "510104",
            "subject": "process", "subject_id": 345, "project_number": "CG-510104-2026-0012",
            "department_id": org["dept_a"].id, "officer": "purchaser1",
            "detail": {"tenderers": 1}, "raised_at": "2026-03-02T01:02:03"}
    publish("procurement.flag.raised", {**flag, "flag_id": 11, "level": "yellow"})
    publish("procurement.flag.raised", flag)
    publish("procurement.flag.raised", flag)
    publish("procurement.flag.raised", {**flag, "flag_id": 13, "officer": None})
    items = _platform_items()
    assert [i.source_ref for i in items] == ["procurement.flag:12"]
    assert items[0].subject_name == "赵采购" and items[0].category == "integrity"
    assert "CG-510104-2026-0012" in items[0].text


def _warning(warning_id=7, **extra):
    payload = {"warning_id": warning_id, "level": "yellow", "alert_level": "yellow",
               "source": "manual", "region_code": "510104", "target": "post",
               "post_id": None, "person_id": None, "department_id": None,
               "subject": "土地整治项目擅自变更设计", "reason": "多次违规变更设计，移送核查",
               "transferred_by": "risk_office", "transferred_at": "2026-03-02T01:02:03"}
    payload.update(extra)
    return payload


def test_a_transferred_risk_warning_on_a_post_or_a_person(app, world, org):
    """Cases alone: risk's documented payload of a transferred warning names the post's
    holder (or the person) as the official concerned, once per warning, whatever its
    level."""
    post = org["clerk_a"]
    publish("risk.warning.transferred", _warning(post_id=post.id))
    publish("risk.warning.transferred", _warning(post_id=post.id))  # redelivered
    from core.org.models import Person
    person = Person.get(Person.name == "受理员a")
    publish("risk.warning.transferred", _warning(8, target="person", person_id=person.id))
    # nothing: a whole department, a vacant post, a bad id, an unknown person
    publish("risk.warning.transferred", _warning(11, target="department",
                                                 department_id=org["dept_a"].id))
    publish("risk.warning.transferred", _warning(12, post_id=None))
    publish("risk.warning.transferred", _warning("13", post_id=post.id))
    publish("risk.warning.transferred", _warning(14, target="person", person_id=10 ** 9))
    items = _platform_items()
    assert [i.source_ref for i in items] == ["risk.warning:7", "risk.warning:8"]
    assert {i.subject_name for i in items} == {"受理员a"}
    assert "窗口受理员" in items[0].subject_post and items[0].category == "integrity"
    assert "擅自变更设计" in items[0].text and "移送核查" in items[0].text
    assert items[0].status == "registered"


def test_a_staff_form_cannot_claim_the_platform_channel(app, world):
    from core.api import FieldError
    with pytest.raises(FieldError) as exc:
        world.report(channel="platform")
    assert "channel" in exc.value.errors

