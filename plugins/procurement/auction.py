"""Online reverse auctions (网上竞价): the lowest price wins.

Rules (configurable per auction, none statutory): the first bid lowers the ceiling price
(最高限价) and every later valid bid lowers the best price by a whole multiple of the
decrement step (竞价幅度); bidders see each other only by alias; the auction has a fixed
end, and a new best price in its last ``extension_seconds`` extends the end by as much,
never past ``planned_end + max_extension_seconds`` (anti-sniping). The scheduler ends the
auction and awards it.

Bids are serialised per auction: the bid takes the auction's row lock (PostgreSQL ``SELECT
… FOR UPDATE``; on SQLite every write transaction holds the database's write lock) and
only then reads the clock, the best price and the end, so two suppliers bidding in the same
millisecond never both win a price and no bid decided after the end counts. Every
attempt, accepted or refused, is logged in order (``seq``) with the time it was decided:
:func:`decide` replayed over the log gives the same outcome.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from decimal import Decimal

from core.api import FieldError, _, _l, db, is_postgres, local_day, record, utcnow
from plugins.procurement import clocks, ocds
from plugins.procurement.models import (
    Auction,
    AuctionBid,
    AuctionParticipant,
    Award,
    Bid,
    Project,
    Supplier,
)

REASONS = {
    "early": _l("The auction has not started."),
    "late": _l("The auction has ended: the bid came too late."),
    "not_lower": _l("A bid must be lower than the best price."),
    "step": _l("A bid must lower the best price by a whole multiple of the step."),
    "leading": _l("You already hold the best price."),
    "ended": _l("The auction has ended."),
}


@dataclass(frozen=True)
class State:
    """What a bid is decided on."""

    starts_at: dt.datetime
    ends_at: dt.datetime
    cap_end: dt.datetime
    extension: dt.timedelta
    ceiling: Decimal
    step: Decimal
    best_price: Decimal | None = None
    best_participant: int | None = None


def decide(state: State, participant: int, price: Decimal,
           now: dt.datetime) -> tuple[bool, str, State]:
    """(accepted, reason refused, state after) for one bid at ``now``: a pure function."""
    if now < state.starts_at:
        return False, "early", state
    if now >= state.ends_at:
        return False, "late", state
    reference = state.ceiling if state.best_price is None else state.best_price
    if state.best_participant == participant:
        return False, "leading", state
    if price >= reference or price <= 0:
        return False, "not_lower", state
    if (reference - price) % state.step != 0:
        return False, "step", state
    ends_at = state.ends_at
    if ends_at - now <= state.extension:
        ends_at = min(ends_at + state.extension, state.cap_end)
    return True, "", replace(state, best_price=price, best_participant=participant,
                             ends_at=ends_at)


def state_of(auction: Auction) -> State:
    return State(starts_at=auction.starts_at, ends_at=auction.ends_at,
                 cap_end=auction.planned_end
                 + dt.timedelta(seconds=auction.max_extension_seconds),
                 extension=dt.timedelta(seconds=auction.extension_seconds),
                 ceiling=auction.ceiling, step=auction.step, best_price=auction.best_price,
                 best_participant=auction.best_participant_id)


# -- set-up ---------------------------------------------------------------------------------
def setup(user, project: Project, *, starts_at: dt.datetime, ends_at: dt.datetime,
          step: Decimal, extension_seconds: int = 120,
          max_extension_seconds: int = 1800) -> Auction:
    """Schedule the auction of a 网上竞价 project in planning."""
    from plugins.procurement.projects import PURCHASE, require
    require(user, PURCHASE, project.region_id)
    if project.method != "auction" or project.status != "planning":
        raise FieldError("starts_at", _("Only an online-auction project in planning gets "
                                        "an auction."))
    if starts_at <= utcnow():
        raise FieldError("starts_at", _("The auction must start in the future."))
    if ends_at <= starts_at + dt.timedelta(minutes=5):
        raise FieldError("ends_at", _("The auction must last more than 5 minutes."))
    if not isinstance(step, Decimal) or step <= 0 or step >= project.ceiling:
        raise FieldError("step", _("The step must be above 0 and below the ceiling price."))
    if not 10 <= extension_seconds <= 3600:
        raise FieldError("extension_seconds", _("From 10 to 3600 seconds."))
    if not 0 <= max_extension_seconds <= 86400:
        raise FieldError("max_extension_seconds", _("From 0 to 86400 seconds."))
    with db.atomic():
        Auction.delete().where(Auction.project == project.id).execute()
        auction = Auction.create(project=project, ceiling=project.ceiling, step=step,
                                 starts_at=starts_at, planned_end=ends_at, ends_at=ends_at,
                                 extension_seconds=extension_seconds,
                                 max_extension_seconds=max_extension_seconds)
        record("procurement.auction.setup", object_type="procurement_auction",
               object_id=auction.id, region_id=project.region_id, user=user,
               summary=f"{project.number}: auction {starts_at} – {ends_at}, step {step}, "
                       f"extension {extension_seconds}s up to {max_extension_seconds}s")
    return auction


def join(supplier: Supplier, auction: Auction) -> AuctionParticipant:
    """A supplier registers for an auction before it starts and gets its alias."""
    if not supplier.active:
        raise FieldError("supplier", _("This supplier account is suspended."))
    with db.atomic():
        project = Project.get_by_id(auction.project_id)
        if project.status != "auction" or utcnow() >= auction.starts_at:
            raise FieldError("auction", _("Registration closes when the auction starts."))
        existing = AuctionParticipant.get_or_none(
            (AuctionParticipant.auction == auction.id)
            & (AuctionParticipant.supplier == supplier.id))
        if existing is not None:
            return existing
        n = AuctionParticipant.select().where(AuctionParticipant.auction == auction.id).count()
        row = AuctionParticipant.create(auction=auction, supplier=supplier,
                                        alias=_alias(n))
        record("procurement.auction.join", object_type="procurement_auction",
               object_id=auction.id, region_id=project.region_id,
               summary=f"{project.number}: supplier {supplier.id} registered as {row.alias}")
    return row


def _alias(n: int) -> str:
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    return letters[n] if n < len(letters) else f"Z{n}"


# -- bidding ---------------------------------------------------------------------------------
def place_bid(supplier: Supplier, auction_id: int, price: Decimal) -> AuctionBid:
    """Decide one bid under the auction's lock and log it (accepted or refused)."""
    if not isinstance(price, Decimal) or price <= 0:
        raise FieldError("price", _("Expected an amount above 0 yuan."))
    participant = (AuctionParticipant.select(AuctionParticipant, Auction, Project)
                   .join(Auction).join(Project)
                   .where((AuctionParticipant.auction == auction_id)
                          & (AuctionParticipant.supplier == supplier.id)).get_or_none())
    if participant is None:
        raise FieldError("price", _("You are not registered for this auction."))
    project = participant.auction.project
    with db.atomic():
        query = Auction.select().where(Auction.id == auction_id)
        auction = (query.for_update() if is_postgres() else query).get()
        now = utcnow()  # read under the lock: the order of the log is the order of time
        if auction.state != "scheduled":
            accepted, reason, after = False, "ended", state_of(auction)
        else:
            accepted, reason, after = decide(state_of(auction), participant.id, price, now)
        seq = auction.attempts + 1
        row = AuctionBid.create(auction=auction.id, participant=participant.id, seq=seq,
                                price=price, decided_at=now, accepted=accepted,
                                reason=reason, ends_at=after.ends_at)
        changes = {Auction.attempts: seq}
        if accepted:
            changes.update({Auction.best_price: after.best_price,
                            Auction.best_participant_id: participant.id,
                            Auction.ends_at: after.ends_at,
                            Auction.accepted: Auction.accepted + 1})
        Auction.update(changes).where(Auction.id == auction.id).execute()
        record("procurement.auction.bid", object_type="procurement_auction",
               object_id=auction.id, region_id=project.region_id, success=accepted,
               summary=f"{project.number}: #{seq} {participant.alias} {price}"
                       + ("" if accepted else f" refused ({reason})"))
    return row


def end_due() -> list[int]:
    """End every auction past its end and award it to the best price (the scheduler's
    job); an auction without a bid fails."""
    done = []
    for auction in Auction.select().where((Auction.state == "scheduled")
                                          & (Auction.ends_at <= utcnow())):
        if finish(auction.id):
            done.append(auction.id)
    return done


def finish(auction_id: int) -> bool:
    from plugins.procurement.notices import body as announcement_body
    from plugins.procurement.notices import title as notice_title
    with db.atomic():
        query = Auction.select().where(Auction.id == auction_id)
        auction = (query.for_update() if is_postgres() else query).get()
        now = utcnow()
        if auction.state != "scheduled" or auction.ends_at > now:
            return False
        project = Project.get_by_id(auction.project_id)
        best: dict[int, Decimal] = {}
        for pid, price in (AuctionBid.select(AuctionBid.participant, AuctionBid.price)
                           .where((AuctionBid.auction == auction.id)
                                  & (AuctionBid.accepted == True)).tuples()):
            best[pid] = min(price, best.get(pid, price))
        participants = {p.id: p for p in AuctionParticipant.select().where(
            AuctionParticipant.auction == auction.id)}
        bids = {}
        for pid, price in best.items():
            bids[pid] = Bid.create(project=project.id, supplier=participants[pid].supplier_id,
                                   status="valid", submitted_at=now, sealed=b"", receipt="",
                                   price=price)
        if auction.best_participant_id is None:
            Auction.update(state="ended").where(Auction.id == auction.id).execute()
            Project.update(status="unsuccessful").where(Project.id == project.id).execute()
            from plugins.procurement.models import Announcement
            fresh = Project.get_by_id(project.id)
            Announcement.create(region=project.region_id, project=project, kind="termination",
                                title=notice_title("termination", project),
                                body=announcement_body("termination", fresh,
                                                       text=_("No bid was placed.")))
            record("procurement.auction.end", object_type="procurement_auction",
                   object_id=auction.id, region_id=project.region_id,
                   summary=f"{project.number}: auction ended without a bid")
            ocds.write_release(fresh, "tenderCancellation")
            return True
        winner = participants[auction.best_participant_id]
        Auction.update(state="awarded").where(Auction.id == auction.id).execute()
        award = Award.create(project=project, supplier=winner.supplier_id,
                             bid=bids[winner.id], amount=auction.best_price, status="active",
                             fixed_at=now)
        Project.update(status="awarded", winner_fixed_at=now, opened_at=now).where(
            Project.id == project.id).execute()
        clocks.start(project, "result", f"project:{project.id}", local_day(now))
        record("procurement.auction.end", object_type="procurement_auction",
               object_id=auction.id, region_id=project.region_id,
               summary=f"{project.number}: auction ended at {auction.ends_at}; "
                       f"{winner.alias} wins at {auction.best_price} (award {award.id})")
        ocds.write_release(Project.get_by_id(project.id), "award")
    return True


# -- what the live pages show ----------------------------------------------------------------
def snapshot(auction: Auction, participant: AuctionParticipant | None = None,
             reveal: bool = False) -> dict:
    """The live state: best price, end, time left, the accepted bids by alias (names only
    once the auction is over and ``reveal``)."""
    now = utcnow()
    auction = Auction.get_by_id(auction.id)
    over = auction.state != "scheduled" or now >= auction.ends_at
    names = {}
    if reveal and over:
        names = {p.id: p.supplier.name for p in AuctionParticipant.select(
            AuctionParticipant, Supplier).join(Supplier).where(
            AuctionParticipant.auction == auction.id)}
    aliases = dict(AuctionParticipant.select(AuctionParticipant.id, AuctionParticipant.alias)
                   .where(AuctionParticipant.auction == auction.id).tuples())
    log = [{"seq": b.seq, "alias": aliases[b.participant_id],
            "name": names.get(b.participant_id, ""), "price": b.price, "at": b.decided_at}
           for b in AuctionBid.select().where((AuctionBid.auction == auction.id)
                                              & (AuctionBid.accepted == True))
           .order_by(AuctionBid.seq.desc()).limit(50)]
    return {
        "auction": auction, "over": over, "started": now >= auction.starts_at,
        "best": auction.best_price, "reference": auction.best_price or auction.ceiling,
        "next_max": (auction.best_price or auction.ceiling) - auction.step,
        "ends_at": auction.ends_at, "extended": auction.ends_at > auction.planned_end,
        "seconds_left": max(0, int((auction.ends_at - now).total_seconds())),
        "leader": aliases.get(auction.best_participant_id),
        "you": participant.alias if participant else None,
        "leading": participant is not None and auction.best_participant_id == participant.id,
        "log": log, "bidders": len(aliases),
    }
