"""The demo data seeds every region, trips the red flags, and every demo process exports
as OCDS packages valid against the vendored schemas (jsonschema, offline)."""
from __future__ import annotations

import json

import pytest


@pytest.fixture
def demo(app):
    from core.demo import seed
    from core.plugins import host
    seed(host(), "small")
    return app


def test_the_demo_seeded_once(demo, client):
    """The demo is seeded once (a minute on a loaded machine) for the three checks."""
    demo_covers_every_region_method_and_flag()
    every_demo_process_exports_valid_ocds(client)
    validation_catches_a_broken_release()


def demo_covers_every_region_method_and_flag():
    from core.api import Region
    from plugins.procurement.methods import METHODS
    from plugins.procurement.models import Auction, Flag, Project
    from plugins.procurement.rules import BUILTIN
    regions = {r for (r,) in Project.select(Project.region).distinct().tuples()}
    assert regions == {r.id for r in Region.select()}
    assert {m for (m,) in Project.select(Project.method).distinct().tuples()} == set(METHODS)
    assert Auction.select().count() >= 2
    raised = {c for (c,) in Flag.select(Flag.code).distinct().tuples()}
    missing = {r.code for r in BUILTIN} - raised
    assert not missing, missing
    assert Project.select().where(Project.status == "tendering").count() >= 2


def every_demo_process_exports_valid_ocds(client):
    from plugins.procurement import ocds
    from plugins.procurement.models import Project
    checked = 0
    for project in Project.select():
        for path, kind in ((f"/public/procurement/ocds/{project.id}/releases.json",
                            "release-package"),
                           (f"/public/procurement/ocds/{project.id}/record.json",
                            "record-package")):
            resp = client.get(path)
            assert resp.status_code == 200, path
            assert ocds.errors(resp.get_json(), kind) == [], (path, ocds.errors(
                resp.get_json(), kind)[:3])
        checked += 1
    assert checked > 100
    for kind in ("records", "releases"):
        body = b"".join(client.get(f"/public/procurement/ocds/{kind}.json").response)
        data = json.loads(body)
        assert ocds.errors(data, f"{kind[:-1]}-package") == []
        assert len(data[kind]) >= checked


def validation_catches_a_broken_release():
    from plugins.procurement import ocds
    from plugins.procurement.models import Project
    pkg = ocds.release_package(Project.select().first(), "https://example.org/p.json")
    pkg["releases"][0]["tag"] = ["nonsense"]
    del pkg["releases"][0]["initiationType"]
    errors = ocds.errors(pkg, "release-package")
    assert any("initiationType" in e for e in errors) and any("nonsense" in e for e in errors)
