"""The access matrix: every staff route of the core and of every enabled plugin, walked by
users granted only in county B, against records of county A.

A URL naming a county-A record answers 404 (or 403 when the role lacks the page); a whole
page the role lacks answers 403; nothing ever answers 200 with county A's names in it, and
no write reaches county A's records.

The walk is generic: routes added later are covered automatically. To cover a new route
argument with a real county-A record, add a factory to ``CORE_RECORDS`` (arg name -> ids of
records built in county A) — or, for a plugin, to ``A_RECORDS`` in its
``tests/plugins/<name>/matrix.py``, which also builds its county-A records; an argument the registry cannot fill gets a placeholder and
the route must still reveal nothing.
"""
from __future__ import annotations

import io
import itertools
import re

import pytest

from core.audit.models import AuditEvent
from core.auth.models import Grant, Role, RolePermission, UserSession
from core.auth.roles import declared_permissions
from core.org.models import Department, Person, Post, PostHolding
from core.plugins import host
from core.settings import ROOT
from tests.snapshot import table_digest

SKIP_ENDPOINTS = ("static", "auth.login", "auth.totp", "auth.logout", "web.healthz",
                  "web.healthz_jobs")
SKIP_PREFIXES = ("public",)
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
SECRET = "甲区机密"  # every county-A record built here carries this in its name


def _skipped(endpoint: str) -> bool:
    return (endpoint in SKIP_ENDPOINTS or endpoint.endswith(".static")
            or endpoint.split(".")[0].startswith(SKIP_PREFIXES))


def _build_county_a(org, make_user) -> dict:
    """Records of county A the walk points at; names carry SECRET so leaks are visible."""
    import datetime as dt
    a = org["a"]
    dept = Department.create(region=a, code="MX", name=f"{SECRET}审批局")
    post = Post.create(department=dept, title=f"{SECRET}审批岗", risk_level=3)
    user = make_user("a_secret_user", role="staff", region=a)
    Person.update(name=f"{SECRET}张三").where(Person.id == user.person_id).execute()
    holding = PostHolding.create(person=user.person_id, post=post, start=dt.date(2025, 1, 1))
    rec = {"region": a, "department": dept, "post": post, "user": user,
           "person": Person.get_by_id(user.person_id), "holding": holding,
           "grant": Grant.get(Grant.user == user.id)}
    try:
        from core.alerts.models import Notification
        from core.alerts.service import emit
        from core.db import db
        with db.atomic():
            rec["alert"] = emit("core.test", a, f"{SECRET}预警", target_post=post)
        # failed for good: the delivery problems page would list it, were it in scope
        Notification.update(state="failed", attempts=1, last_error=f"{SECRET}退信") \
            .where(Notification.alert == rec["alert"].id).execute()
        rec["notifications"] = list(rec["alert"].notifications)
    except ImportError:
        pass
    for matrix in _plugin_matrices().values():
        matrix.build(rec)
    return rec


def _enabled(name: str) -> bool:
    record = host().records.get(name)
    return bool(record and record.enabled)


def _plugin_matrices() -> dict:
    """plugin name -> its ``tests/plugins/<name>/matrix.py`` module (for enabled plugins that
    have one): ``build(rec)`` adds the plugin's county-A records to ``rec``, ``A_RECORDS``
    maps route arguments to their ids, ``EXPECTED_PREFIXES`` lists URL prefixes the walk
    must point at county A through."""
    import importlib
    out = {}
    for name, record in host().records.items():
        if not record.enabled:
            continue
        try:
            out[name] = importlib.import_module(f"tests.plugins.{name}.matrix")
        except ModuleNotFoundError as exc:
            if exc.name != f"tests.plugins.{name}.matrix":
                raise
    return out


# arg name -> ids (or names) of county-A records: the core's; each plugin's matrix.py adds
# its own (ids of several plugins under one argument name are all walked).
CORE_RECORDS = {
    "user_id": lambda r: [r["user"].id],
    "grant_id": lambda r: [r["grant"].id],
    "region_id": lambda r: [r["region"].id],
    "rid": lambda r: [r["region"].id],
    "person_id": lambda r: [r["person"].id],
    "pid": lambda r: [r["person"].id],
    "department_id": lambda r: [r["department"].id],
    "did": lambda r: [r["department"].id],
    "dept_id": lambda r: [r["department"].id],
    "post_id": lambda r: [r["post"].id],
    "hid": lambda r: [r["holding"].id],
    "holding_id": lambda r: [r["holding"].id],
    "alert_id": lambda r: [r["alert"].id] if "alert" in r else [],
    "notification_id": lambda r: [n.id for n in r.get("notifications", [])],
}


def a_records() -> dict:
    """The core's argument table merged with every enabled plugin's."""
    tables = [CORE_RECORDS, *[getattr(m, "A_RECORDS", {}) for m in _plugin_matrices().values()]]
    merged: dict = {}
    for table in tables:
        for arg, make in table.items():
            merged.setdefault(arg, []).append(make)
    return {arg: (lambda r, makes=makes: list(dict.fromkeys(
        i for make in makes for i in make(r)))) for arg, makes in merged.items()}


# Arguments that only mean something together: (kind, oid) of the generic org editor.
A_PAIRS = {
    ("kind", "oid"): lambda r: [("regions", r["region"].id),
                                ("departments", r["department"].id),
                                ("posts", r["post"].id), ("people", r["person"].id)],
}
# Arguments that are not ids: a value that lets the route reach its scope check.
PLAIN = {"name": lambda: next((n for n, rec in host().records.items() if rec.enabled), "x"),
         "action": lambda: "accept", "step": lambda: "verify"}


def _markers(rec) -> list[str]:
    return [SECRET, rec["user"].username, "锦江区政务服务局", "受理员a", "局长a"]


def _urls(rule, rec) -> list[tuple[str, bool]]:
    """(url, points at county A) for each way the walk can fill the rule's arguments."""
    args = set(rule.arguments)
    choices: list[list[tuple[dict, bool]]] = []
    for pair, make in A_PAIRS.items():
        if set(pair) <= args:
            choices.append([(dict(zip(pair, v)), True) for v in make(rec)])
            args -= set(pair)
    records = a_records()
    for arg in sorted(args):
        ids = records[arg](rec) if arg in records else []
        if ids:
            choices.append([({arg: v}, True) for v in ids])
            continue
        conv = type(rule._converters[arg]).__name__
        if arg in PLAIN:
            value = PLAIN[arg]()
        elif conv in ("IntegerConverter", "FloatConverter"):
            value = 1
        else:
            value = "x"
        choices.append([({arg: value}, False)])
    out = []
    for combo in itertools.product(*choices):
        values: dict = {}
        for part, _ in combo:
            values.update(part)
        try:
            built = rule.build(values, append_unknown=False)
        except (ValueError, TypeError, KeyError):  # a converter this walk cannot fill
            built = None
        if built:
            out.append((built[1], any(hit for _, hit in combo)))
    return out


def _token(client) -> str:
    html = client.get("/dashboard", follow_redirects=True).get_data(as_text=True)
    m = re.search(r'"X-CSRFToken": "([^"]+)"', html)
    return m.group(1)


class _Snapshot(dict):
    """Each table's rows, hashed: equal snapshots mean nothing was written; a difference
    names the tables that changed."""

    def __eq__(self, other):
        return dict.__eq__(self, other)

    def changed(self, other) -> list[str]:
        return sorted(t for t in set(self) | set(other) if self.get(t) != other.get(t))


def _snapshot() -> _Snapshot:
    snap = _Snapshot()
    for model in host().collect("ql_models"):
        if model is UserSession or not model.table_exists():
            # sessions: the idle clock moves by design (last_seen every 30 s, so a walk
            # longer than that on a loaded machine touched it); a missing table: no write
            continue
        snap[model._meta.table_name] = table_digest(model)
    return snap


@pytest.fixture
def county_b_users(app, org, make_user):
    """A user holding every declared permission, and a plain staff member, both only in B."""
    every = Role.create(code="matrix_everything", label="Everything")
    RolePermission.insert_many([{"role": every.id, "permission": p}
                                for p in sorted(declared_permissions(host()))]).execute()
    return {"everything": make_user("b_everything", role="matrix_everything",
                                    region=org["b"], totp=True),
            "staff": make_user("b_staff", role="staff", region=org["b"])}


def _walk(app, client, rec, *, role_perms: set[str]) -> list[str]:
    """GET every staff route; return a list of problems (empty when all is well)."""
    problems, markers = [], _markers(rec)
    for rule in app.url_map.iter_rules():
        if _skipped(rule.endpoint) or "GET" not in rule.methods:
            continue
        needed = getattr(app.view_functions[rule.endpoint], "ql_permission", None)
        for url, points_at_a in _urls(rule, rec):
            resp = client.get(url, follow_redirects=True)
            body = resp.get_data(as_text=True)
            leaked = [m for m in markers if m in body]
            if resp.status_code >= 500:
                problems.append(f"GET {url}: {resp.status_code}")
            elif points_at_a and resp.status_code not in (403, 404):
                problems.append(f"GET {url}: {resp.status_code}, expected 404 (or 403)")
            elif needed and needed not in role_perms and resp.status_code != 403:
                problems.append(f"GET {url}: {resp.status_code}, expected 403 ({needed})")
            elif leaked:
                problems.append(f"GET {url}: {resp.status_code} shows {leaked}")
    return problems


def _walk_writes(app, client, rec) -> list[str]:
    """POST/PUT/… every route whose URL names a county-A record: 403/404, nothing written."""
    problems, token = [], _token(client)
    before, events = _snapshot(), AuditEvent.select().count()
    for rule in app.url_map.iter_rules():
        methods = [m for m in WRITE_METHODS if m in rule.methods]
        if _skipped(rule.endpoint) or not methods:
            continue
        for url, points_at_a in _urls(rule, rec):
            if not points_at_a:
                continue
            for method in methods:
                resp = client.open(url, method=method, data={"csrf_token": token},
                                   headers={"X-CSRFToken": token})
                if resp.status_code not in (403, 404):
                    problems.append(f"{method} {url}: {resp.status_code}, expected 404/403")
    after = _snapshot()
    if after != before:
        problems.append(f"a write reached the database: {', '.join(before.changed(after))}")
    if AuditEvent.select().count() != events:
        problems.append("a write was audited")
    return problems


def test_everything_in_county_b_sees_nothing_of_county_a(app, org, make_user, county_b_users,
                                                          login):
    rec = _build_county_a(org, make_user)
    client = app.test_client()
    login(county_b_users["everything"], c=client)
    problems = _walk(app, client, rec, role_perms=set(declared_permissions(host())))
    problems += _walk_writes(app, client, rec)
    assert problems == []


def test_staff_in_county_b_gets_403_or_404(app, org, make_user, county_b_users, login):
    rec = _build_county_a(org, make_user)
    client = app.test_client()
    login(county_b_users["staff"], c=client)
    perms = {p for (p,) in RolePermission.select(RolePermission.permission)
             .join(Role).where(Role.code == "staff").tuples()}
    problems = _walk(app, client, rec, role_perms=perms)
    problems += _walk_writes(app, client, rec)
    assert problems == []


def test_the_walk_covers_core_and_plugin_routes(app, org, make_user):
    """Guard against a walk that silently covers nothing: every blueprint of the core and
    of each enabled plugin has its staff routes in the walk."""
    rec = _build_county_a(org, make_user)
    walked = {r.endpoint for r in app.url_map.iter_rules() if not _skipped(r.endpoint)}
    for _plugin, blueprints in host().each("ql_blueprints"):
        for bp in blueprints:
            own = {e for e in app.view_functions if e.startswith(bp.name + ".")}
            if own and not bp.name.startswith(SKIP_PREFIXES):
                assert own & walked, bp.name
    pointed = [url for r in app.url_map.iter_rules() if not _skipped(r.endpoint)
               for url, hit in _urls(r, rec) if hit]
    assert any(u.startswith("/admin/users/") for u in pointed)
    assert any(u.startswith("/alerts/deliveries/") for u in pointed)
    assert any(u.startswith("/org/") for u in pointed) or "org.index" not in walked
    for plugin, matrix in _plugin_matrices().items():
        for prefix in getattr(matrix, "EXPECTED_PREFIXES", ()):
            assert any(u.startswith(prefix) for u in pointed), (plugin, prefix)
    assert {"eservice", "esupervision"} <= set(_plugin_matrices()) or not (
        _enabled("eservice") and _enabled("esupervision"))


# -- city-wide settings: the row "a county user posts to every city-wide setting" -------
def _custom_role() -> Role:
    return Role.create(code="matrix_custom", label="Matrix custom", builtin=False)


# endpoint -> (URL arguments, form data) of a valid submission; each plugin's matrix.py
# adds its own in CITY_WIDE_FORMS.
CORE_CITY_WIDE_FORMS = {
    "admin.calendar_override": lambda r: ({"day": "2026-05-06"},
                                          {"action": "restday", "note": "matrix"}),
    "admin.calendar_import": lambda r: ({}, {"schedule": (io.BytesIO(
        (ROOT / "tests" / "data" / "schedule-2027.csv").read_bytes()), "2027.csv")}),
    "accounts.role_new": lambda r: ({}, {"code": "matrix_new", "label": "Matrix new",
                                         "permissions": "core.dashboard"}),
    "accounts.role_edit": lambda r: ({"role_id": r["custom_role"].id},
                                     {"label": "Matrix changed",
                                      "permissions": "core.dashboard"}),
}


def city_wide_forms() -> dict:
    forms = dict(CORE_CITY_WIDE_FORMS)
    for matrix in _plugin_matrices().values():
        forms.update(getattr(matrix, "CITY_WIDE_FORMS", {}))
    return forms


def city_wide_rules(app) -> list:
    """Every route of the url map whose view is marked as a city-wide setting."""
    return [rule for rule in app.url_map.iter_rules()
            if getattr(app.view_functions[rule.endpoint], "ql_city_wide", False)
            and set(WRITE_METHODS) & set(rule.methods)]


def test_county_user_posts_to_every_city_wide_setting(app, org, make_user, county_b_users,
                                                      login):
    """Each city-wide setting, posted with a valid submission: 403 and nothing written
    for the county user holding every permission in county B; accepted for the same role
    granted on the city (so the 403 is the level check, not a bad form)."""
    rec = {"custom_role": _custom_role()}
    rules = city_wide_rules(app)
    forms = city_wide_forms()
    assert {"admin.calendar_override", "accounts.role_new"} <= {r.endpoint for r in rules}
    missing = sorted(r.endpoint for r in rules if r.endpoint not in forms)
    assert not missing, f"city-wide routes without a submission in CITY_WIDE_FORMS: {missing}"
    city_user = make_user("city_everything", role="matrix_everything", region=org["city"],
                          totp=True)
    county, city = app.test_client(), app.test_client()
    login(county_b_users["everything"], c=county)
    login(city_user, c=city)
    problems = []
    for rule in rules:
        args, data = forms[rule.endpoint](rec)
        url = rule.build(args, append_unknown=False)[1]
        token = _token(county)
        before, events = _snapshot(), AuditEvent.select().count()
        resp = county.post(url, data={**data, "csrf_token": token},
                           headers={"X-CSRFToken": token})
        if resp.status_code != 403:
            problems.append(f"county POST {url}: {resp.status_code}, expected 403")
        after = _snapshot()
        if after != before or AuditEvent.select().count() != events:
            problems.append(f"county POST {url}: a write reached the database: "
                            f"{', '.join(before.changed(after)) or 'an audit event'}")
        token = _token(city)
        data = forms[rule.endpoint](rec)[1]  # a fresh submission (an upload is read once)
        resp = city.post(url, data={**data, "csrf_token": token},
                         headers={"X-CSRFToken": token})
        if resp.status_code not in (200, 201, 204, 302, 303) or _snapshot() == before:
            problems.append(f"city POST {url}: {resp.status_code}, the setting did not change")
    assert problems == []
