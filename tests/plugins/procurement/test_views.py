"""The pages: staff, supplier and public, in both languages; bad input answered 422 naming
the field with nothing changed; a supplier sees only its own bids and no staff page."""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from core.api import utcnow
from tests.conftest import STRONG


def _token(client, path):
    html = client.get(path).get_data(as_text=True)
    m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or \
        re.search(r'"X-CSRFToken": "([^"]+)"', html)
    return m.group(1)


def _supplier_login(client, supplier):
    from core.api import User
    user = User.get_by_id(supplier.user_id)
    token = _token(client, "/login")
    resp = client.post("/login", data={"username": user.username, "password": STRONG,
                                       "csrf_token": token})
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/supplier/")


@pytest.fixture
def busy(world):
    """A tender taking bids, one in evaluation with opened bids, a project with a
    contract, and an auction."""
    from plugins.procurement import auction, bidding, projects
    from plugins.procurement.models import Bid, Project
    taking = world.open_tender()
    bidding.submit(world.suppliers[0], taking, price=Decimal(900000))
    opened = world.project()
    Project.update(status="evaluation", opening_state="opened", opened_at=utcnow(),
                   docs_issued_at=utcnow() - dt.timedelta(days=30), deadline=utcnow()).where(
        Project.id == opened.id).execute()
    for n, price in enumerate(("850000", "870000", "910000")):
        Bid.create(project=opened, supplier=world.suppliers[n], status="valid", sealed=b"",
                   receipt="", price=Decimal(price))
    auc_project = world.project("auction", budget="300000")
    auction.setup(world.purchaser, auc_project, starts_at=utcnow() + dt.timedelta(minutes=5),
                  ends_at=utcnow() + dt.timedelta(hours=1), step=Decimal(100))
    projects.publish(world.purchaser, auc_project, "competitive")
    return {"taking": taking, "opened": Project.get_by_id(opened.id),
            "auction": Project.get_by_id(auc_project.id)}


@pytest.mark.parametrize("lang,word", [("zh_CN", "采购"), ("en", "Procurement")])
def test_staff_pages_render(app, client, world, busy, login, lang, word):
    login(world.purchaser)
    with client.session_transaction() as s:
        s["locale"] = lang
    pages = ["/procurement/", "/procurement/plans", "/procurement/plans/new",
             "/procurement/custody", "/procurement/stats",
             f"/procurement/projects/{busy['auction'].id}/auction"]
    pages += [f"/procurement/projects/{p.id}" for p in busy.values()]
    for page in pages:
        resp = client.get(page)
        assert resp.status_code == 200, page
        assert word in resp.get_data(as_text=True), page
    assert client.get("/procurement/stats?format=xlsx").status_code == 200
    assert client.get("/procurement/flags").status_code == 403  # a purchaser supervises not


def test_supervisor_pages(app, client, world, busy, login):
    login(world.supervisor)
    for page in ("/procurement/flags", "/procurement/rules", "/procurement/custody"):
        assert client.get(page).status_code == 200, page


def test_sealed_project_page_shows_no_bid(app, client, world, busy, login):
    login(world.purchaser)
    html = client.get(f"/procurement/projects/{busy['taking'].id}").get_data(as_text=True)
    assert "900,000" not in html and "900000" not in html
    assert world.suppliers[0].name not in html


def test_public_pages(app, client, busy):
    for page in ("/public/procurement/", "/public/procurement/suppliers/register",
                 f"/public/procurement/projects/{busy['opened'].id}",
                 "/public/procurement/?q=CG&kind=tender"):
        assert client.get(page).status_code == 200, page
    html = client.get(f"/public/procurement/projects/{busy['opened'].id}").get_data(
        as_text=True)
    assert "850,000.00" in html  # the opening record is public
    html = client.get(f"/public/procurement/projects/{busy['taking'].id}").get_data(
        as_text=True)
    assert "900,000" not in html


def test_bad_plan_is_422_naming_the_field_and_changes_nothing(app, client, world, login):
    from plugins.procurement.models import Plan
    login(world.purchaser)
    token = _token(client, "/procurement/plans/new")
    base = {"csrf_token": token, "department": world.dept.id, "year": "2026",
            "title": "桌椅", "category": "goods", "budget": "3000000", "method": "inquiry",
            "method_reason": "标准统一", "item_description": "桌椅",
            "item_classification": "A06010101", "item_quantity": "1"}
    for field, bad in (("budget", "1e9"), ("budget", "NaN"), ("year", "２０２６x"),
                       ("title", "a\u202eb"), ("item_classification", "桌椅")):
        resp = client.post("/procurement/plans/new", data=dict(base, **{field: bad}))
        assert resp.status_code == 422, (field, bad)
    resp = client.post("/procurement/plans/new", data=base)  # no approval above threshold
    assert resp.status_code == 422 and "政府采购法第二十七条" in resp.get_data(as_text=True)
    assert Plan.select().count() == 0
    resp = client.post("/procurement/plans/new", data=dict(base, approval_ref="成财采〔2026〕9号"))
    assert resp.status_code == 303 and Plan.select().count() == 1


def test_supplier_bids_through_the_page_and_gets_its_receipt(app, client, world, busy):
    from plugins.procurement.models import Bid
    _supplier_login(client, world.suppliers[1])
    project = busy["taking"]
    token = _token(client, f"/supplier/tenders/{project.id}")
    resp = client.post(f"/supplier/tenders/{project.id}",
                       data={"csrf_token": token, "price": "abc"})
    assert resp.status_code == 422
    resp = client.post(f"/supplier/tenders/{project.id}",
                       data={"csrf_token": token, "price": "880000.50", "note": "响应"})
    assert resp.status_code == 303
    bid = Bid.select().where(Bid.supplier == world.suppliers[1].id).get()
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert bid.receipt in html


def test_supplier_sees_only_its_own_bids_and_no_staff_page(app, client, world, busy):
    from plugins.procurement.models import Bid
    other = Bid.select().where(Bid.supplier == world.suppliers[0].id).first()
    _supplier_login(client, world.suppliers[2])
    assert client.get(f"/supplier/bids/{other.id}/receipt").status_code == 404
    token = _token(client, "/supplier/")
    assert client.post(f"/supplier/bids/{other.id}/withdraw",
                       data={"csrf_token": token}).status_code == 404
    assert Bid.get_by_id(other.id).status == "sealed"
    for page in ("/procurement/", "/dashboard", f"/procurement/projects/{busy['taking'].id}"):
        assert client.get(page).status_code == 403, page
    home = client.get("/supplier/").get_data(as_text=True)
    assert other.receipt[:16] not in home


def test_supplier_auction_page_and_bid(app, client, world, busy):
    from plugins.procurement.models import Auction, AuctionParticipant
    project = busy["auction"]
    auc = Auction.get(Auction.project == project.id)
    _supplier_login(client, world.suppliers[0])
    token = _token(client, "/supplier/")
    assert client.post(f"/supplier/auctions/{project.id}/join",
                       data={"csrf_token": token}).status_code == 303
    assert AuctionParticipant.select().where(AuctionParticipant.auction == auc.id).count() == 1
    Auction.update(starts_at=utcnow() - dt.timedelta(seconds=1)).where(
        Auction.id == auc.id).execute()
    resp = client.post(f"/supplier/auctions/{project.id}/bid",
                       data={"csrf_token": token, "price": "299900"},
                       headers={"HX-Request": "true"})
    assert resp.status_code == 200 and "299,900.00" in resp.get_data(as_text=True)
    resp = client.post(f"/supplier/auctions/{project.id}/bid",
                       data={"csrf_token": token, "price": "299850"})
    assert resp.status_code == 422  # not a multiple of the step (and already leading)
    assert client.get(f"/supplier/auctions/{project.id}",
                      headers={"HX-Request": "true"}).status_code == 200


def test_registration(app, client):
    from plugins.procurement.models import Supplier
    from tests.plugins.procurement.conftest import uscc
    token = _token(client, "/public/procurement/suppliers/register")
    data = {"csrf_token": token, "name": "新供应商有限公司", "uscc": uscc(77)[:-1] + "0",
            "contact": "王五", "password": STRONG, "confirm": STRONG}
    if data["uscc"] == uscc(77):
        data["uscc"] = uscc(77)[:-1] + "1"
    resp = client.post("/public/procurement/suppliers/register", data=data)
    assert resp.status_code == 422 and Supplier.select().count() == 0
    resp = client.post("/public/procurement/suppliers/register", data=dict(data, uscc=uscc(77)))
    assert resp.status_code == 303 and Supplier.select().count() == 1


def test_bids_are_rate_limited_per_supplier(app, client, world, busy, monkeypatch):
    """Over the per-supplier limit a bid submission or an auction bid is answered 429 with
    a translated message and Retry-After, nothing of the bid is written, and the refusal
    is audited; another supplier is not limited."""
    from core.audit.models import AuditEvent
    from plugins.procurement import supplier_views
    from plugins.procurement.models import Auction, AuctionBid, Bid
    # windows of a day: the test never straddles a window's end
    monkeypatch.setattr(supplier_views, "BID_SUBMISSIONS", ("procurement.bid", 2, 86400))
    monkeypatch.setattr(supplier_views, "AUCTION_BIDS", ("procurement.auction_bid", 2, 86400))
    tender, auc_project = busy["taking"], busy["auction"]
    auc = Auction.get(Auction.project == auc_project.id)
    _supplier_login(client, world.suppliers[1])
    token = _token(client, f"/supplier/tenders/{tender.id}")
    url = f"/supplier/tenders/{tender.id}"
    assert client.post(url, data={"csrf_token": token, "price": "x"}).status_code == 422
    assert client.post(url, data={"csrf_token": token, "price": "880000"}).status_code == 303
    bids = Bid.select().where(Bid.supplier == world.suppliers[1].id).count()
    resp = client.post(url, data={"csrf_token": token, "price": "870000"})
    assert resp.status_code == 429 and int(resp.headers["Retry-After"]) >= 1
    assert "Too many bid submissions" in resp.get_data(as_text=True)
    assert Bid.select().where(Bid.supplier == world.suppliers[1].id).count() == bids
    with client.session_transaction() as sess:
        sess["locale"] = "zh_CN"
    resp = client.post(url, data={"csrf_token": token, "price": "870000"})
    with client.session_transaction() as sess:
        sess["locale"] = "en"
    assert resp.status_code == 429 and "投标提交过于频繁" in resp.get_data(as_text=True)
    assert AuditEvent.select().where((AuditEvent.action == "procurement.bid.limited")
                                     & (AuditEvent.success == False)).count() == 2

    assert client.post(f"/supplier/auctions/{auc_project.id}/join",
                       data={"csrf_token": token}).status_code == 303
    Auction.update(starts_at=utcnow() - dt.timedelta(seconds=1)).where(
        Auction.id == auc.id).execute()
    bid_url = f"/supplier/auctions/{auc_project.id}/bid"
    for price in ("299900", "299800"):
        assert client.post(bid_url, data={"csrf_token": token, "price": price}).status_code \
            in (200, 422)
    logged = AuctionBid.select().where(AuctionBid.auction == auc.id).count()
    resp = client.post(bid_url, data={"csrf_token": token, "price": "299700"})
    assert resp.status_code == 429 and "Too many auction bids" in resp.get_data(as_text=True)
    assert AuctionBid.select().where(AuctionBid.auction == auc.id).count() == logged
    assert Auction.get_by_id(auc.id).attempts == logged

    other = app.test_client()
    _supplier_login(other, world.suppliers[2])
    token = _token(other, url)
    assert other.post(url, data={"csrf_token": token, "price": "860000"}).status_code == 303
