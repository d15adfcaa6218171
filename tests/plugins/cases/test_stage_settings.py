"""This deployment's stage limits, extensions and gates: set city-wide by case management
(a county's grant: 403, nothing written), every bad value 422 naming its field, audited;
a case entering, extending or leaving a stage follows the setting."""
from __future__ import annotations

import re

import pytest


@pytest.fixture
def city_manager(world, make_user):
    return make_user("ag_city", role="cases_management", region=world.city)


def _snapshot():
    from core.audit.models import AuditEvent
    from plugins.cases.models import StageSetting
    return ([(r.stage, r.days, r.extension_days, r.gate) for r in StageSetting.select()],
            AuditEvent.select().count())


def test_the_setting_drives_the_limit_the_extension_and_the_gate(app, world, city_manager):
    from core.api import add_workdays
    from core.audit.models import AuditEvent
    from plugins.cases import casework, stage_settings
    stage_settings.save(city_manager, "verify", "40", "0", ["verify_report", "other"])
    event = AuditEvent.get(AuditEvent.action == "cases.stage_setting.save")
    assert "40" in event.summary and "days" in (event.changes or "")
    case = world.case()
    assert case.stage_due == add_workdays(case.stage_started_on, 40)
    assert casework.missing(case) == ["verify_report", "other"]
    from core.api import FieldError
    with pytest.raises(FieldError):  # extension 0: cannot be extended
        casework.extend(world.leader, case, "需要延期")
    assert stage_settings.effective("filing").days == 10  # untouched: the default


def test_a_county_grant_never_changes_the_city_wide_setting(app, world):
    from core.api import AccessDenied
    from plugins.cases import stage_settings
    before = _snapshot()
    with pytest.raises(AccessDenied):
        stage_settings.save(world.management, "verify", "40", "10", ["verify_report"])
    assert _snapshot() == before


@pytest.mark.parametrize("stage,days,ext,gate,field", [
    ("nope", "40", "0", ["verify_report"], "stage"),
    ("verify", "0", "0", ["verify_report"], "days"),
    ("verify", "366", "0", ["verify_report"], "days"),
    ("verify", "abc", "0", ["verify_report"], "days"),
    ("verify", "40", "-1", ["verify_report"], "extension_days"),
    ("verify", "40", "0", [], "gate"),
    ("verify", "40", "0", ["forged"], "gate"),
])
def test_bad_values_name_the_field_and_write_nothing(app, world, city_manager, stage, days,
                                                     ext, gate, field):
    from core.api import FieldError
    from plugins.cases import stage_settings
    before = _snapshot()
    with pytest.raises(FieldError) as exc:
        stage_settings.save(city_manager, stage, days, ext, gate)
    assert field in exc.value.errors
    assert _snapshot() == before


@pytest.mark.parametrize("lang,word", [("zh_CN", "时限"), ("en", "time limits")])
def test_the_page(app, client, world, city_manager, login, lang, word):
    from plugins.cases.models import StageSetting
    login(city_manager)
    with client.session_transaction() as s:
        s["locale"] = lang
    html = client.get("/cases/settings/stages").get_data(as_text=True)
    assert word in html
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    bad = client.post("/cases/settings/stages/verify", data={
        "csrf_token": token, "verify-days": "x", "verify-extension_days": "0",
        "verify-gate": "verify_report"})
    assert bad.status_code == 422 and StageSetting.select().count() == 0
    ok = client.post("/cases/settings/stages/verify", data={
        "csrf_token": token, "verify-days": "45", "verify-extension_days": "15",
        "verify-gate": ["verify_report", "other"]})
    assert ok.status_code == 303
    assert StageSetting.get().days == 45
    county = app.test_client()
    login(world.management, c=county)
    html = county.get("/cases/settings/stages").get_data(as_text=True)
    assert "/cases/settings/stages/verify" not in html and "45" in html
    county_token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    assert county.post("/cases/settings/stages/verify", data={
        "csrf_token": county_token, "verify-days": "30", "verify-extension_days": "0",
        "verify-gate": "verify_report"}).status_code == 403
    assert StageSetting.get().days == 45
