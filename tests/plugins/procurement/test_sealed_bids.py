"""Sealed e-tendering: nothing of a bid is readable before the opening — in any table or
stored file — late bids are refused, and the scheduler opens the bids at the deadline."""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from core.api import FieldError, utcnow
from tests.plugins.procurement.conftest import PASS, reach_deadline

PRICES = ("873456.12", "912345.67", "888777.66")
NOTE = "本公司承诺按期交付全部家具"
PDF = b"%PDF-1.4\n% secret technical offer: oak desks 1.6m, 42 units\n"


def _everything_stored(app) -> bytes:
    """Every row of every table, and every file under the instance folder, as bytes."""
    from core.api import db
    out = bytearray()
    for table in db.get_tables():
        for row in db.execute_sql(f'SELECT * FROM "{table}"').fetchall():
            for value in row:
                out += bytes(value) if isinstance(value, (bytes, memoryview)) else \
                    str(value).encode()
                out += b"\x00"
    for path in Path(app.instance_path).rglob("*"):
        if path.is_file():
            out += path.read_bytes()
    return bytes(out)


def _submit_all(world, project):
    from plugins.procurement import bidding
    bids = []
    for supplier, price in zip(world.suppliers, PRICES, strict=False):
        bids.append(bidding.submit(supplier, project, price=Decimal(price), note=NOTE,
                                   files=[("技术方案.pdf", PDF)]))
    return bids


def test_nothing_of_a_bid_is_stored_readable_before_the_opening(app, world):
    from plugins.procurement.models import Bid
    project = world.open_tender()
    bids = _submit_all(world, project)
    stored = _everything_stored(app)
    for price in PRICES:
        for form in (price, price.replace(".", ""), f"{Decimal(price):,}", price[:6]):
            assert form.encode() not in stored, form
    assert NOTE.encode() not in stored
    assert b"oak desks" not in stored and "技术方案".encode() not in stored
    assert all(Bid.get_by_id(b.id).price is None for b in bids)
    # the receipt is the hash of what is stored, and the audit trail holds it too
    from core.audit.models import AuditEvent
    for bid in bids:
        row = Bid.get_by_id(bid.id)
        import hashlib
        assert row.receipt == hashlib.sha256(bytes(row.sealed)).hexdigest()
        assert AuditEvent.select().where(AuditEvent.summary.contains(row.receipt)).exists()


def test_late_bid_is_refused(app, world):
    from plugins.procurement import bidding
    project = world.open_tender()
    bidding.submit(world.suppliers[0], project, price=Decimal(900000))
    project = reach_deadline(project)
    with pytest.raises(FieldError, match="deadline passed"):
        bidding.submit(world.suppliers[1], project, price=Decimal(800000))
    from plugins.procurement.models import Bid
    assert Bid.select().where(Bid.project == project.id).count() == 1


def test_bid_above_the_ceiling_or_not_a_file_type_is_refused(app, world):
    from plugins.procurement import bidding
    project = world.open_tender()
    with pytest.raises(FieldError) as exc:
        bidding.submit(world.suppliers[0], project, price=Decimal("1000000.01"))
    assert exc.value.field == "price"
    with pytest.raises(FieldError) as exc:
        bidding.submit(world.suppliers[0], project, price=Decimal(1),
                       files=[("x.exe", b"MZ\x90\x00")])
    assert exc.value.field == "files"


def test_the_scheduler_opens_at_the_deadline_once_custodians_release(app, world):
    from core.api import SealError, sealing
    from plugins.procurement import bidding, tasks
    from plugins.procurement.models import Bid, Project, Release
    project = world.open_tender()
    bids = _submit_all(world, project)
    # before the deadline: the minute job leaves it, custodians cannot release
    assert tasks.minute()["closed"] == 0
    assert Project.get_by_id(project.id).status == "tendering"
    seal = sealing.get_seal(bidding.PURPOSE, project.number)
    with pytest.raises(SealError):
        sealing.release_shares([seal], world.supervisor, PASS)
    # the deadline comes: the job closes the bidding and calls the custodians
    project = reach_deadline(project)
    assert tasks.minute()["closed"] == 1
    project = Project.get_by_id(project.id)
    assert project.status == "opening" and project.opening_state == "opening"
    from core.alerts.models import Alert
    assert Alert.select().where(Alert.kind == "procurement.opening.release").count() == 3
    # one custodian is not enough
    bidding.release(world.supervisor, PASS, [project])
    assert tasks.minute()["opened"] == 0
    with pytest.raises(FieldError):
        bidding.release(world.agency, "wrong passphrase!!", [project])
    bidding.release(world.agency, PASS, [project])
    assert tasks.minute()["opened"] == 1
    project = Project.get_by_id(project.id)
    assert project.status == "evaluation" and project.opening_state == "opened"
    prices = sorted(str(Bid.get_by_id(b.id).price) for b in bids)
    assert prices == sorted(PRICES)
    opening = json.loads(Release.select().where(Release.project == project.id)
                         .order_by(Release.seq.desc()).get().data)
    assert sorted(str(Decimal(str(d["value"]["amount"])).quantize(Decimal("0.01")))
                  for d in opening["bids"]["details"]) == sorted(PRICES)
    desc, data = bidding.bid_file(Bid.get_by_id(bids[0].id), 1)
    assert data == PDF and desc["name"] == "技术方案.pdf"
    assert bidding.bid_content(Bid.get_by_id(bids[0].id))["note"] == NOTE


def test_fewer_than_three_bidders_fail_unopened(app, world):
    from plugins.procurement import bidding, tasks
    from plugins.procurement.models import Bid, Project
    project = world.open_tender()
    bidding.submit(world.suppliers[0], project, price=Decimal(900000))
    bidding.submit(world.suppliers[1], project, price=Decimal(910000))
    reach_deadline(project)
    tasks.minute()
    project = Project.get_by_id(project.id)
    assert project.status == "unsuccessful"
    assert {b.status for b in Bid.select().where(Bid.project == project.id)} == {"unopened"}
    assert all(b.price is None for b in Bid.select().where(Bid.project == project.id))


def test_resubmission_replaces_and_withdrawal_keeps_sealed(app, world):
    from plugins.procurement import bidding
    from plugins.procurement.models import Bid
    project = world.open_tender()
    first = bidding.submit(world.suppliers[0], project, price=Decimal(950000))
    second = bidding.submit(world.suppliers[0], project, price=Decimal(940000))
    assert Bid.get_by_id(first.id).status == "superseded"
    bidding.withdraw(world.suppliers[0], second)
    assert Bid.get_by_id(second.id).status == "withdrawn"
    with pytest.raises(FieldError):
        bidding.withdraw(world.suppliers[1], Bid.get_by_id(first.id))


def test_postponed_deadline_moves_the_seal(app, world):
    from core.api import sealing
    from plugins.procurement import bidding, projects
    project = world.open_tender(days=25)
    new = project.deadline + dt.timedelta(days=3)
    projects.publish(world.purchaser, project, "correction", extra_text="更正技术参数",
                     affects_bids=True, new_deadline=new)
    seal = sealing.get_seal(bidding.PURPOSE, project.number)
    assert seal.opens_at == new
    assert project.__class__.get_by_id(project.id).deadline == new
    assert utcnow() < seal.opens_at


def _move_deadline(project, when):
    from core.sealing.models import Seal
    from plugins.procurement.models import Project
    Project.update(deadline=when).where(Project.id == project.id).execute()
    Seal.update(opens_at=when).where(Seal.ref == project.number).execute()
    return Project.get_by_id(project.id)


def test_custodians_are_reminded_a_day_before_the_opening_once_per_deadline(app, world):
    from core.alerts.models import Alert
    from plugins.procurement import tasks

    def upcoming():
        return sorted(a.target_user_id for a in Alert.select().where(
            Alert.kind == "procurement.opening.upcoming"))
    project = world.open_tender()
    assert tasks.minute()["reminded"] == 0  # three weeks ahead: not yet
    project = _move_deadline(project, utcnow() + dt.timedelta(hours=20))
    assert tasks.minute()["reminded"] == 3
    custodians = sorted(u.id for u in world.custodians)
    assert upcoming() == custodians
    alert = Alert.get(Alert.kind == "procurement.opening.upcoming")
    assert project.number in alert.subject and alert.ref == f"procurement.project:{project.id}"
    assert PRICES[0] not in alert.subject
    # the next minutes raise nothing more, even once a custodian has dealt with it
    from core.api import resolve
    resolve(alert, world.supervisor, "收到")
    assert tasks.minute()["reminded"] == 0
    assert len(upcoming()) == 3
    # a postponed deadline is a new opening: told again, once; the old time's reminders close
    project = _move_deadline(project, utcnow() + dt.timedelta(hours=23))
    assert tasks.minute()["reminded"] == 3
    assert tasks.minute()["reminded"] == 0
    assert len(upcoming()) == 6
    still = Alert.select().where((Alert.kind == "procurement.opening.upcoming")
                                 & (Alert.state != "resolved"))
    assert sorted(a.target_user_id for a in still) == custodians
    from plugins.procurement.bidding import _local
    assert all(_local(project.deadline) in a.subject for a in still)
