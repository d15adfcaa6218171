"""A stalled case or an absent handler escalates to the unit head by SMS (red alert)."""
from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from core.alerts.models import Alert, Notification
from core.auth.models import User
from core.org.models import PostHolding
from plugins.esupervision.escalation import ABSENT_KIND, STALLED_KIND, last_quiet_day
from plugins.esupervision.sweep import sweep


def person_of(post):
    return PostHolding.get(PostHolding.post == post).person


@pytest.fixture
def head(app, org, make_user):
    """The head of county A's department, reachable by SMS (gateway configured)."""
    app.config["QL_SETTINGS"] = replace(app.config["QL_SETTINGS"],
                                        sms_gateway_url="http://127.0.0.1:1/sms")
    return make_user("head_a", person=person_of(org["head_a"]), phone="13800000001")


def alerts(kind):
    return list(Alert.select().where(Alert.kind == kind))


def test_stalled_case_counts_working_days_across_national_day(feed, events, org, head):
    ev = events(submitted="2026-09-30 09:00", handler_post_id=org["clerk_a"].id)
    feed(ev.make("submitted", "2026-09-30 09:00"))
    # 1-7 Oct off: by Fri 9 Oct only two working days (8, 9 Oct) have passed
    sweep(dt.date(2026, 10, 9))
    assert alerts(STALLED_KIND) == []
    # Sat 10 Oct is a working day (调休): the third one
    result = sweep(dt.date(2026, 10, 10))
    [alert] = alerts(STALLED_KIND)
    assert alert.level == "red" and alert.target_department_id == org["dept_a"].id
    assert "3 working days" in alert.subject and ev.case["serial"] in alert.subject
    assert any(STALLED_KIND in line for line in result.alerted)
    sms = Notification.select().where((Notification.alert == alert)
                                      & (Notification.channel == "sms"))
    assert [n.user_id for n in sms] == [head.id]
    notifications = Notification.select().count()
    again = sweep(dt.date(2026, 10, 10))
    assert not any(STALLED_KIND in line for line in again.alerted)
    assert len(alerts(STALLED_KIND)) == 1 and Notification.select().count() == notifications


def test_last_quiet_day_skips_the_holiday(app):
    # an event on a holiday counts as on the working day before it
    assert last_quiet_day(dt.date(2026, 10, 10), 3) == dt.date(2026, 10, 7)
    assert last_quiet_day(dt.date(2026, 10, 9), 3) == dt.date(2026, 9, 29)
    assert last_quiet_day(dt.date(2026, 10, 8), 1) == dt.date(2026, 10, 7)
    assert last_quiet_day(dt.date(2026, 10, 15), 3) == dt.date(2026, 10, 12)


def test_stall_days_are_edited_on_the_settings_page(client, login, make_user, org,
                                                    csrf_token):
    from plugins.esupervision.models import DetectorSetting
    login(make_user("sup", role="supervisor", region=org["city"]))
    page = client.get("/esupervision/settings").get_data(as_text=True)
    assert "CASE_STALLED" in page and "HANDLER_ABSENT" in page
    resp = client.post("/esupervision/settings/detectors/CASE_STALLED",
                       data={"csrf_token": csrf_token("/esupervision/settings"),
                             "enabled": "y", "param_days": "4"})
    assert resp.status_code == 303
    row = DetectorSetting.get(DetectorSetting.code == "CASE_STALLED")
    assert row.enabled and row.params == '{"days": 4}'


def test_a_new_event_keeps_the_case_moving(feed, events, org, head):
    ev = events(submitted="2026-09-28 09:00", handler_post_id=org["clerk_a"].id)
    feed(ev.make("submitted", "2026-09-28 09:00"),
         ev.make("accepted", "2026-10-09 10:00"))
    sweep(dt.date(2026, 10, 12))
    assert alerts(STALLED_KIND) == []
    sweep(dt.date(2026, 10, 14))
    assert len(alerts(STALLED_KIND)) == 1


def test_stall_days_are_a_detector_parameter(feed, events, org, head):
    from plugins.esupervision.services import set_detector
    set_detector("CASE_STALLED", True, {"days": 5})
    ev = events(submitted="2026-09-30 09:00", handler_post_id=org["clerk_a"].id)
    feed(ev.make("submitted", "2026-09-30 09:00"))
    sweep(dt.date(2026, 10, 12))  # 8, 9, 10, 12 Oct: four working days
    assert alerts(STALLED_KIND) == []
    sweep(dt.date(2026, 10, 13))
    assert len(alerts(STALLED_KIND)) == 1
    set_detector("CASE_STALLED", False, {"days": 5})
    ev2 = events(submitted="2026-09-30 09:00", handler_post_id=org["clerk_a"].id)
    feed(ev2.make("submitted", "2026-09-30 09:00"))
    sweep(dt.date(2026, 10, 20))
    assert len(alerts(STALLED_KIND)) == 1


def test_closed_or_stopped_cases_do_not_stall(feed, events, org, head):
    ev = events(submitted="2026-09-30 09:00")
    feed(ev.make("submitted", "2026-09-30 09:00"),
         ev.make("supplement_requested", "2026-09-30 10:00", reason="缺材料",
                 missing_materials=["营业执照"]))
    sweep(dt.date(2026, 10, 20))
    assert alerts(STALLED_KIND) == []


def test_disabled_handler_account_escalates(feed, events, org, head, make_user):
    clerk = make_user("clerk1", person=person_of(org["clerk_a"]))
    ev = events(submitted="2026-10-09 09:00", handler_post_id=org["clerk_a"].id)
    feed(ev.make("submitted", "2026-10-09 09:00"))
    sweep(dt.date(2026, 10, 9))
    assert alerts(ABSENT_KIND) == []
    User.update(active=False).where(User.id == clerk.id).execute()
    sweep(dt.date(2026, 10, 9))
    [alert] = alerts(ABSENT_KIND)
    assert alert.level == "red" and "clerk1" in alert.subject
    assert {n.channel for n in alert.notifications} >= {"inbox", "sms"}
    sweep(dt.date(2026, 10, 9))
    assert len(alerts(ABSENT_KIND)) == 1


def test_vacant_handler_post_escalates(feed, events, org, head):
    ev = events(submitted="2026-10-09 09:00", handler_post_id=org["clerk_a"].id)
    feed(ev.make("submitted", "2026-10-09 09:00"))
    PostHolding.update(end=dt.date(2026, 10, 8)).where(
        PostHolding.post == org["clerk_a"]).execute()
    sweep(dt.date(2026, 10, 9))
    [alert] = alerts(ABSENT_KIND)
    assert alert.target_department_id == org["dept_a"].id
    assert [n.user_id for n in alert.notifications if n.channel == "sms"] == [head.id]
    sweep(dt.date(2026, 10, 9))
    assert len(alerts(ABSENT_KIND)) == 1
