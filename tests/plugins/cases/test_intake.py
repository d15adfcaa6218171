"""Intake, registration and routing: numbers per region and year, encryption at rest,
repeat detection, the jurisdiction rule, the 5-working-day routing clock and the
feedback clocks of a named reporter (across the 2026 Mid-Autumn and National Day
holidays)."""
from __future__ import annotations

import datetime as dt

import pytest

from core.api import FieldError, db


def test_numbers_per_region_and_year(world):
    first, second = world.report(), world.report(subject_name="赵六")
    city = world.report(region=world.city)
    earlier = world.report(received_on=dt.date(2025, 12, 30))
    assert first.number == "锦江纪信〔2026〕1号" and second.number == "锦江纪信〔2026〕2号"
    assert city.number == "成都纪信〔2026〕1号"
    assert earlier.number == "锦江纪信〔2025〕1号"


def test_identity_text_and_person_concerned_are_encrypted_at_rest(world):
    item = world.report(reporter_id="11010519491231002X")
    raw = db.execute_sql("SELECT * FROM cases_item WHERE id = %s" if db.param == "%s"
                         else "SELECT * FROM cases_item WHERE id = ?", (item.id,)).fetchone()
    dump = repr(raw)
    for secret in ("王五", "13800138000", "11010519491231002X", "李四", "科长", "礼金"):
        assert secret not in dump
    from plugins.cases.models import Item
    again = Item.get_by_id(item.id)
    assert again.reporter_name == "王五" and again.text.startswith("收受")


def test_repeat_reports_are_linked_and_not_acknowledged_twice(world):
    from plugins.cases.clocks import clock_of
    first = world.report()
    repeat = world.report(subject_name=" 李 四", reporter_name="另一人")
    other_matter = world.report(category="work")
    assert repeat.repeat_of_id == first.id
    assert other_matter.repeat_of_id is None
    assert clock_of("ack", first.number) is not None
    assert clock_of("ack", repeat.number) is None  # 重复件 not told again
    # the same name managed by another level is another person
    elsewhere = world.report(subject_region=world.city)
    assert elsewhere.repeat_of_id is None


def test_routing_clock_counts_working_days_over_the_holidays(world):
    from plugins.cases.clocks import clock_of
    item = world.report(received_on=dt.date(2026, 9, 29))
    # 9-30, then 10-1…7 National Day, 10-8, 10-9, 10-10 (调休 Saturday), 10-12
    assert clock_of("route", item.number).due_on == dt.date(2026, 10, 12)
    # Mid-Autumn (9-25) and the weekend are not counted either
    item = world.report(received_on=dt.date(2026, 9, 24), subject_name="钱七")
    assert clock_of("route", item.number).due_on == dt.date(2026, 10, 9)
    assert clock_of("ack", item.number).due_on == dt.date(2026, 10, 22)


def test_accept_goes_to_supervision_with_a_copy_to_case_management(world, on_day):
    from plugins.cases import intake
    from plugins.cases.clocks import clock_of
    item = world.report()
    on_day(dt.date(2026, 9, 23))
    with pytest.raises(FieldError) as exc:
        intake.route(world.petition, item, "send_up")
    assert exc.value.field == "decision"
    intake.route(world.petition, item, "accept")
    assert (item.status, item.office, item.copied_to_management) == \
        ("accepted", "supervision", True)
    assert clock_of("route", item.number).done_on == dt.date(2026, 9, 23)
    assert intake.ledger(world.supervision, "supervision").count() == 1
    assert intake.ledger(world.management, "management").count() == 1
    with pytest.raises(FieldError):
        intake.route(world.petition, item, "accept")


def test_send_up_and_transfer_down_register_the_item_at_the_other_level(world, on_day):
    from plugins.cases import intake
    from plugins.cases.models import Item
    on_day(dt.date(2026, 9, 22))
    up = world.report(subject_region=world.city, subject_name="孙八")
    intake.route(world.petition, up, "send_up", "市管干部")
    assert up.status == "sent_up" and up.routed_to_id == world.city.id
    there = Item.get((Item.region == world.city.id) & (Item.channel == "transferred"))
    assert there.transferred_from == world.a.name and there.subject_name == "孙八"
    assert intake.jurisdiction(there) == "accept"
    down = world.report(region=world.city, subject_region=world.a, subject_name="周九")
    with pytest.raises(FieldError):
        intake.route(world.petition_city, down, "accept")
    intake.route(world.petition_city, down, "transfer_down")
    assert Item.select().where((Item.region == world.a.id)
                               & (Item.transferred_from == world.city.name)).count() == 1


def test_a_county_cannot_route_another_countys_item(world):
    from core.api import AccessDenied
    from plugins.cases import intake
    item = world.report()
    with pytest.raises(AccessDenied):
        intake.route(world.petition_b, item, "accept")
    assert intake.get_item(world.petition_b, item.id) is None


def test_feedback_clocks_of_a_named_reporter(world, on_day):
    from plugins.cases import intake
    from plugins.cases.clocks import clock_of
    item = world.report(received_on=dt.date(2026, 9, 21))
    with pytest.raises(FieldError) as exc:
        intake.record_feedback(world.petition, item, "acceptance", "已受理", dt.date(2026, 9, 22))
    assert exc.value.field == "kind"
    on_day(dt.date(2026, 9, 22))
    intake.route(world.petition, item, "accept")
    intake.record_feedback(world.petition, item, "acceptance", "已受理", dt.date(2026, 9, 22))
    assert clock_of("ack", item.number).done_on == dt.date(2026, 9, 22)
    with pytest.raises(FieldError):
        intake.record_feedback(world.petition, item, "result", "结果", dt.date(2026, 9, 22))
    on_day(dt.date(2026, 9, 29))
    intake.close_item(item, dt.date(2026, 9, 29))
    assert clock_of("result", item.number).due_on == dt.date(2026, 10, 26)
    intake.record_feedback(world.petition, item, "result", "了结", dt.date(2026, 9, 29))
    intake.record_feedback(world.petition, item, "objection", "不服", dt.date(2026, 9, 29))
    assert clock_of("result", item.number).done_on == dt.date(2026, 9, 29)
    assert [f.kind for f in item.feedback] == ["acceptance", "result", "objection"]


def test_bad_input_names_the_field_and_writes_nothing(world):
    from plugins.cases.models import Item
    cases = [({"reporter_contact": "12345"}, "reporter_contact"),
             ({"reporter_id": "110105194912310021"}, "reporter_id"),
             ({"category": "nope"}, "category"), ({"subject_name": ""}, "subject_name"),
             ({"text": "a\x00b"}, "text"), ({"channel": "web"}, "channel"),
             ({"received_on": dt.date(2099, 1, 1)}, "received_on"),
             ({"channel": "transferred"}, "transferred_from")]
    for change, field in cases:
        with pytest.raises(FieldError) as exc:
            world.report(**change)
        assert exc.value.field == field, change
    assert Item.select().count() == 0
