"""Detector settings and yellow thresholds per region: the city default, a county's
override for its own cases, clearing it, the sweep honouring both, scope on the pages."""
from __future__ import annotations

import datetime as dt
import re
import uuid
from pathlib import Path

import pytest

from core.alerts.models import Alert
from core.audit.models import AuditEvent
from core.org.models import Region
from plugins.esupervision import regional, services
from plugins.esupervision.escalation import ABSENT_KIND, STALLED_KIND
from plugins.esupervision.models import (
    Clock,
    DetectorSetting,
    MonitoredCase,
    Signal,
    Threshold,
)
from plugins.esupervision.sweep import sweep

D = dt.date


def case_of(ev):
    return MonitoredCase.get(MonitoredCase.serial == ev.case["serial"])


def yellow_on(ev, kind="acceptance"):
    return Clock.get((Clock.case == case_of(ev)) & (Clock.kind == kind)).yellow_on


def signals(ev, level):
    return [s.code for s in Signal.select().where((Signal.case == case_of(ev))
                                                  & (Signal.level == level))]


@pytest.fixture
def pair(feed, events, org):
    """One case in county A and one in county B, both received Thu 2 Apr 2026: acceptance
    due Fri 10 Apr (Qingming 4-6 Apr), yellow by default on Thu 9 Apr."""
    a = events(region_code="510104", submitted="2026-04-02 09:00")
    b = events(region_code="510105", submitted="2026-04-02 09:00")
    feed(a.make("submitted", "2026-04-02 09:00"), b.make("submitted", "2026-04-02 09:00"))
    return a, b


def test_a_county_threshold_warns_earlier_in_that_county_only(pair, org):
    a, b = pair
    services.set_threshold("item_type", "XK", 50, 1, region=org["a"])
    # 50% of 5 = 3 working days: Apr 3, 7, 8
    assert (yellow_on(a), yellow_on(b)) == (D(2026, 4, 8), D(2026, 4, 9))
    first = sweep(D(2026, 4, 8), emit_alerts=False)
    assert (first.yellow, first.red) == (1, 0)
    assert signals(a, "yellow") == ["DEADLINE_YELLOW"] and signals(b, "yellow") == []
    again = sweep(D(2026, 4, 8), emit_alerts=False)
    assert (again.yellow, again.red) == (0, 0)
    assert sweep(D(2026, 4, 9), emit_alerts=False).yellow == 1
    assert signals(b, "yellow") == ["DEADLINE_YELLOW"]


def test_clearing_a_threshold_override_falls_back_to_the_city(pair, org):
    a, b = pair
    services.set_threshold("all", "", 40, 1)
    county = services.set_threshold("all", "ignored", 90, 0, region=org["a"])
    assert county.key == "*" and county.region_id == org["a"].id
    # city 40% of 5 = 2 days (Apr 7); county 90% or 0 days left = 5 days (Apr 10)
    assert (yellow_on(a), yellow_on(b)) == (D(2026, 4, 10), D(2026, 4, 7))
    services.delete_threshold(county.id)
    assert (yellow_on(a), yellow_on(b)) == (D(2026, 4, 7), D(2026, 4, 7))
    assert sweep(D(2026, 4, 7), emit_alerts=False).yellow == 2
    assert sweep(D(2026, 4, 7), emit_alerts=False).yellow == 0
    audit = list(AuditEvent.select().where(AuditEvent.action.startswith("esupervision.thr"))
                 .order_by(AuditEvent.id))
    assert [(e.action, e.region_id) for e in audit] == [
        ("esupervision.threshold.update", None),
        ("esupervision.threshold.update", org["a"].id),
        ("esupervision.threshold.delete", org["a"].id)]


def test_an_item_threshold_of_the_city_wins_over_a_county_type_threshold(pair, org):
    a, _b = pair
    services.set_threshold("item_type", "XK", 50, 1, region=org["a"])
    services.set_threshold("item", a.case["item_code"], 100, 0)
    assert yellow_on(a) == D(2026, 4, 10)
    services.set_threshold("item", a.case["item_code"], 60, 1, region=org["a"])
    assert yellow_on(a) == D(2026, 4, 8)


def test_a_county_switches_a_red_detector_off_for_its_cases_only(pair, org):
    a, b = pair
    services.set_detector("ACCEPTANCE_LATE", False, {"days": 5}, region=org["a"])
    first = sweep(D(2026, 4, 13), emit_alerts=False)
    assert first.red == 1
    assert signals(a, "red") == [] and signals(b, "red") == ["ACCEPTANCE_LATE"]
    assert sweep(D(2026, 4, 13), emit_alerts=False).red == 0
    assert services.clear_detector("ACCEPTANCE_LATE", org["a"]) is True
    assert services.clear_detector("ACCEPTANCE_LATE", org["a"]) is False
    assert sweep(D(2026, 4, 13), emit_alerts=False).red == 1
    assert signals(a, "red") == ["ACCEPTANCE_LATE"]
    again = sweep(D(2026, 4, 13), emit_alerts=False)
    assert (again.yellow, again.red) == (0, 0)


def test_a_county_switches_on_what_the_city_switched_off_and_regions_below_follow(
        feed, events, org):
    below = Region.create(code="510104001", name="春熙路街道", level="county",
                          parent=org["a"])
    a = events(region_code="510104", submitted="2026-04-02 09:00")
    low = events(region_code=below.code, submitted="2026-04-02 09:00")
    b = events(region_code="510105", submitted="2026-04-02 09:00")
    feed(*(e.make("submitted", "2026-04-02 09:00") for e in (a, low, b)))
    services.set_detector("ACCEPTANCE_LATE", False, {"days": 5})
    services.set_detector("ACCEPTANCE_LATE", True, {"days": 5}, region=org["a"])
    assert sweep(D(2026, 4, 13), emit_alerts=False).red == 2
    assert [bool(signals(e, "red")) for e in (a, low, b)] == [True, True, False]
    assert sweep(D(2026, 4, 13), emit_alerts=False).red == 0


def test_effective_settings_name_where_they_come_from(app, org):
    services.set_detector("SUPPLEMENT_VIOLATION", True, {"days": 7})
    services.set_detector("OFF_SYSTEM_HANDLING", False, {"minutes": 30}, region=org["a"])
    city = regional.Detectors().for_region(None)
    county = regional.Detectors().for_region(org["a"].id)
    assert city["SUPPLEMENT_VIOLATION"] == regional.Resolved(True, {"days": 7}, None)
    assert county["SUPPLEMENT_VIOLATION"].source is None
    assert city["ILLEGAL_FEE"].source == regional.BUILTIN
    off = county["OFF_SYSTEM_HANDLING"]
    assert (off.enabled, off.source) == (False, org["a"].id)
    assert off.params == {"min_steps": 2, "minutes": 30, "late_hours": 24}
    assert services.detector_settings(org["b"].id)["OFF_SYSTEM_HANDLING"][0] is True
    with pytest.raises(ValueError, match="override can be cleared"):
        services.clear_detector("OFF_SYSTEM_HANDLING", org["city"])


def test_stall_days_per_county(feed, events, org):
    services.set_detector("CASE_STALLED", True, {"days": 5}, region=org["a"])
    a = events(region_code="510104", submitted="2026-04-07 09:00")
    b = events(region_code="510105", submitted="2026-04-07 09:00")
    feed(a.make("submitted", "2026-04-07 09:00"), b.make("submitted", "2026-04-07 09:00"))
    sweep(D(2026, 4, 10))  # 8, 9, 10 Apr: three working days
    stalled = [al.subject for al in Alert.select().where(Alert.kind == STALLED_KIND)]
    assert len(stalled) == 1 and b.case["serial"] in stalled[0]
    sweep(D(2026, 4, 14))  # five working days
    assert Alert.select().where(Alert.kind == STALLED_KIND).count() == 2


def test_handler_absence_checked_per_county(feed, events, org):
    from core.org.models import PostHolding
    services.set_detector("HANDLER_ABSENT", False, {}, region=org["b"])
    a = events(region_code="510104", submitted="2026-10-09 09:00",
               handler_post_id=org["clerk_a"].id)
    b = events(region_code="510105", submitted="2026-10-09 09:00",
               handler_post_id=org["clerk_b"].id)
    feed(a.make("submitted", "2026-10-09 09:00"), b.make("submitted", "2026-10-09 09:00"))
    PostHolding.update(end=D(2026, 10, 8)).where(
        PostHolding.post.in_([org["clerk_a"], org["clerk_b"]])).execute()
    sweep(D(2026, 10, 9))
    absent = [al.subject for al in Alert.select().where(Alert.kind == ABSENT_KIND)]
    assert len(absent) == 1 and a.case["serial"] in absent[0]
    services.clear_detector("HANDLER_ABSENT", org["b"])
    sweep(D(2026, 10, 9))
    assert Alert.select().where(Alert.kind == ABSENT_KIND).count() == 2


def test_threshold_input_is_checked(app, org):
    with pytest.raises(ValueError, match="scope must be"):
        services.set_threshold("everything", "", 50, 1)
    with pytest.raises(ValueError, match="key is required"):
        services.set_threshold("item", " ", 50, 1, region=org["a"])
    with pytest.raises(ValueError, match="share_percent"):
        services.set_threshold("all", "", 0, 1, region=org["a"])
    assert Threshold.select().count() == 0


# -- the settings pages: scope and permission -------------------------------------------
def token(client, path):
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_a_county_supervisor_edits_only_the_county(client, login, make_user, org):
    a, b = org["a"].id, org["b"].id
    sup = make_user("sup_a", role="supervisor", region=org["a"])
    login(sup)
    resp = client.get("/esupervision/settings")
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith(f"/esupervision/settings/regions/{a}")
    page = client.get(f"/esupervision/settings/regions/{a}").get_data(as_text=True)
    assert "锦江区" in page and "Built-in default" in page and "Set for" not in page
    csrf = token(client, f"/esupervision/settings/regions/{a}")
    services.set_threshold("item_type", "XK", 70, 1)
    city_row = Threshold.get(Threshold.region.is_null())
    events_before = AuditEvent.select().count()
    for path, data in [
            (f"/esupervision/settings/regions/{b}", None),
            ("/esupervision/settings/detectors/ILLEGAL_FEE", {}),
            (f"/esupervision/settings/regions/{b}/detectors/ILLEGAL_FEE", {}),
            (f"/esupervision/settings/regions/{b}/detectors/ILLEGAL_FEE/clear", {}),
            (f"/esupervision/settings/regions/{b}",
             {"scope": "all", "key": "", "share_percent": "50", "days_left": "1"}),
            ("/esupervision/settings",
             {"scope": "all", "key": "", "share_percent": "50", "days_left": "1"}),
            (f"/esupervision/settings/thresholds/{city_row.id}/delete", {})]:
        if data is None:
            resp = client.get(path)
        else:
            resp = client.post(path, data={"csrf_token": csrf, **data})
        assert resp.status_code in (403, 404), path  # 403: a city-wide setting
    assert AuditEvent.select().count() == events_before
    assert DetectorSetting.select().count() == 0 and Threshold.select().count() == 1

    resp = client.post(f"/esupervision/settings/regions/{a}/detectors/ILLEGAL_FEE",
                       data={"csrf_token": csrf})
    assert resp.status_code == 303
    row = DetectorSetting.get(DetectorSetting.code == "ILLEGAL_FEE")
    assert row.region_id == a and not row.enabled
    page = client.get(f"/esupervision/settings/regions/{a}").get_data(as_text=True)
    assert "Set for 锦江区" in page and "Clear override" in page
    resp = client.post(f"/esupervision/settings/regions/{a}",
                       data={"csrf_token": csrf, "scope": "item_type", "key": "XK",
                             "share_percent": "60", "days_left": "2"})
    assert resp.status_code == 303
    own = Threshold.get(Threshold.region == a)
    assert (own.share_percent, own.days_left) == (60, 2)
    bad = client.post(f"/esupervision/settings/regions/{a}",
                      data={"csrf_token": csrf, "scope": "item_type", "key": "XK",
                            "share_percent": "170", "days_left": "2"})
    assert bad.status_code == 422 and Threshold.get(Threshold.region == a).share_percent == 60
    resp = client.post(f"/esupervision/settings/regions/{a}/detectors/ILLEGAL_FEE/clear",
                       data={"csrf_token": csrf})
    assert resp.status_code == 303 and DetectorSetting.select().count() == 0
    resp = client.post(f"/esupervision/settings/thresholds/{own.id}/delete",
                       data={"csrf_token": csrf})
    assert resp.status_code == 303 and Threshold.select().count() == 1
    audit = [(e.action, e.region_id) for e in AuditEvent.select()
             .where(AuditEvent.action.startswith("esupervision.")
                    & (AuditEvent.user_id == sup.id)).order_by(AuditEvent.id)]
    assert audit == [("esupervision.detector.update", a),
                     ("esupervision.threshold.update", a),
                     ("esupervision.detector.clear", a),
                     ("esupervision.threshold.delete", a)]


def test_the_city_supervisor_edits_defaults_and_any_county(client, login, make_user, org):
    a = org["a"].id
    login(make_user("sup_city", role="supervisor", region=org["city"]))
    page = client.get("/esupervision/settings").get_data(as_text=True)
    assert "锦江区" in page and "青羊区" in page
    csrf = token(client, "/esupervision/settings")
    assert client.get(f"/esupervision/settings/regions/{org['city'].id}").status_code == 200
    resp = client.post("/esupervision/settings/detectors/ILLEGAL_FEE",
                       data={"csrf_token": csrf})
    assert resp.status_code == 303
    resp = client.post(f"/esupervision/settings/regions/{a}/detectors/ILLEGAL_FEE",
                       data={"csrf_token": csrf, "enabled": "y"})
    assert resp.status_code == 303
    rows = {r.region_id: r.enabled for r in DetectorSetting.select()}
    assert rows == {None: False, a: True}
    page = client.get(f"/esupervision/settings/regions/{a}").get_data(as_text=True)
    assert "Set for 锦江区" in page
    page = client.get(f"/esupervision/settings/regions/{org['b'].id}").get_data(as_text=True)
    assert "City default" in page


def test_staff_cannot_reach_county_settings(client, login, make_user, org):
    login(make_user("clerk_a", role="staff", region=org["a"]))
    assert client.get(f"/esupervision/settings/regions/{org['a'].id}").status_code == 403


# -- the migration: what was stored stays the city default -------------------------------
def test_existing_settings_stay_the_city_default(app, tmp_path):
    from playhouse.migrations import Runner

    from core.db import make_database
    from core.migrate import CORE_CHAIN
    from tests.conftest import ON_POSTGRES, pg_admin, pg_url
    if ON_POSTGRES:
        name = f"ql_esr_{uuid.uuid4().hex[:8]}"
        admin = pg_admin()
        admin.execute_sql(f'CREATE DATABASE "{name}"')
        target = make_database(pg_url(name), pooled=False)
    else:
        admin, target = None, make_database(f"sqlite:///{tmp_path / 'm.db'}", pooled=False)
    chain = str(Path(services.__file__).parent / "migrations")
    try:
        Runner(target, str(CORE_CHAIN[1]), table_name="migrations_core").up()
        es = Runner(target, chain, table_name="migrations_esupervision")
        es.up(target="0005_evaluation_accountability")
        target.execute_sql("INSERT INTO detector_setting (code, enabled, params, updated_at) "
                           "VALUES ('ILLEGAL_FEE', %s, '{}', '2026-01-01 00:00:00')"
                           % ("false" if ON_POSTGRES else "0"))
        target.execute_sql("INSERT INTO threshold (scope, key, share_percent, days_left, "
                           "updated_at) VALUES ('item_type', 'XK', 70, 2, "
                           "'2026-01-01 00:00:00')")
        es.up()
        with target.bind_ctx([Region, DetectorSetting, Threshold]):
            (row,) = DetectorSetting.select()
            assert row.region_id is None and not row.enabled
            (thr,) = Threshold.select()
            assert thr.region_id is None and (thr.share_percent, thr.days_left) == (70, 2)
            from peewee import IntegrityError
            with pytest.raises(IntegrityError), target.atomic():
                DetectorSetting.create(code="ILLEGAL_FEE", enabled=True, params="{}")
    finally:
        target.close()
        if admin is not None:
            admin.execute_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.close()


def test_settings_services_check_the_level_not_only_the_views(app, org, make_user):
    """A county grant changes its county's overrides, never the city defaults or another
    county's — in the service, whatever view calls it."""
    import pytest

    from core.errors import AccessDenied
    from plugins.esupervision import evaluation, services
    from plugins.esupervision.models import DetectorSetting, Threshold
    county = make_user("sup_a", role="supervisor", region=org["a"])
    city = make_user("sup_city", role="supervisor", region=org["city"])
    with pytest.raises(AccessDenied):
        services.set_detector("ILLEGAL_FEE", False, {}, user=county, region=None)
    with pytest.raises(AccessDenied):
        services.set_detector("ILLEGAL_FEE", False, {}, user=county, region=org["b"])
    with pytest.raises(AccessDenied):
        services.set_threshold("all", "", 60, 1, user=county, region=None)
    with pytest.raises(AccessDenied):
        evaluation.set_config(dict(evaluation.config()), county)
    assert not DetectorSetting.select().exists() and not Threshold.select().exists()
    services.set_detector("ILLEGAL_FEE", False, {}, user=county, region=org["a"])
    city_default = services.set_threshold("all", "", 60, 1, user=city, region=None)
    with pytest.raises(AccessDenied):
        services.delete_threshold(city_default.id, user=county)
    own = services.set_threshold("all", "", 50, 1, user=county, region=org["a"])
    services.delete_threshold(own.id, user=county)
    assert [t.id for t in Threshold.select()] == [city_default.id]
