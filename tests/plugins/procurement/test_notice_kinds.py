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


# -- 9 公共服务项目验收结果公告 ------------------------------------------------------------
@pytest.fixture
def signed(world):
    """A project whose contract is signed (through the service), not yet accepted."""
    import datetime as dt
    from decimal import Decimal

    from core.api import today, utcnow
    from plugins.procurement import contracts
    from plugins.procurement.models import Award, Project
    project = world.project(category="services", title="社区居家养老服务采购")
    Project.update(status="awarded").where(Project.id == project.id).execute()
    Award.create(project=project, supplier=world.suppliers[0], amount=Decimal(900000),
                 status="active", fixed_at=utcnow() - dt.timedelta(days=12),
                 notice_at=utcnow() - dt.timedelta(days=10))
    project = Project.get_by_id(project.id)
    return contracts.sign(world.purchaser, project, number="HT-2026-0099",
                          amount=Decimal(900000), signed_on=today() - dt.timedelta(days=5))


def _accept(world, contract, passed=True):
    from core.api import today
    from plugins.procurement import contracts
    contracts.add_change(world.purchaser, contract, kind="acceptance", day=today(),
                         title="履约验收", passed=passed)


def test_acceptance_result_of_a_public_service_project(app, client, world, org, make_user,
                                                       signed):
    from core.api import today
    from core.audit.models import AuditEvent
    from plugins.procurement import contracts
    from plugins.procurement.models import Announcement, Release
    before = (Announcement.select().count(), Release.select().count())
    with pytest.raises(FieldError) as exc:  # no acceptance recorded
        contracts.publish_acceptance(world.purchaser, signed, public_service=True)
    assert exc.value.field == "accepted_on"
    assert (Announcement.select().count(), Release.select().count()) == before
    _accept(world, signed)
    before = (Announcement.select().count(), Release.select().count())
    with pytest.raises(FieldError) as exc:
        contracts.publish_acceptance(world.purchaser, signed, public_service=False)
    assert exc.value.field == "public_service"
    with pytest.raises(AccessDenied):
        contracts.publish_acceptance(world.purchaser_b, signed, public_service=True)
    assert (Announcement.select().count(), Release.select().count()) == before
    notice = contracts.publish_acceptance(world.purchaser, signed, public_service=True,
                                          text="服务对象代表参与验收并出具意见。")
    assert notice.kind == "acceptance" and "公共服务项目验收结果公告" in notice.title
    for part in ("HT-2026-0099", world.suppliers[0].name, str(today()), "验收结论：通过",
                 "服务对象代表参与验收"):
        assert part in notice.body, part
    assert AuditEvent.select().where(
        (AuditEvent.action == "procurement.acceptance.publish")
        & (AuditEvent.object_id == str(notice.id))).count() == 1
    last = Release.select().where(Release.project == signed.project_id).order_by(
        Release.seq.desc()).first()
    assert last.tag == "implementation"
    _package(client, signed.project)
    assert notice.title in client.get("/public/procurement/?kind=acceptance").get_data(
        as_text=True)
    assert client.get(f"/public/procurement/notices/{notice.id}").status_code == 200
    with pytest.raises(FieldError) as exc:  # once per recorded acceptance
        contracts.publish_acceptance(world.purchaser, signed, public_service=True)
    assert exc.value.field == "accepted_on"


def test_purchaser_publishes_the_acceptance_result_on_the_page(app, client, world, login,
                                                               signed):
    from plugins.procurement.models import Announcement
    login(world.purchaser)
    page = f"/procurement/projects/{signed.project_id}"
    url = f"/procurement/contracts/{signed.id}/acceptance"
    token = _token(client, page)
    resp = client.post(url, data={"csrf_token": token, "public_service": "y"})
    assert resp.status_code == 422 and "accepted_on" in resp.get_data(as_text=True)
    _accept(world, signed, passed=False)
    assert url in client.get(page).get_data(as_text=True)
    notices = Announcement.select().where(Announcement.kind == "acceptance")
    resp = client.post(url, data={"csrf_token": token})
    assert resp.status_code == 422 and "public_service" in resp.get_data(as_text=True)
    assert notices.count() == 0
    resp = client.post(url, data={"csrf_token": token, "public_service": "y"})
    assert resp.status_code == 303 and notices.count() == 1
    assert "验收结论：不通过" in notices.get().body


# -- 13 集中采购机构考核结果公告 ------------------------------------------------------------
REVIEW = {"agency": "锦江区政府采购中心", "period": "2026年度",
          "result": "考核得分92分，等次为优秀。"}


def test_agency_review_is_a_notice_of_no_project(app, client, world, org, make_user):
    from core.audit.models import AuditEvent
    from plugins.procurement import agency_reviews
    from plugins.procurement.models import Announcement, Release
    before = (Announcement.select().count(), Release.select().count())
    for field in ("agency", "period", "result"):
        with pytest.raises(FieldError) as exc:
            agency_reviews.publish_agency_review(world.finance, world.region.id,
                                                 **dict(REVIEW, **{field: " "}))
        assert exc.value.field == field
    with pytest.raises(FieldError) as exc:
        agency_reviews.publish_agency_review(world.finance, None, **REVIEW)
    assert exc.value.field == "region"
    county_b = make_user("cz_b", role="procurement_finance", region=org["b"])
    for user, region in ((county_b, world.region), (world.finance, org["city"])):
        with pytest.raises(AccessDenied):  # a neighbour's county, or the city above it
            agency_reviews.publish_agency_review(user, region.id, **REVIEW)
    assert (Announcement.select().count(), Release.select().count()) == before
    notice = agency_reviews.publish_agency_review(world.finance, world.region.id, **REVIEW)
    assert notice.project_id is None and notice.region_id == world.region.id
    assert notice.title == "锦江区政府采购中心2026年度集中采购机构考核结果公告"
    assert REVIEW["result"] in notice.body and world.region.name in notice.body
    assert Release.select().count() == before[1]  # no process, no release
    assert AuditEvent.select().where(
        (AuditEvent.action == "procurement.agency_review.publish")
        & (AuditEvent.object_id == str(notice.id))).count() == 1
    for listing in ("/public/procurement/", "/public/procurement/?kind=agency_review",
                    f"/public/procurement/?q=2026年度&region={world.region.id}"):
        assert notice.title in client.get(listing).get_data(as_text=True), listing
    detail = client.get(f"/public/procurement/notices/{notice.id}")
    assert detail.status_code == 200 and REVIEW["result"] in detail.get_data(as_text=True)


def test_finance_publishes_an_agency_review_on_its_page(app, client, world, login):
    from plugins.procurement.models import Announcement
    login(world.finance)
    page = "/procurement/agency-reviews"
    assert client.get(page).status_code == 200
    token = _token(client, page)
    resp = client.post(page, data=dict(REVIEW, result="", region=world.region.id,
                                       csrf_token=token))
    assert resp.status_code == 422 and Announcement.select().count() == 0
    resp = client.post(page, data=dict(REVIEW, region=world.region.id, csrf_token=token))
    assert resp.status_code == 303
    assert "锦江区政府采购中心2026年度" in client.get(page).get_data(as_text=True)
