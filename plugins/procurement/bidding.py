"""Sealed e-tendering (电子招投标): bids sealed until the opening (开标) at the deadline.

A tender's bids are sealed with the core sealing service (``core.api.sealing``) to a key
made when the bidding opens, whose private part only a threshold of its custodians (the
purchaser's, the agency's and the supervisor's) can rebuild, and only from the deadline
on. The server keeps no way to read a bid before then: the price and the files exist in
plaintext only in the memory of the request that seals them. The supplier gets a receipt
(SHA-256 of the stored ciphertext, and the time) that the audit trail records too.

At the deadline the scheduler closes the bidding (a bid arriving later is refused by the
submission itself, by the server's clock), publishes who bid and calls the custodians;
the moment enough custodians have released their shares, the job opens every bid,
records the prices and publishes the opening record (开标记录) as an OCDS release.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal

from core.api import (
    AlertSpec,
    FieldError,
    _,
    clean_text,
    db,
    emit_many,
    has_permission,
    is_postgres,
    record,
    sealing,
    utcnow,
)
from plugins.procurement import ocds
from plugins.procurement.methods import METHODS
from plugins.procurement.models import Announcement, Bid, BidFile, Project, Supplier

CUSTODY = "procurement.custody"
SUPERVISE = "procurement.supervise"
PURPOSE = "procurement.tender"
THRESHOLD = 2
MIN_BIDDERS = 3
MAX_FILES = 5
MAX_FILE_BYTES = 20 * 1024 * 1024
REMIND_BEFORE = dt.timedelta(hours=24)  # custodians are told of an opening a day ahead
UPCOMING = "procurement.opening.upcoming"
FILE_TYPES = {b"%PDF": "application/pdf", b"PK\x03\x04": "application/zip"}


def default_custodians(region_id: int) -> list:
    """Three enrolled custodians covering the region: a supervisor's first, then the
    purchaser's and the agency's side (the first enrolled of each, by name)."""
    found = sealing.custodians_for(CUSTODY, region_id)
    supervisors = [u for u in found if has_permission(u, SUPERVISE, region_id)]
    others = [u for u in found if u not in supervisors]
    chosen = supervisors[:1] + others[:2]
    chosen += [u for u in found if u not in chosen][:3 - len(chosen)]
    return chosen


def make_seal(user, project: Project, deadline: dt.datetime, custodians: list):
    """The seal of a tender's bids: 2 of its 3 (or more) custodians open it at the deadline."""
    chosen = custodians or default_custodians(project.region_id)
    eligible = {u.id for u in sealing.custodians_for(CUSTODY, project.region_id)}
    for person in chosen:
        if person.id not in eligible:
            raise FieldError("custodians", _("%(name)s is not an enrolled custodian for this "
                                             "region.", name=person.username))
    if len({u.id for u in chosen}) < 3:
        raise FieldError("custodians", _(
            "A sealed tender needs three enrolled custodians covering its region (the "
            "purchaser's, the agency's and the supervisor's); %(n)d found.",
            n=len({u.id for u in chosen})))
    try:
        return sealing.create_seal(PURPOSE, project.number, opens_at=deadline,
                                   custodians=chosen, threshold=THRESHOLD,
                                   region_id=project.region_id, by=user)
    except sealing.SealError as exc:
        raise FieldError("custodians", str(exc)) from None


def schedule_opening(project_id: int, deadline: dt.datetime) -> None:
    """Ask the queue to run the opening at the deadline (the minute sweep is the
    durable fallback: the project row says what is due)."""
    from plugins.procurement.tasks import open_project
    open_project.schedule(args=(project_id,), eta=deadline)


def postpone(user, project: Project, deadline: dt.datetime) -> None:
    seal = sealing.get_seal(PURPOSE, project.number)
    try:
        sealing.reschedule(seal, deadline, by=user)
    except sealing.SealError as exc:
        raise FieldError("new_deadline", str(exc)) from None
    schedule_opening(project.id, deadline)


# -- submission -------------------------------------------------------------------------------
def _sniff(data: bytes, field: str) -> str:
    for magic, kind in FILE_TYPES.items():
        if data.startswith(magic):
            return kind
    raise FieldError(field, _("Bid files are PDF documents or ZIP archives."))


def submit(supplier: Supplier, project: Project, *, price: Decimal, note: str = "",
           files: list[tuple[str, bytes]] = ()) -> Bid:
    """Submit (or replace) the supplier's sealed bid. Refused at or after the deadline by
    the server's clock, taken once the project row is locked."""
    note = clean_text(note, "note", max_length=2000, multiline=True)
    if not isinstance(price, Decimal) or price <= 0:
        raise FieldError("price", _("Expected an amount above 0 yuan."))
    if price > project.ceiling:
        raise FieldError("price", _("The price is above the ceiling price (%(c)s yuan): "
                                    "such a bid would be void.", c=project.ceiling))
    if len(files) > MAX_FILES:
        raise FieldError("files", _("At most %(n)d files.", n=MAX_FILES))
    described = []
    for n, (name, data) in enumerate(files, start=1):
        name = clean_text(name, "files", max_length=200) or f"file-{n}"
        if len(data) > MAX_FILE_BYTES:
            raise FieldError("files", _("%(name)s is larger than 20 MB.", name=name))
        described.append({"name": name, "size": len(data), "type": _sniff(data, "files"),
                          "sha256": hashlib.sha256(data).hexdigest()})
    if not supplier.active:
        raise FieldError("supplier", _("This supplier account is suspended."))
    with db.atomic():
        query = Project.select().where(Project.id == project.id)
        current = (query.for_update() if is_postgres() else query).get()
        now = utcnow()
        if current.status != "tendering" or current.deadline is None:
            raise FieldError("price", _("This project does not take bids."))
        if now >= current.deadline:
            raise FieldError("price", _("The bid deadline passed at %(when)s: late bids are "
                                        "refused.", when=_local(current.deadline)))
        seal = sealing.get_seal(PURPOSE, current.number)
        superseded = (Bid.update(status="superseded")
                      .where((Bid.project == project.id) & (Bid.supplier == supplier.id)
                             & (Bid.status == "sealed")).execute())
        bid = Bid.create(project=project.id, supplier=supplier.id, status="sealed",
                         submitted_at=now, sealed=b"", receipt="")
        content = json.dumps({"price": str(price), "note": note, "files": described},
                             ensure_ascii=False).encode()
        try:
            box = sealing.seal_data(seal, content, context=f"bid:{bid.id}")
            file_boxes = [sealing.seal_data(seal, json.dumps(d).encode() + b"\n" + data,
                                            context=f"bidfile:{bid.id}:{n}")
                          for n, (d, (_name, data)) in enumerate(zip(described, files,
                                                                     strict=True), start=1)]
        except sealing.SealError as exc:
            raise FieldError("price", str(exc)) from None
        receipt = sealing.receipt(box)
        Bid.update(sealed=box, receipt=receipt).where(Bid.id == bid.id).execute()
        for n, fbox in enumerate(file_boxes, start=1):
            BidFile.create(bid=bid.id, number=n, sealed=fbox, receipt=sealing.receipt(fbox))
        record("procurement.bid.submit", object_type="procurement_bid", object_id=bid.id,
               region_id=current.region_id, user=None,
               summary=f"{current.number}: sealed bid of supplier {supplier.id}, receipt "
                       f"{receipt}, {len(file_boxes)} file(s), at {now.isoformat()}Z"
                       + (", replacing the earlier bid" if superseded else ""))
    return Bid.get_by_id(bid.id)


def _local(moment: dt.datetime) -> str:
    from flask_babel import format_datetime
    return format_datetime(moment, "yyyy-MM-dd HH:mm")


def withdraw(supplier: Supplier, bid: Bid) -> Bid:
    """Withdraw a sealed bid before the deadline (it stays sealed, never opened)."""
    with db.atomic():
        project = Project.get_by_id(bid.project_id)
        if bid.supplier_id != supplier.id or bid.status != "sealed":
            raise FieldError("bid", _("Only your own sealed bid can be withdrawn."))
        if utcnow() >= project.deadline:
            raise FieldError("bid", _("The deadline has passed: the bid can no longer be "
                                      "withdrawn."))
        Bid.update(status="withdrawn").where(Bid.id == bid.id).execute()
        record("procurement.bid.withdraw", object_type="procurement_bid", object_id=bid.id,
               region_id=project.region_id, summary=f"{project.number}: bid withdrawn")
    return Bid.get_by_id(bid.id)


# -- opening ----------------------------------------------------------------------------------
def close_due() -> list[int]:
    """At each deadline: close the bidding. Too few bidders: the tender fails unopened;
    else the opening starts and the custodians are called. Returns the projects closed."""
    closed = []
    due = list(Project.select().where((Project.status == "tendering")
                                      & (Project.deadline <= utcnow()))
               .order_by(Project.deadline).limit(200))
    for project in due:
        with db.atomic():
            n = (Project.update(status="opening", opening_state="opening")
                 .where((Project.id == project.id) & (Project.status == "tendering"))
                 .execute())
            if not n:
                continue
            bidders = (Bid.select(Bid.supplier).where((Bid.project == project.id)
                                                      & (Bid.status == "sealed"))
                       .distinct().count())
            record("procurement.opening.start", object_type="procurement_project",
                   object_id=project.id, region_id=project.region_id,
                   summary=f"{project.number}: bidding closed at the deadline, "
                           f"{bidders} bidder(s)")
            if bidders < MIN_BIDDERS:
                _fail_unopened(project, bidders)
            else:
                _call_custodians(project)
                ocds.write_release(Project.get_by_id(project.id), "tenderUpdate")
        closed.append(project.id)
    return closed


def remind_custodians() -> int:
    """A day before each opening (开标前提醒), tell each of its custodians the time and that
    their passphrase will be needed: the bids open only when two of them come. Once per
    custodian and deadline — a postponed deadline is a new opening, told again, and the
    reminders of the old time are resolved (the alerts, of any state, say which openings
    were told; the audit trail records each telling). Returns the reminders raised."""
    now = utcnow()
    soon = list(Project.select().where((Project.status == "tendering")
                                       & (Project.deadline > now)
                                       & (Project.deadline <= now + REMIND_BEFORE))
                .order_by(Project.deadline).limit(500))
    if not soon:
        return 0
    from core.api import Alert, Region, resolve
    openings = {p.id: f"{p.id}@{p.deadline:%Y%m%dT%H%M%S}" for p in soon}
    # the openings told already, in one read of this kind's alerts (of any state)
    told = {key.split(":")[1] for (key,) in Alert.select(Alert.dedupe_key).where(
        (Alert.kind == UPCOMING)
        & Alert.ref.in_([f"procurement.project:{pid}" for pid in openings])).tuples()}
    raised = 0
    for project in soon:
        opening = openings[project.id]
        if opening in told:
            continue
        seal = sealing.get_seal(PURPOSE, project.number)
        if seal is None:
            continue
        region = Region.get_by_id(project.region_id)
        subject = (f"{project.number} {project.title}: "
                   + _("the bids open at %(when)s; release your custody share then, with "
                       "your passphrase", when=_local(project.deadline)))
        ref = f"procurement.project:{project.id}"
        with db.atomic():
            for stale in Alert.select().where((Alert.kind == UPCOMING)
                                              & (Alert.ref == ref)
                                              & (Alert.state != "resolved")):
                resolve(stale, None, _("The deadline has moved: see the newer reminder."))
            emit_many([AlertSpec(UPCOMING, region, subject,
                                 target_user=share.custodian_id, ref=ref,
                                 dedupe_key=f"procurement.upcoming:{opening}:{share.custodian_id}")
                       for share in seal.shares])
            record("procurement.opening.remind", object_type="procurement_opening",
                   object_id=opening, region_id=project.region_id,
                   summary=f"{project.number}: {len(seal.shares)} custodian(s) told of the "
                           f"opening at {project.deadline:%Y-%m-%d %H:%M} UTC")
        raised += len(seal.shares)
    return raised


def _fail_unopened(project: Project, bidders: int) -> None:
    from plugins.procurement.notices import body as announcement_body
    from plugins.procurement.notices import title as notice_title
    Bid.update(status="unopened").where((Bid.project == project.id)
                                        & (Bid.status == "sealed")).execute()
    Project.update(status="unsuccessful", opening_state="").where(
        Project.id == project.id).execute()
    fresh = Project.get_by_id(project.id)
    reason = _("Fewer than %(n)d suppliers bid (%(k)d): the bids are not opened and the "
               "procurement fails (财政部令第87号).", n=MIN_BIDDERS, k=bidders)
    Announcement.create(region=project.region_id, project=project, kind="termination",
                        title=notice_title("termination", project),
                        body=announcement_body("termination", fresh, text=reason))
    ocds.write_release(fresh, "tenderCancellation")


def _call_custodians(project: Project) -> None:
    seal = sealing.get_seal(PURPOSE, project.number)
    from core.api import Region
    region = Region.get_by_id(project.region_id)
    specs = [AlertSpec("procurement.opening.release", region,
                       f"{project.number} {project.title}: "
                       + _("the bid opening has started; release your custody share"),
                       target_user=share.custodian_id, ref=f"procurement.project:{project.id}",
                       dedupe_key=f"procurement.opening:{project.id}:{share.custodian_id}")
             for share in seal.shares]
    emit_many(specs)


def release(user, passphrase: str, projects: list[Project]) -> list[Project]:
    """The custodian releases their shares of the openings of ``projects``."""
    seals = []
    projects = [Project.get_by_id(p.id) for p in projects]
    for project in projects:
        if project.opening_state != "opening":
            raise FieldError("passphrase", _("%(n)s is not being opened.", n=project.number))
        seals.append(sealing.get_seal(PURPOSE, project.number))
    try:
        sealing.release_shares(seals, user, passphrase)
    except sealing.SealError as exc:
        raise FieldError("passphrase", str(exc)) from None
    return projects


def complete_ready() -> list[int]:
    """Open every project whose opening has enough released shares."""
    done = []
    for project in Project.select().where(Project.opening_state == "opening"):
        seal = sealing.get_seal(PURPOSE, project.number)
        if seal is not None and sealing.is_ready(seal):
            open_bids(project)
            done.append(project.id)
    return done


def open_bids(project: Project) -> int:
    """Open the sealed bids of ``project``: prices recorded, the opening record published.
    A bid whose box does not open counts as not decrypted (withdrawn)."""
    seal = sealing.get_seal(PURPOSE, project.number)
    opener = sealing.open_seal(seal)
    with db.atomic():
        n = (Project.update(opening_state="opened", status="evaluation", opened_at=utcnow())
             .where((Project.id == project.id) & (Project.opening_state == "opening"))
             .execute())
        if not n:
            return 0
        opened = 0
        for bid in Bid.select().where((Bid.project == project.id) & (Bid.status == "sealed")):
            try:
                content = json.loads(opener.open(bid.sealed, context=f"bid:{bid.id}"))
                price = Decimal(content["price"])
            except (sealing.SealError, ValueError, KeyError):
                Bid.update(status="unopened").where(Bid.id == bid.id).execute()
                continue
            Bid.update(status="valid", price=price).where(Bid.id == bid.id).execute()
            opened += 1
        record("procurement.opening.done", object_type="procurement_project",
               object_id=project.id, region_id=project.region_id,
               summary=f"{project.number}: {opened} bid(s) opened")
        ocds.write_release(Project.get_by_id(project.id), "tenderUpdate")
    return opened


def bid_content(bid: Bid) -> dict:
    """The opened content of a bid (note and file list): after the opening only."""
    project = Project.get_by_id(bid.project_id)
    if project.opening_state != "opened":
        raise FieldError("bid", _("Bids stay sealed until the opening."))
    opener = sealing.open_seal(sealing.get_seal(PURPOSE, project.number))
    return json.loads(opener.open(bid.sealed, context=f"bid:{bid.id}"))


def bid_file(bid: Bid, number: int) -> tuple[dict, bytes]:
    """(description, content) of an opened bid's file."""
    project = Project.get_by_id(bid.project_id)
    if project.opening_state != "opened":
        raise FieldError("bid", _("Bids stay sealed until the opening."))
    row = BidFile.get_or_none((BidFile.bid == bid.id) & (BidFile.number == number))
    if row is None:
        raise FieldError("file", _("No such file."))
    opener = sealing.open_seal(sealing.get_seal(PURPOSE, project.number))
    plain = opener.open(row.sealed, context=f"bidfile:{bid.id}:{number}")
    head, _sep, data = plain.partition(b"\n")
    return json.loads(head), data


def method_sealed(project: Project) -> bool:
    return METHODS[project.method].sealed_bids
