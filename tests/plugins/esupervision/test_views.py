"""Staff pages: scoped case list and detail, detector and threshold settings."""
from __future__ import annotations

from core.audit.models import AuditEvent
from plugins.esupervision.models import DetectorSetting, MonitoredCase, Threshold


def test_case_pages_are_scoped_by_region(client, login, make_user, org, feed, events):
    mine, other = events(region_code="510104"), events(region_code="510105")
    feed(mine.make("submitted", "2026-03-02 09:00"), other.make("submitted", "2026-03-02 09:00"))
    login(make_user("sup_a", role="supervisor", region=org["a"]))
    html = client.get("/esupervision/").get_data(as_text=True)
    assert mine.case["serial"] in html and other.case["serial"] not in html
    case_a = MonitoredCase.get(MonitoredCase.serial == mine.case["serial"])
    case_b = MonitoredCase.get(MonitoredCase.serial == other.case["serial"])
    page = client.get(f"/esupervision/cases/{case_a.id}")
    assert page.status_code == 200 and "Acceptance" in page.get_data(as_text=True)
    assert client.get(f"/esupervision/cases/{case_b.id}").status_code == 404


def test_settings_need_the_manage_permission(client, login, make_user, org):
    login(make_user("clerk", role="staff", region=org["a"]))
    assert client.get("/esupervision/").status_code == 200
    assert client.get("/esupervision/settings").status_code == 403


def test_supervisor_edits_detectors_and_thresholds(client, login, make_user, org, csrf_token):
    login(make_user("sup", role="supervisor", region=org["city"]))
    page = client.get("/esupervision/settings")
    assert page.status_code == 200 and "OFF_SYSTEM_HANDLING" in page.get_data(as_text=True)
    token = csrf_token("/esupervision/settings")
    resp = client.post("/esupervision/settings/detectors/OFF_SYSTEM_HANDLING",
                       data={"csrf_token": token, "param_minutes": "20", "param_min_steps": "3",
                             "param_late_hours": "48"})
    assert resp.status_code == 303
    row = DetectorSetting.get(DetectorSetting.code == "OFF_SYSTEM_HANDLING")
    assert not row.enabled and '"minutes": 20' in row.params
    bad = client.post("/esupervision/settings/detectors/OFF_SYSTEM_HANDLING",
                      data={"csrf_token": token, "enabled": "y", "param_minutes": "soon"})
    assert bad.status_code == 422 and "whole number" in bad.get_data(as_text=True)
    assert not DetectorSetting.get(DetectorSetting.code == "OFF_SYSTEM_HANDLING").enabled
    resp = client.post("/esupervision/settings", data={"csrf_token": token, "scope": "item_type",
                                                       "key": "XK", "share_percent": "70",
                                                       "days_left": "2"})
    assert resp.status_code == 303
    assert Threshold.get().share_percent == 70
    bad = client.post("/esupervision/settings", data={"csrf_token": token, "scope": "item",
                                                      "key": "X", "share_percent": "170",
                                                      "days_left": "2"})
    assert bad.status_code == 422 and Threshold.select().count() == 1
    assert AuditEvent.select().where(AuditEvent.action.startswith("esupervision.")).count() == 2


def test_dashboard_widget_shows_signals_with_their_labels(app, client, login, make_user):
    """The supervisor's dashboard carries the e-supervision widget (translated labels)."""
    import datetime as dt

    from core.org.models import Region
    from plugins.esupervision.models import MonitoredCase, Signal
    city = Region.get_or_none(Region.code == "510100") or Region.create(
        code="510100", name="成都市", level="city")
    user = make_user("widget_sup", role="supervisor", region=city)
    case = MonitoredCase.create(source="ext", serial="W-1", region=city, department_code="ZF",
                                item_code="X", item_type="XK", statutory_limit_days=20,
                                committed_limit_days=10, fee_due=0,
                                submitted_at=dt.datetime(2026, 11, 2, 2, 0))
    Signal.create(case=case, region=city, level="red", code="COMPLETION_OVERDUE",
                  dedupe_key="w-1", detail="late")
    login(user)
    html = client.get("/dashboard").get_data(as_text=True)
    assert "Electronic supervision" in html
    assert "The case passed its committed time limit" in html
