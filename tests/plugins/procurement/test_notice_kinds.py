"""The notices published by their own steps beyond the purchaser's: the supervision and
inspection result (12, 监督检查处理结果公告) of a confirmed red flag; bad input named, nothing
written; level checked; public; one OCDS release valid against the vendored schema."""
from __future__ import annotations

import json
import re

import pytest

from core.api import AccessDenied, FieldError

DECISION = "责令采购人限期整改，并对相关责任人予以通报。"


def _token(client, path):
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


@pytest.fixture
def flagged(world):
    from plugins.procurement.models import Flag
    project = world.open_tender()
    flag = Flag.create(region=world.region, project=project, code="R018",
                       subject="process", subject_id=project.id,
                       dedupe_key=f"test:R018:{project.id}", detail='{"tenderers": 1}')
    return project, flag


def _confirm(flag):
    from plugins.procurement.models import Flag
    Flag.update(state="confirmed", note="核实", handled_by="jw_a").where(
        Flag.id == flag.id).execute()
    return Flag.get_by_id(flag.id)


def _package(client, project):
    from plugins.procurement import ocds
    data = client.get(f"/public/procurement/ocds/{project.id}/releases.json").get_json()
    assert ocds.errors(data, "release-package") == []
    return data


def test_inspection_result_of_a_confirmed_flag(app, client, world, flagged):
    from core.audit.models import AuditEvent
    from plugins.procurement import inspections
    from plugins.procurement.models import Release
    project, flag = flagged
    notice = inspections.publish_inspection(world.supervisor, _confirm(flag), DECISION)
    assert notice.kind == "inspection" and notice.project_id == project.id
    assert "监督检查处理结果公告" in notice.title
    assert DECISION in notice.body and "R018" in notice.body and project.number in notice.body
    assert AuditEvent.select().where(
        (AuditEvent.action == "procurement.inspection.publish")
        & (AuditEvent.object_id == str(notice.id))).count() == 1
    last = Release.select().where(Release.project == project.id).order_by(
        Release.seq.desc()).first()
    assert last.tag == "tenderUpdate"
    assert f"notice-{notice.id}" in {d["id"] for d in json.loads(last.data)["tender"]
                                     ["documents"]}
    _package(client, project)
    listing = client.get("/public/procurement/?kind=inspection").get_data(as_text=True)
    assert notice.title in listing
    detail = client.get(f"/public/procurement/notices/{notice.id}")
    assert detail.status_code == 200 and DECISION in detail.get_data(as_text=True)


def test_inspection_refused_without_decision_open_flag_or_level(app, world, org, make_user,
                                                                flagged):
    from plugins.procurement import inspections
    from plugins.procurement.models import Announcement, Release
    _, flag = flagged
    before = (Announcement.select().count(), Release.select().count())
    with pytest.raises(FieldError) as exc:
        inspections.publish_inspection(world.supervisor, flag, DECISION)  # still open
    assert exc.value.field == "decision"
    flag = _confirm(flag)
    for blank in ("", "   ", "\u200b"):
        with pytest.raises(FieldError) as exc:
            inspections.publish_inspection(world.supervisor, flag, blank)
        assert exc.value.field == "decision"
    county_b = make_user("jw_b", role="supervisor", region=org["b"])
    with pytest.raises(AccessDenied):
        inspections.publish_inspection(county_b, flag, DECISION)
    assert (Announcement.select().count(), Release.select().count()) == before


def test_supervisor_publishes_on_closing_and_afterwards(app, client, world, login, flagged):
    from plugins.procurement.models import Announcement, Flag
    project, flag = flagged
    login(world.supervisor)
    token = _token(client, "/procurement/flags")
    # a decision with a dismissal: 422 naming the field, the flag still open
    resp = client.post(f"/procurement/flags/{flag.id}", data={
        "csrf_token": token, "state": "dismissed", "note": "说明", "decision": DECISION})
    assert resp.status_code == 422 and "decision" in resp.get_data(as_text=True)
    assert Flag.get_by_id(flag.id).state == "open"
    resp = client.post(f"/procurement/flags/{flag.id}", data={
        "csrf_token": token, "state": "confirmed", "note": "核实", "decision": DECISION})
    assert resp.status_code == 303
    assert Flag.get_by_id(flag.id).state == "confirmed"
    notices = Announcement.select().where((Announcement.project == project.id)
                                          & (Announcement.kind == "inspection"))
    assert notices.count() == 1
    html = client.get("/procurement/flags?state=confirmed").get_data(as_text=True)
    assert f"/procurement/flags/{flag.id}/inspection" in html
    resp = client.post(f"/procurement/flags/{flag.id}/inspection",
                       data={"csrf_token": token, "decision": ""})
    assert resp.status_code == 422 and notices.count() == 1
    resp = client.post(f"/procurement/flags/{flag.id}/inspection",
                       data={"csrf_token": token, "decision": "整改已完成，予以销号。"})
    assert resp.status_code == 303 and notices.count() == 2
    _package(client, project)
