"""The plugin host: discovery, the enabled set, per-region switches, hooks, migrations."""
import sys
from dataclasses import replace

import pytest

from core import migrate
from core.app import create_app
from core.db import db
from core.plugins import PluginError, installed_plugins
from tests.conftest import STRONG, make_settings

SAMPLE = {"sample": "tests.sample_plugin"}


@pytest.fixture
def sample_app(settings):
    """The app with the sample plugin added to what is installed; its chain applied."""
    application = create_app(settings, available_plugins={**installed_plugins(), **SAMPLE})
    application.config.update(TESTING=True)
    with application.app_context():
        db.connect(reuse_if_open=True)
        migrate.upgrade(application.extensions["qinglian.plugins"])
        from core.auth.roles import sync_builtin_roles
        sync_builtin_roles(application.extensions["qinglian.plugins"])
        yield application
        if not db.is_closed():
            db.close()


def _login(app, username):
    import re
    c = app.test_client()
    html = c.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    resp = c.post("/login", data={"username": username, "password": STRONG,
                                  "csrf_token": token})
    assert resp.status_code == 303
    return c


def _org():
    from core.org.models import Region
    city = Region.create(code="510100", name="成都市", level="city")
    a = Region.create(code="510104", name="锦江区", parent=city)
    b = Region.create(code="510105", name="青羊区", parent=city)
    return city, a, b


def test_enabling_a_plugin_later_adds_its_tables(sample_app):
    from tests.sample_plugin import SampleNote
    assert SampleNote.table_exists()
    status = {s.component: s for s in migrate.status(sample_app.extensions["qinglian.plugins"])}
    assert status["sample"].applied == ["0001_sample"] and status["sample"].pending == []
    assert status["core"].pending == []


def test_plugin_pages_menu_widget_and_switch_per_region(sample_app):
    from core.auth.service import create_user
    from core.models import PluginSwitch
    from tests.sample_plugin import SampleNote
    with sample_app.app_context():
        city, a, b = _org()
        create_user("ua", STRONG, role="staff", region_code=a.code, must_change=False)
        create_user("ub", STRONG, role="staff", region_code=b.code, must_change=False)
        SampleNote.create(text="kept", region_id=a.id)
    ca, cb = _login(sample_app, "ua"), _login(sample_app, "ub")
    assert ca.get("/sample/").status_code == 200
    page = ca.get("/dashboard").get_data(as_text=True)
    assert "Sample menu" in page and "sample widget body" in page
    with sample_app.app_context():
        PluginSwitch.create(plugin="sample", region=a)
    assert ca.get("/sample/").status_code == 404
    page = ca.get("/dashboard").get_data(as_text=True)
    assert "Sample menu" not in page and "sample widget body" not in page
    # the other county keeps it; the data stays
    assert cb.get("/sample/").status_code == 200
    with sample_app.app_context():
        from core.plugins import regions_enabled
        assert SampleNote.select().count() == 1
        ids = regions_enabled("sample")
        assert a.id not in ids and b.id in ids and city.id in ids


def test_switching_off_a_parent_region_covers_its_children(sample_app):
    from core.auth.service import create_user
    from core.models import PluginSwitch
    with sample_app.app_context():
        city, a, _b = _org()
        create_user("ua", STRONG, role="staff", region_code=a.code, must_change=False)
        PluginSwitch.create(plugin="sample", region=city)
    assert _login(sample_app, "ua").get("/sample/").status_code == 404


def test_admin_switches_a_plugin_off_for_a_county(sample_app):
    import re

    import pyotp

    from core.auth.models import User
    from core.auth.service import create_user
    from core.models import PluginSwitch
    with sample_app.app_context():
        city, a, _b = _org()
        create_user("admin", STRONG, role="sys_admin", region_code=city.code, must_change=False)
        secret = pyotp.random_base32()
        User.update(totp_secret=secret).where(User.username == "admin").execute()
    c = sample_app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"',
                      c.get("/login").get_data(as_text=True)).group(1)
    c.post("/login", data={"username": "admin", "password": STRONG, "csrf_token": token})
    token = re.search(r'name="csrf_token" value="([^"]+)"',
                      c.get("/login/totp").get_data(as_text=True)).group(1)
    c.post("/login/totp", data={"code": pyotp.TOTP(secret).now(), "csrf_token": token})
    token = re.search(r'"X-CSRFToken": "([^"]+)"',
                      c.get("/dashboard").get_data(as_text=True)).group(1)
    page = c.get("/admin/plugins").get_data(as_text=True)
    assert "Sample" in page and "9.9" in page
    resp = c.post(f"/admin/plugins/sample/regions/{a.id}", data={"state": "off"},
                  headers={"HX-Request": "true", "X-CSRFToken": token})
    assert resp.status_code == 200 and "toggle-off" in resp.get_data(as_text=True)
    with sample_app.app_context():
        assert PluginSwitch.select().where(PluginSwitch.region == a.id).count() == 1
    resp = c.post(f"/admin/plugins/sample/regions/{a.id}", data={"state": "maybe"},
                  headers={"X-CSRFToken": token})
    assert resp.status_code == 422
    assert c.post("/admin/plugins/nope/regions/1", data={"state": "off"},
                  headers={"X-CSRFToken": token}).status_code == 404


def test_disabled_plugin_routes_answer_404_and_are_not_imported(settings):
    app = create_app(replace(settings, plugins=()),
                     available_plugins={"ghost": "tests.no_such_module_anywhere"})
    assert app.extensions["qinglian.plugins"].records["ghost"].enabled is False
    assert "tests.no_such_module_anywhere" not in sys.modules
    app2 = create_app(replace(settings, plugins=()), available_plugins=SAMPLE)
    assert app2.test_client().get("/public/sample/").status_code == 404


def test_unknown_plugin_name_is_refused(settings):
    with pytest.raises(PluginError, match="unknown plugin.*nope"):
        create_app(replace(settings, plugins=("nope",)), available_plugins=SAMPLE)


def test_events_reach_subscribers(sample_app):
    from core.events import publish
    from tests.sample_plugin import RECEIVED
    RECEIVED.clear()
    with sample_app.app_context():
        publish("sample.thing", {"id": 1})
    assert RECEIVED == [("sample.thing", {"id": 1})]
    with sample_app.app_context(), pytest.raises(TypeError):
        publish("sample.bad", {"when": object()})


def test_public_links_and_cli_from_plugin(sample_app):
    html = sample_app.test_client().get("/public/").get_data(as_text=True)
    assert "Sample public" in html
    result = sample_app.test_cli_runner().invoke(args=["sample-hello"])
    assert result.output.strip() == "hello from sample"
    listing = sample_app.test_cli_runner().invoke(args=["plugins", "list"])
    assert listing.exit_code == 0
    assert "sample" in listing.output and "9.9" in listing.output and "yes" in listing.output


def test_cli_switch_and_list_show_where_it_is_off(sample_app):
    with sample_app.app_context():
        _org()
    runner = sample_app.test_cli_runner()
    r = runner.invoke(args=["plugins", "switch", "sample", "off", "--region", "510104"])
    assert r.exit_code == 0, r.output
    listing = runner.invoke(args=["plugins", "list"]).output
    assert "510104" in listing
    bad = runner.invoke(args=["plugins", "switch", "nope", "off", "--region", "510104"])
    assert bad.exit_code != 0 and "unknown plugin" in bad.output
    bad = runner.invoke(args=["plugins", "switch", "sample", "off", "--region", "999999"])
    assert bad.exit_code != 0 and "unknown region" in bad.output


PLUGIN_SETS = [()] + [(name,) for name in sorted(installed_plugins())]


@pytest.mark.parametrize("enabled", PLUGIN_SETS, ids=lambda s: "+".join(s) or "no-plugins")
def test_app_runs_with_no_plugin_and_each_plugin_alone(tmp_path, enabled):
    """Build the schema from scratch with only ``enabled`` and use the shell."""
    from tests.conftest import build_schema
    settings = make_settings(tmp_path, plugins=enabled)
    build_schema(settings)
    app = create_app(settings)
    app.config.update(TESTING=True)
    with app.app_context(), db.connection_context():
        from core.auth.service import create_user
        _city, a, _b = _org()
        create_user("u", STRONG, role="staff", region_code=a.code, must_change=False)
        h = app.extensions["qinglian.plugins"]
        assert [r.name for r in h.records.values() if r.enabled] == list(enabled)
    c = _login(app, "u")
    assert c.get("/dashboard").status_code == 200
    assert c.get("/public/").status_code == 200
    assert c.get("/healthz").status_code == 200
    # every other installed plugin's routes are absent
    others = set(installed_plugins()) - set(enabled)
    prefixes = {rule.rule for rule in app.url_map.iter_rules()}
    for name in others:
        assert not any(p.startswith((f"/{name}", f"/public/{name}"))
                       for p in prefixes)
