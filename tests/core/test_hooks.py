"""One test per hook (``test_hook_<name>``; tests/core/test_docs.py fails when a specified
hook has none), and the host's calling rules: every hook goes through pluggy's own hook
caller, so wrappers, tryfirst and firstresult behave as pluggy documents, and the
per-region switch still skips a plugin switched off there.

Throw-away plugins are objects registered for one test (Datasette's idiom) or, for hooks
read while the app is built, handed to the factory as ``extra_core``/``available_plugins``."""
from __future__ import annotations

import sys
import types
from dataclasses import replace

import pluggy
import pytest
from flask import Blueprint

from core import hookimpl
from core.api import call_hook, hookspec
from core.db import db
from core.plugins import host, installed_plugins
from tests.conftest import STRONG, running_app

SAMPLE = {"sample": "tests.sample_plugin"}


@pytest.fixture
def sample_app(settings):
    """Every installed plugin and the sample plugin, their chains applied, roles synced."""
    from core import migrate
    from core.auth.roles import sync_builtin_roles
    with running_app(settings, available_plugins={**installed_plugins(), **SAMPLE}) as app:
        migrate.upgrade(host())
        sync_builtin_roles(host())
        yield app


@pytest.fixture
def registered(app):
    """register(obj) adds a throw-away plugin to the running app; removed afterwards."""
    added = []

    def register(obj, name: str):
        host().pm.register(obj, name=name)
        added.append(obj)
        return obj
    yield register
    for obj in added:
        host().pm.unregister(obj)


def _region_and_user(username: str = "u", role: str = "staff"):
    from core.auth.service import create_user
    from core.org.models import Region
    city = Region.create(code="510100", name="成都市", level="city")
    county = Region.create(code="510104", name="锦江区", parent=city)
    user = create_user(username, STRONG, role=role, region_code=county.code, must_change=False)
    return city, county, user


def _login(app, username: str):
    import re
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"',
                      client.get("/login").get_data(as_text=True)).group(1)
    resp = client.post("/login", data={"username": username, "password": STRONG,
                                       "csrf_token": token})
    assert resp.status_code == 303
    return client


# -- the calling rules ----------------------------------------------------------------
class Picks:
    """A plugin's own hookspecs, as a plugin's hookspecs.py would hold them."""

    @hookspec(firstresult=True)
    def ql_test_pick(self, region):
        """Who handles it: the first answer wins."""

    @hookspec
    def ql_test_list(self, region):
        """Everyone answers."""


def _answer(value, **opts):
    class Impl:
        @hookimpl(**opts)
        def ql_test_pick(self, region):
            return value

        @hookimpl
        def ql_test_list(self, region):
            return value
    return Impl()


def test_hooks_go_through_pluggy_wrappers_firstresult_and_the_region_switch(sample_app):
    from core.models import PluginSwitch
    _city, county, _user = _region_and_user()
    pm = host().pm
    pm.add_hookspecs(Picks)
    seen = []

    class Wrapper:
        @hookimpl(wrapper=True)
        def ql_test_list(self, region):
            result = yield
            seen.append(list(result))
            return [r.upper() for r in result]

    plugins = {"first-answer": _answer("early", tryfirst=True), "late-answer": _answer("late"),
               "wrapper": Wrapper()}
    for name, obj in plugins.items():
        pm.register(obj, name=name)
    try:
        assert call_hook("ql_test_pick", region=county) == "early"  # tryfirst, firstresult
        assert sorted(call_hook("ql_test_list", region=county)) == ["EARLY", "LATE"]
        assert sorted(seen[-1]) == ["early", "late"]  # the wrapper saw the real results
        PluginSwitch.create(plugin="first-answer", region=county)
        assert call_hook("ql_test_pick", region=county) == "late"  # off in the county
        assert call_hook("ql_test_list", region=county) == ["LATE"]
        assert host().each("ql_test_list", region=county) == [("late-answer", "late")]
        assert host().call_one("first-answer", "ql_test_pick", region=county) == "early"
    finally:
        for obj in plugins.values():
            pm.unregister(obj)


def test_an_argument_a_hook_does_not_pass_fails_loudly(app):
    class AsksTooMuch:
        @hookimpl
        def ql_public_links(self, region):
            return []
    with pytest.raises(pluggy.PluginValidationError, match="region"):
        host().pm.register(AsksTooMuch(), name="asks-too-much")


# -- one test per hook ------------------------------------------------------------------
def test_hook_ql_plugin_info(sample_app):
    record = host().records["sample"]
    assert (record.version, record.label, record.description) == ("9.9", "Sample", "for tests")
    listing = sample_app.test_cli_runner().invoke(args=["plugins", "list"])
    assert listing.exit_code == 0 and "9.9" in listing.output


def test_hook_ql_migrations(sample_app):
    from core import migrate
    from tests.sample_plugin import SampleNote
    chains = dict(migrate.chains(host()))
    assert chains["sample"].name == "migrations" and SampleNote.table_exists()
    status = {s.component: s for s in migrate.status(host())}
    assert status["sample"].applied == ["0001_sample"]


def test_hook_ql_models(sample_app):
    from tests.sample_plugin import SampleNote
    models = host().collect("ql_models")
    assert SampleNote in models
    assert len(models) == len(set(models))


def test_hook_ql_blueprints(sample_app):
    """A plugin's blueprints are served; a ``public_`` one needs no login; both belong to
    the plugin, so they answer 404 where it is switched off."""
    assert sample_app.test_client().get("/public/sample/").get_data(as_text=True) == \
        "sample public page"
    assert sample_app.test_client().get("/sample/").status_code == 302  # to the login
    owners = sample_app.extensions["qinglian.blueprint_owner"]
    assert owners["sample"] == owners["public_sample"] == "sample"


def test_hook_ql_permissions(sample_app):
    from core.auth.roles import declared_permissions
    assert str(declared_permissions(host())["sample.read"]) == "Read samples"


def test_hook_ql_roles(sample_app):
    from core.auth.models import Role
    from core.auth.scope import permissions
    _city, _county, user = _region_and_user()
    staff = Role.get(Role.code == "staff")
    assert "sample.read" in {p.permission for p in staff.permissions}
    assert "sample.read" in permissions(user)


def test_hook_ql_nav_items(sample_app):
    """Menu entries show to users holding their permission, in the regions where the
    plugin runs."""
    from core.auth.service import create_user
    from core.models import PluginSwitch
    _city, county, _user = _region_and_user()
    create_user("clerk", STRONG, role="clerk", region_code=county.code, must_change=False)
    staff, clerk = _login(sample_app, "u"), _login(sample_app, "clerk")
    assert "Sample menu" in staff.get("/dashboard").get_data(as_text=True)
    assert "Sample menu" not in clerk.get("/dashboard").get_data(as_text=True)  # no sample.read
    PluginSwitch.create(plugin="sample", region=county)
    assert "Sample menu" not in staff.get("/dashboard").get_data(as_text=True)


def test_hook_ql_dashboard_widgets(sample_app):
    from core.models import PluginSwitch
    _city, county, _user = _region_and_user()
    staff = _login(sample_app, "u")
    assert "sample widget body" in staff.get("/dashboard").get_data(as_text=True)
    PluginSwitch.create(plugin="sample", region=county)
    assert "sample widget body" not in staff.get("/dashboard").get_data(as_text=True)


def test_hook_ql_public_links(sample_app):
    html = sample_app.test_client().get("/public/").get_data(as_text=True)
    assert "Sample public" in html and "/public/sample/" in html


class Pigeon:
    """A delivery channel of a throw-away plugin: keeps what it was asked to send."""

    code, label = "pigeon", "Carrier pigeon"

    def __init__(self):
        self.sent: list[tuple[str, str]] = []

    def configured(self, settings) -> bool:
        return True

    def available(self, user, settings) -> bool:
        return True

    def send(self, notification, recipient) -> None:
        self.sent.append((notification.alert.subject, recipient.username))


def _kinds(*kinds):
    class Kinds:
        @staticmethod
        @hookimpl
        def ql_alert_kinds():
            return list(kinds)
    return Kinds


def test_hook_ql_alert_kinds(settings):
    """A plugin's alert kind can be raised with its level; a kind with an unknown level
    is refused, and so is a kind nobody declared."""
    kind = {"code": "test.deadline", "label": "Deadline", "level": "yellow",
            "escalate_after_hours": 4}
    with running_app(settings, extra_core=[_kinds(kind)]):
        from core.alerts import service
        _city, county, user = _region_and_user("wang")
        with db.atomic():
            alert = service.emit("test.deadline", county, "临近时限", target_user=user)
        assert (alert.kind, alert.level) == ("test.deadline", "yellow")
        assert alert.escalate_at is not None
        with pytest.raises(service.AlertError, match="Unknown alert kind"):
            service.emit("test.nobody", county, "x", target_user=user)
    bad = dict(kind, code="test.bad", level="purple")
    with running_app(replace(settings), extra_core=[_kinds(bad)]):
        from core.alerts import service
        with pytest.raises(service.AlertError, match="level must be one of"):
            service.kinds()


def test_hook_ql_alert_channels(settings):
    """A channel a plugin brings delivers the notifications of a kind that names it."""
    pigeon = Pigeon()
    kind = {"code": "test.pigeon", "label": "By pigeon", "level": "reminder",
            "escalate_after_hours": 0, "channels": ["pigeon"]}

    class Channels:
        @staticmethod
        @hookimpl
        def ql_alert_channels():
            return [pigeon]

    with running_app(settings, extra_core=[_kinds(kind), Channels]):
        from core.alerts import outbox, service
        _city, county, user = _region_and_user("wang")
        with db.atomic():
            alert = service.emit("test.pigeon", county, "到场提醒", target_user=user)
        assert "pigeon" in {n.channel for n in alert.notifications}
        outbox.dispatch()
        assert pigeon.sent == [("到场提醒", "wang")]
        assert {"inbox", "email", "sms", "webhook", "pigeon"} <= set(service.channels())


def test_hook_ql_periodic_tasks(sample_app):
    """What the worker does when it starts, for the sample plugin alone (the built-in
    plugins' jobs are registered once a process, by their own tests)."""
    from core.queue import DECLARED, huey
    host().call_one("sample", "ql_periodic_tasks", huey=huey)
    assert "sample.tick" in [t.__name__ for t in huey._registry._periodic_tasks]
    assert "sample.tick" in DECLARED


def test_hook_ql_handle_event(registered):
    from core.api import publish
    received = []

    class Subscriber:
        @hookimpl
        def ql_handle_event(self, name, payload):
            received.append((name, payload))

        @hookimpl
        def ql_public_links(self):
            return None  # a None answer is left out of the results
    registered(Subscriber(), "subscriber")
    publish("test.thing.happened", {"id": 7})
    assert ("test.thing.happened", {"id": 7}) in received
    assert None not in host().call("ql_public_links")

    class Refuses:
        @hookimpl
        def ql_handle_event(self, name, payload):
            raise ValueError("no")  # a subscriber's error aborts the publisher's work
    registered(Refuses(), "refuses")
    with pytest.raises(ValueError):
        publish("test.thing.happened", {"id": 8})


def test_hook_ql_demo_data(settings):
    seeded = []

    class Seeder:
        @staticmethod
        @hookimpl
        def ql_demo_data(size):
            seeded.append(size)

    with running_app(replace(settings, plugins=()), extra_core=[Seeder]) as app:
        from core import demo
        lines = demo.seed(host(), "small")
        assert seeded == ["small"] and any("demo data of Seeder" in line for line in lines)
        demo.seed(host(), "small", plugins=False)
        assert seeded == ["small"]
        assert app.test_cli_runner().invoke(args=["demo", "seed", "--size", "small"]) \
            .exit_code == 0
        assert seeded == ["small", "small"]


def test_hook_ql_cli(sample_app):
    result = sample_app.test_cli_runner().invoke(args=["sample-hello"])
    assert result.exit_code == 0 and result.output.strip() == "hello from sample"


def test_hook_ql_account_kinds(settings):
    outside = Blueprint("visitors", __name__, url_prefix="/visitors")

    @outside.route("/")
    def home():
        return "visitor home"

    class Visitors:
        @staticmethod
        @hookimpl
        def ql_account_kinds():
            return [{"code": "visitor", "label": "Visitor", "home": "visitors.home"}]

        @staticmethod
        @hookimpl
        def ql_blueprints():
            return [outside]

    with running_app(settings, extra_core=[Visitors]):
        from core.api import AuthError, create_external_account, kind_of
        from core.org.models import Region
        Region.create(code="510100", name="成都市", level="city")
        user = create_external_account("guest", STRONG, kind="visitor", email="g@example.org")
        assert kind_of(user) == "visitor"
        with pytest.raises(AuthError):
            create_external_account("guest2", STRONG, kind="martian", email="m@example.org")


def test_hook_ql_audit_actions(settings):
    """A plugin's action labels reach the audit viewer; an undeclared action shows its code."""
    class Actions:
        @staticmethod
        @hookimpl
        def ql_audit_actions():
            return {"test.thing.done": "Thing done"}

    with running_app(settings, extra_core=[Actions]):
        from core.audit.labels import action_label
        assert action_label("test.thing.done") == "Thing done"
        assert action_label("auth.login") == "Login"
        assert action_label("test.unknown") == "test.unknown"


def _hookspec_module(name: str) -> types.ModuleType:
    """A throw-away plugin module with its own hookspecs (a hook only it calls)."""
    specs = types.ModuleType(f"{name}_hookspecs")

    @hookspec
    def ql_greeting_extras():
        """Extra greetings for the greeter plugin."""
    specs.ql_greeting_extras = ql_greeting_extras

    plugin = types.ModuleType(name)

    @hookimpl
    def ql_hookspecs():
        return specs
    plugin.ql_hookspecs = ql_hookspecs
    return plugin


def test_hook_ql_hookspecs(settings, monkeypatch):
    """A plugin's own hook is specified when that plugin loads and only then: another
    plugin implements it ``optionalhook`` and still loads where the first is off; without
    optionalhook it fails loudly (a misspelt hook is an error, not silence)."""
    monkeypatch.setitem(sys.modules, "greeter", _hookspec_module("greeter"))
    extra = types.ModuleType("greeted")

    @hookimpl(optionalhook=True)
    def ql_greeting_extras():
        return ["你好"]
    extra.ql_greeting_extras = ql_greeting_extras
    monkeypatch.setitem(sys.modules, "greeted", extra)
    plugins = {"greeter": "greeter", "greeted": "greeted"}
    with running_app(settings, available_plugins=plugins):
        assert host().pm.hook.ql_greeting_extras.spec is not None
        assert call_hook("ql_greeting_extras") == [["你好"]]
    with running_app(replace(settings, plugins=("greeted",)), available_plugins=plugins):
        assert host().pm.hook.ql_greeting_extras.spec is None  # loads, unused
    strict = types.ModuleType("strict")

    @hookimpl
    def ql_greeting_extra():  # misspelt and not optional
        return []
    strict.ql_greeting_extra = ql_greeting_extra
    monkeypatch.setitem(sys.modules, "strict", strict)
    from core.app import create_app
    with pytest.raises(pluggy.PluginValidationError, match="ql_greeting_extra"):
        create_app(settings, available_plugins={**plugins, "strict": "strict"})
