"""The supplier's pages (供应商): open tenders, its own sealed bids and receipts, the live
auction page, challenges. Only accounts of kind ``supplier`` open them; a supplier sees
only its own bids."""
from __future__ import annotations

import datetime as dt

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from jinja2_fragments.flask import render_block

from core.api import (
    FieldError,
    RateLimited,
    _,
    db,
    for_accounts,
    hit,
    record,
    utcnow,
)
from plugins.procurement import auction, bidding, complaints, suppliers
from plugins.procurement.forms import BidForm, PriceForm, SubjectForm
from plugins.procurement.models import (
    Auction,
    AuctionParticipant,
    Bid,
    BidFile,
    Complaint,
    Project,
)

bp = Blueprint("procurement_supplier", __name__, url_prefix="/supplier",
               template_folder="templates")
KIND = suppliers.KIND

# Per supplier account, counted in the core's rate counters (every attempt, valid or not):
# sealed-bid submissions (each may carry 20 MB files) and auction bids (a bid a second on
# average is far above any human bidder; a burst near the end still fits the window).
BID_SUBMISSIONS = ("procurement.bid", 20, 3600)
AUCTION_BIDS = ("procurement.auction_bid", 60, 60)


def _rate_limit(supplier, limit: tuple[str, int, int], project: Project) -> None:
    """Count one attempt of ``supplier``; over the limit, audit the refusal and answer 429
    (core's RateLimited, with Retry-After) before anything else is read or written."""
    bucket, most, seconds = limit
    with db.atomic():  # the hit and the refusal's audit event stay, whatever follows
        count = hit(bucket, f"supplier:{supplier.id}", seconds)
        if count > most:
            record(f"{bucket}.limited", object_type="procurement_project",
                   object_id=project.id, region_id=project.region_id, success=False,
                   summary=f"{project.number}: supplier {supplier.id} over {most} "
                           f"attempts in {seconds} s")
    if count > most:
        epoch = int(utcnow().replace(tzinfo=dt.UTC).timestamp())
        wait = seconds - epoch % seconds  # until the counter's fixed window ends
        if bucket == BID_SUBMISSIONS[0]:
            message = _("Too many bid submissions from your supplier account: at most "
                        "%(n)d an hour. Please wait %(m)d minutes and try again.",
                        n=most, m=max(1, (wait + 59) // 60))
        else:
            message = _("Too many auction bids from your supplier account: at most %(n)d "
                        "a minute. Please wait %(s)d seconds and try again.", n=most, s=wait)
        raise RateLimited(message, wait)


def _me():
    supplier = suppliers.of_user(current_user)
    if supplier is None:
        abort(403)
    return supplier


def _project(project_id: int) -> Project:
    row = Project.get_or_none(Project.id == project_id)
    if row is None or row.status == "planning":
        abort(404)
    return row


@bp.get("/")
@for_accounts(KIND)
def home():
    me = _me()
    open_tenders = list(Project.select().where(Project.status == "tendering")
                        .order_by(Project.deadline).limit(50))
    auctions = list(Project.select(Project, Auction).join(Auction).where(
        Project.status == "auction").order_by(Auction.starts_at).limit(50))
    my_bids = list(Bid.select(Bid, Project).join(Project).where(
        (Bid.supplier == me.id) & (Bid.sealed != b"")).order_by(Bid.submitted_at.desc())
        .limit(100))
    joined = {p.auction_id for p in AuctionParticipant.select().where(
        AuctionParticipant.supplier == me.id)}
    results = list(Project.select().where(Project.result_announced_at.is_null(False)
                                          & Project.id.in_(Bid.select(Bid.project).where(
                                              Bid.supplier == me.id)))
                   .order_by(Project.result_announced_at.desc()).limit(20))
    return render_template("procurement/supplier_home.html", me=me, tenders=open_tenders,
                           auctions=auctions, bids=my_bids, joined=joined, results=results,
                           now=utcnow())


@bp.route("/tenders/<int:project_id>", methods=["GET", "POST"])
@for_accounts(KIND)
def tender(project_id: int):
    me = _me()
    row = _project(project_id)
    form = BidForm()
    status = 200
    if request.method == "POST":
        _rate_limit(me, BID_SUBMISSIONS, row)
        if form.validate():
            files = [(f.filename or "", f.read(bidding.MAX_FILE_BYTES + 1))
                     for f in request.files.getlist("files") if f and f.filename]
            try:
                bid = bidding.submit(me, row, price=form.price.data, note=form.note.data,
                                     files=files)
            except FieldError as exc:
                form.apply_error(exc)
                status = 422
            else:
                return redirect(url_for("procurement_supplier.receipt", bid_id=bid.id), 303)
        else:
            status = 422
    mine = list(Bid.select().where((Bid.project == row.id) & (Bid.supplier == me.id))
                .order_by(Bid.submitted_at.desc()))
    return render_template("procurement/supplier_tender.html", project=row, form=form,
                           mine=mine, now=utcnow(), me=me,
                           challenge_form=SubjectForm(formdata=None),
                           challenges=list(Complaint.select().where(
                               (Complaint.project == row.id)
                               & (Complaint.supplier == me.id)))), status


@bp.get("/bids/<int:bid_id>/receipt")
@for_accounts(KIND)
def receipt(bid_id: int):
    me = _me()
    bid = Bid.get_or_none((Bid.id == bid_id) & (Bid.supplier == me.id))
    if bid is None:
        abort(404)
    files = list(BidFile.select(BidFile.number, BidFile.receipt).where(BidFile.bid == bid.id)
                 .order_by(BidFile.number))
    return render_template("procurement/supplier_receipt.html", bid=bid, files=files,
                           project=Project.get_by_id(bid.project_id))


@bp.post("/bids/<int:bid_id>/withdraw")
@for_accounts(KIND)
def withdraw(bid_id: int):
    me = _me()
    bid = Bid.get_or_none((Bid.id == bid_id) & (Bid.supplier == me.id))
    if bid is None:
        abort(404)
    bidding.withdraw(me, bid)
    flash(_("Your bid is withdrawn."), "success")
    return redirect(url_for("procurement_supplier.tender", project_id=bid.project_id), 303)


@bp.post("/tenders/<int:project_id>/challenge")
@for_accounts(KIND)
def challenge(project_id: int):
    me = _me()
    row = _project(project_id)
    form = SubjectForm()
    if not form.validate():
        raise FieldError("subject", form.first_error)
    complaints.challenge(me, row, form.subject.data)
    flash(_("Your challenge is filed: the purchaser replies within 7 working days."),
          "success")
    return redirect(url_for("procurement_supplier.tender", project_id=project_id), 303)


@bp.post("/challenges/<int:complaint_id>/complaint")
@for_accounts(KIND)
def complain(complaint_id: int):
    me = _me()
    row = Complaint.get_or_none((Complaint.id == complaint_id) & (Complaint.supplier == me.id))
    if row is None:
        abort(404)
    form = SubjectForm()
    if not form.validate():
        raise FieldError("subject", form.first_error)
    complaints.complain(me, row, form.subject.data)
    flash(_("Your complaint is filed with the finance department."), "success")
    return redirect(url_for("procurement_supplier.tender", project_id=row.project_id), 303)


# -- auctions -------------------------------------------------------------------------------
def _auction(project_id: int) -> tuple[Project, Auction]:
    row = _project(project_id)
    auc = Auction.get_or_none(Auction.project == row.id)
    if auc is None:
        abort(404)
    return row, auc


@bp.post("/auctions/<int:project_id>/join")
@for_accounts(KIND)
def join(project_id: int):
    me = _me()
    _row, auc = _auction(project_id)
    auction.join(me, auc)
    flash(_("You are registered for the auction."), "success")
    return redirect(url_for("procurement_supplier.auction_page", project_id=project_id), 303)


@bp.get("/auctions/<int:project_id>")
@for_accounts(KIND)
def auction_page(project_id: int):
    me = _me()
    row, auc = _auction(project_id)
    participant = AuctionParticipant.get_or_none((AuctionParticipant.auction == auc.id)
                                                 & (AuctionParticipant.supplier == me.id))
    snap = auction.snapshot(auc, participant)
    ctx = {"project": row, "snap": snap, "participant": participant,
           "form": PriceForm(formdata=None), "message": None}
    if request.headers.get("HX-Request") == "true":
        resp = make_response(render_block("procurement/supplier_auction.html", "live", **ctx))
        if snap["over"]:
            resp.status_code = 286
        return resp
    return render_template("procurement/supplier_auction.html", **ctx)


@bp.post("/auctions/<int:project_id>/bid")
@for_accounts(KIND)
def auction_bid(project_id: int):
    me = _me()
    row, auc = _auction(project_id)
    _rate_limit(me, AUCTION_BIDS, row)
    form = PriceForm()
    if not form.validate():
        raise FieldError("price", form.first_error)
    result = auction.place_bid(me, auc.id, form.price.data)
    participant = AuctionParticipant.get_by_id(result.participant_id)
    message = (_("Accepted: you hold the best price.") if result.accepted
               else str(auction.REASONS.get(result.reason, result.reason)))
    ctx = {"project": row, "snap": auction.snapshot(auc, participant),
           "participant": participant, "form": PriceForm(formdata=None),
           "message": message, "accepted": result.accepted}
    if request.headers.get("HX-Request") == "true":  # the answer is the live block, in place
        return render_block("procurement/supplier_auction.html", "live", **ctx)
    return render_template("procurement/supplier_auction.html", **ctx), \
        200 if result.accepted else 422
