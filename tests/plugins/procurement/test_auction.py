"""Online reverse auctions: the decision rule, the scheduler's end and award, and 8
concurrent bidders near the end (each thread its own connection: on PostgreSQL separate
server connections) giving exactly what serial bidding gives."""
from __future__ import annotations

import datetime as dt
import itertools
import random
import threading
import time
from decimal import Decimal

import pytest

from core.api import FieldError, utcnow

STEP = Decimal(100)
CEILING = Decimal(100000)


def _state(**kw):
    from plugins.procurement.auction import State
    now = utcnow()
    base = {"starts_at": now - dt.timedelta(minutes=1), "ends_at": now + dt.timedelta(
        minutes=10), "cap_end": now + dt.timedelta(minutes=20),
        "extension": dt.timedelta(seconds=60), "ceiling": CEILING, "step": STEP}
    base.update(kw)
    return State(**base)


def test_decide_rules():
    from plugins.procurement.auction import decide
    s = _state()
    now = utcnow()
    assert decide(s, 1, Decimal(100000), now)[:2] == (False, "not_lower")
    assert decide(s, 1, Decimal(99950), now)[:2] == (False, "step")
    ok, _r, s1 = decide(s, 1, Decimal(99700), now)
    assert ok and s1.best_price == Decimal(99700) and s1.ends_at == s.ends_at
    assert decide(s1, 1, Decimal(99600), now)[:2] == (False, "leading")
    assert decide(s1, 2, Decimal(99700), now)[:2] == (False, "not_lower")
    assert decide(s1, 2, Decimal(99650), now)[:2] == (False, "step")
    assert decide(s, 1, Decimal(99000), s.starts_at - dt.timedelta(seconds=1))[1] == "early"
    assert decide(s, 1, Decimal(99000), s.ends_at)[1] == "late"


def test_anti_sniping_extends_up_to_the_cap():
    from plugins.procurement.auction import decide
    now = utcnow()
    s = _state(ends_at=now + dt.timedelta(seconds=30), cap_end=now + dt.timedelta(seconds=100))
    ok, _r, s1 = decide(s, 1, Decimal(99900), now)
    assert ok and s1.ends_at == s.ends_at + dt.timedelta(seconds=60)
    ok, _r, s2 = decide(s1, 2, Decimal(99800), s1.ends_at - dt.timedelta(seconds=5))
    assert ok and s2.ends_at == s.cap_end  # 150 s would pass the cap of 100 s
    ok, _r, s3 = decide(s, 1, Decimal(99900), now - dt.timedelta(seconds=40))
    assert ok and s3.ends_at == s.ends_at  # not in the last 60 s: no extension


@pytest.fixture
def auction_world(world):
    """An auction running now, ending in a few seconds, with 8 registered suppliers."""
    from plugins.procurement.models import (
        Auction,
        AuctionParticipant,
        Project,
        Supplier,
    )
    project = world.project("auction", budget=str(CEILING))
    Project.update(status="auction").where(Project.id == project.id).execute()
    now = utcnow()

    def make(seconds=3, extension=2, cap=3, ceiling=CEILING):
        Auction.delete().where(Auction.project == project.id).execute()
        end = utcnow() + dt.timedelta(seconds=seconds)
        auction = Auction.create(project=project, ceiling=ceiling, step=STEP,
                                 starts_at=now - dt.timedelta(seconds=5),
                                 planned_end=end, ends_at=end,
                                 extension_seconds=extension, max_extension_seconds=cap)
        suppliers = list(world.suppliers) + [
            Supplier.create(user_id=800 + i, name=f"竞价供应商{i}", uscc=f"9151010000AU{i:05d}X"[:18])
            for i in range(4)]
        for n, s in enumerate(suppliers):
            AuctionParticipant.create(auction=auction, supplier=s, alias="ABCDEFGH"[n])
        return project, auction, suppliers
    return make


def _replay(auction, log):
    """The serial outcome of the logged attempts, in their order and at their times."""
    from plugins.procurement.auction import State, decide
    state = State(starts_at=auction.starts_at, ends_at=auction.planned_end,
                  cap_end=auction.planned_end + dt.timedelta(
                      seconds=auction.max_extension_seconds),
                  extension=dt.timedelta(seconds=auction.extension_seconds),
                  ceiling=auction.ceiling, step=auction.step)
    for row in log:
        accepted, reason, state = decide(state, row.participant_id, row.price, row.decided_at)
        assert (accepted, reason) == (row.accepted, row.reason), row.seq
        assert state.ends_at == row.ends_at, row.seq
    return state


def test_eight_concurrent_bidders_equal_serial_bidding(app, auction_world):
    from core.api import db
    from plugins.procurement import auction as engine
    from plugins.procurement.models import Auction, AuctionBid, Award, Project
    top = Decimal(50000000)
    project, auction, suppliers = auction_world(seconds=3, extension=2, cap=3, ceiling=top)
    hard_stop = auction.planned_end + dt.timedelta(seconds=auction.max_extension_seconds + 1)
    errors = []
    barrier = threading.Barrier(8)

    def bidder(n):
        rnd = random.Random(n)
        try:
            with app.app_context(), db.connection_context():
                barrier.wait()
                while utcnow() < hard_stop:
                    best = Auction.get_by_id(auction.id).best_price or top
                    engine.place_bid(suppliers[n], auction.id, best - STEP * rnd.randint(1, 2))
                    time.sleep(rnd.random() * 0.01)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))

    threads = [threading.Thread(target=bidder, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors[:3]
    log = list(AuctionBid.select().where(AuctionBid.auction == auction.id)
               .order_by(AuctionBid.seq))
    assert [r.seq for r in log] == list(range(1, len(log) + 1))
    assert all(a.decided_at <= b.decided_at for a, b in itertools.pairwise(log))  # serialised
    final = _replay(auction, log)
    stored = Auction.get_by_id(auction.id)
    assert (stored.best_price, stored.best_participant_id, stored.ends_at) == (
        final.best_price, final.best_participant, final.ends_at)
    accepted = [r for r in log if r.accepted]
    prices = [r.price for r in accepted]
    assert prices == sorted(prices, reverse=True) and len(set(prices)) == len(prices)
    assert all((top - p) % STEP == 0 for p in prices)
    assert all(r.decided_at < r.ends_at for r in accepted)
    assert any(r.reason == "not_lower" for r in log), "no contention happened"
    assert any(r.reason == "late" for r in log), "nobody bid after the end"
    assert stored.ends_at > stored.planned_end  # bids near the end extended it
    assert stored.ends_at <= stored.planned_end + dt.timedelta(
        seconds=stored.max_extension_seconds)
    # the scheduler ends the auction and awards the best price
    while utcnow() < stored.ends_at:
        time.sleep(0.05)
    assert engine.end_due() == [auction.id]
    award = Award.get(Award.project == project.id)
    assert award.amount == final.best_price
    assert Project.get_by_id(project.id).status == "awarded"
    assert engine.place_bid(suppliers[0], auction.id, final.best_price - STEP).reason == "ended"


def test_bid_requires_registration_and_a_price(app, auction_world, world):
    from plugins.procurement import auction as engine
    from plugins.procurement.models import Supplier
    _project, auction, _suppliers = auction_world(seconds=30)
    stranger = Supplier.create(user_id=999, name="外来者", uscc="91510100XXXXXXXXX1")
    with pytest.raises(FieldError):
        engine.place_bid(stranger, auction.id, Decimal(99000))
    with pytest.raises(FieldError):
        engine.place_bid(world.suppliers[0], auction.id, Decimal(0))


def test_auction_setup_checks(app, world):
    from plugins.procurement import auction as engine
    project = world.project("auction", budget="50000")
    now = utcnow()
    with pytest.raises(FieldError) as exc:
        engine.setup(world.purchaser, project, starts_at=now - dt.timedelta(minutes=1),
                     ends_at=now + dt.timedelta(hours=1), step=Decimal(100))
    assert exc.value.field == "starts_at"
    with pytest.raises(FieldError) as exc:
        engine.setup(world.purchaser, project, starts_at=now + dt.timedelta(minutes=1),
                     ends_at=now + dt.timedelta(hours=1), step=Decimal(60000))
    assert exc.value.field == "step"
    auction = engine.setup(world.purchaser, project, starts_at=now + dt.timedelta(minutes=1),
                           ends_at=now + dt.timedelta(hours=1), step=Decimal(100))
    assert auction.ends_at == auction.planned_end
