"""Triggered reminders: a check-in inside a site's radius sends the point's reminder once
per person, site and day (outside: nothing); the check-in API with its token; reminders
before the National Day holiday and on taking up a post; the log and the pages."""
from __future__ import annotations

import datetime as dt

import pytest

from core.alerts.models import Alert, Notification
from core.api import FieldError, issue_api_token
from plugins.risk import reminders
from plugins.risk.models import CheckIn, Reminder
from tests.plugins.risk import web_b

client_for = web_b.client_for  # the fixture

SITE = (30.657, 104.066)


@pytest.fixture
def site(approved, unit):
    return reminders.save_site(unit["reviewer"], {
        "department": unit["dept"].id, "code": "TZ-01", "name": "三圣乡土地整治项目",
        "latitude": str(SITE[0]), "longitude": str(SITE[1]), "radius_m": "300",
        "posts": [unit["land"].id]})


def test_site_input_is_checked(unit, approved, org):
    bad = {"department": unit["dept"].id, "code": "X", "name": "n", "latitude": "91",
           "longitude": "104", "posts": []}
    with pytest.raises(FieldError) as err:
        reminders.save_site(unit["reviewer"], bad)
    assert err.value.field == "latitude"
    with pytest.raises(FieldError) as err:
        reminders.save_site(unit["reviewer"], dict(bad, latitude="30", radius_m="5"))
    assert err.value.field == "radius_m"
    from core.org.models import Post
    with pytest.raises(FieldError) as err:
        reminders.save_site(unit["reviewer"], dict(bad, latitude="30",
                                                   posts=[Post.get(Post.department == org[
                                                       "dept_b"]).id]))
    assert err.value.field == "posts"


def test_inside_once_a_day_outside_never(site, unit):
    person = unit["official_person"]
    at = dt.datetime(2026, 10, 12, 1, 0)
    far = reminders.check_in(person, "30.670", "104.066", source="phone", at=at)
    assert (far.inside, far.site_id, far.reminder_id) == (False, None, None)
    first = reminders.check_in(person, "30.6575", "104.0662", source="phone", at=at)
    assert first.inside and first.site_id == site.id and first.distance_m < 100
    again = reminders.check_in(person, "30.657", "104.066", source="phone",
                               at=at + dt.timedelta(hours=3))
    assert again.inside and again.reminder_id is None
    assert Reminder.select().count() == 1
    reminder = Reminder.get()
    assert reminder.kind == "site_arrival" and "严禁在土地综合整治" in reminder.text
    alert = Alert.get_by_id(reminder.alert_id)
    assert alert.kind == "risk.reminder.site_arrival" and alert.target_user_id == \
        unit["official"].id
    next_day = reminders.check_in(person, "30.657", "104.066", source="phone",
                                  at=at + dt.timedelta(days=1))
    assert next_day.reminder_id is not None and Reminder.select().count() == 2


def test_someone_not_on_the_sites_posts_gets_nothing(site, unit):
    clerk = unit["clerk"]
    from core.org.models import Person
    row = reminders.check_in(Person.get_by_id(clerk.person_id), "30.657", "104.066",
                             source="phone")
    assert not row.inside and Reminder.select().count() == 0


def test_the_api(site, unit, app):
    client = app.test_client()
    body = {"username": "huang", "latitude": 30.657, "longitude": 104.066,
            "external_id": "gps-1", "at": "2026-10-12T09:00:00+08:00"}
    assert client.post("/api/risk/checkins", json=body).status_code == 401
    token = issue_api_token("risk.checkin", "gps")
    auth = {"Authorization": f"Bearer {token}"}
    resp = client.post("/api/risk/checkins", json=body, headers=auth)
    assert resp.status_code == 201 and resp.json["inside"] and resp.json["reminder_id"]
    again = client.post("/api/risk/checkins", json=body, headers=auth)  # same external id
    assert again.status_code == 201 and again.json["id"] == resp.json["id"]
    resp = client.post("/api/risk/checkins", json=dict(body, latitude="north",
                                                       external_id="gps-2"), headers=auth)
    assert resp.status_code == 422 and resp.json["field"] == "latitude"
    resp = client.post("/api/risk/checkins", json=dict(body, username="nobody"), headers=auth)
    assert resp.status_code == 422 and resp.json["field"] == "username"
    assert CheckIn.select().count() == 1 and Reminder.select().count() == 1


def test_before_national_day_and_on_duty_start(approved, unit):
    """The 2026 National Day holiday runs 1–7 October (Thursday 1 October first):
    two working days before it is Tuesday 29 September."""
    assert reminders.holiday_reminders(dt.date(2026, 9, 25)) == 0
    assert reminders.holiday_reminders(dt.date(2026, 9, 29)) == 1
    assert reminders.holiday_reminders(dt.date(2026, 9, 30)) == 0  # once
    r = Reminder.get(Reminder.kind == "holiday")
    assert r.person_id == unit["official_person"].id and "八项规定" in r.text
    assert reminders.duty_start_reminders(dt.date(2026, 10, 9)) == 0  # held since 2025
    from core.org.models import Person, PostHolding
    newcomer = Person.create(name="新任者", region=unit["region"])
    PostHolding.create(person=newcomer, post=unit["land"], start=dt.date(2026, 10, 8))
    assert reminders.duty_start_reminders(dt.date(2026, 10, 9)) == 1
    assert reminders.duty_start_reminders(dt.date(2026, 10, 10)) == 0
    duty = Reminder.get(Reminder.kind == "duty_start")
    assert duty.person_id == newcomer.id and duty.alert_id is None  # no account: recorded


def test_pages(site, unit, client_for, org, make_user):
    reminders.check_in(unit["official_person"], "30.657", "104.066", source="phone")
    sup = client_for(unit["reviewer"])
    page = sup.get("/risk/reminders/")
    assert page.status_code == 200 and "严禁在土地综合整治" in page.text
    assert sup.get("/risk/reminders/sites").status_code == 200
    resp = sup.post("/risk/reminders/sites", data={"department": unit["dept"].id,
                                                   "code": "TZ-02", "name": "二号现场",
                                                   "latitude": "30.1", "longitude": "abc"})
    assert resp.status_code == 422 and "longitude" in resp.text
    official = client_for(unit["official"])
    assert official.get("/risk/reminders/checkin").status_code == 200
    resp = official.post("/risk/reminders/checkin", data={"latitude": "30.657",
                                                          "longitude": "104.066"})
    assert resp.status_code == 200 and "三圣乡土地整治项目" in resp.text
    outsider = client_for(make_user("b_sup", role="supervisor", region=org["b"]))
    assert "严禁在土地综合整治" not in outsider.get("/risk/reminders/").text
    assert Notification.select().count() >= 1
