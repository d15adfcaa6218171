"""Open Contracting Data Standard 1.1 (开放合同数据标准): releases, records, packages.

Every state change of a project writes one immutable release (a snapshot of the process
with the tag of the change) in the transaction of the change. A record's compiled release
is the newest snapshot (snapshots only ever add to the process, so merging them gives the
newest), tagged ``compiled``. Exports are validated offline against the vendored schemas
(``schema/``, with the bids extension merged in) by ``jsonschema``; the bulk export streams
records in id order, a few hundred at a time, so its memory does not grow with the number
of processes.
"""
from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

from flask import current_app

from core.api import utcnow
from plugins.procurement.methods import METHODS, method

SCHEMA_DIR = Path(__file__).parent / "schema"
BASE = "https://standard.open-contracting.org/schema/1__1__5/"
BIDS_EXTENSION = ("https://raw.githubusercontent.com/open-contracting-extensions/"
                  "ocds_bid_extension/v1.1.5/extension.json")
PUBLISHER = {"name": "Qinglian", "scheme": "", "uid": "", "uri": ""}
CURRENCY = "CNY"
CHUNK = 500


def prefix() -> str:
    """The deployment's ocid prefix (QL_OCDS_PREFIX, ``ocds-`` + 6 characters from OCP)."""
    return current_app.config["QL_SETTINGS"].ocds_prefix


def iso(moment: dt.datetime | dt.date | None) -> str | None:
    if moment is None:
        return None
    if isinstance(moment, dt.datetime):
        return moment.replace(microsecond=0).isoformat() + "Z"
    return dt.datetime.combine(moment, dt.time()).isoformat() + "Z"


def money(amount) -> dict | None:
    if amount is None:
        return None
    return {"amount": float(Decimal(amount)), "currency": CURRENCY}


def _party_buyer(project) -> dict:
    return {"id": f"CN-QL-DEPT-{project.department_id}", "name": project.department.name}


def _party_supplier(supplier) -> dict:
    return {"id": f"CN-USCC-{supplier.uscc}", "name": supplier.name}


def _tender_status(project) -> str:
    return {"planning": "planning", "tendering": "active", "opening": "active",
            "evaluation": "active", "auction": "active", "awarded": "complete",
            "contracted": "complete", "complete": "complete", "cancelled": "cancelled",
            "unsuccessful": "unsuccessful"}[project.status]


BID_STATUS = {"valid": "valid", "disqualified": "disqualified", "withdrawn": "withdrawn",
              "unopened": "withdrawn"}


def build_release(project, tag: str, date: dt.datetime, seq: int) -> dict:
    """A full snapshot of ``project`` as an OCDS release with ``tag``."""
    from plugins.procurement.models import (
        Announcement,
        Auction,
        AuctionBid,
        AuctionParticipant,
        Award,
        Bid,
        Contract,
        ContractChange,
        PlanItem,
    )
    m = method(project.method)
    buyer = _party_buyer(project)
    parties = {buyer["id"]: dict(buyer, roles=["buyer"] + ([] if project.agency
                                                          else ["procuringEntity"]))}
    procuring = buyer
    if project.agency:
        procuring = {"id": f"CN-QL-AGENCY-{project.id}", "name": project.agency}
        parties[procuring["id"]] = dict(procuring, roles=["procuringEntity"])

    def supplier_party(supplier, role):
        ref = _party_supplier(supplier)
        entry = parties.setdefault(ref["id"], dict(ref, roles=[]))
        if role not in entry["roles"]:
            entry["roles"].append(role)
        return ref

    items = []
    if project.plan_id:
        for item in PlanItem.select().where(PlanItem.plan == project.plan_id).order_by(
                PlanItem.id):
            items.append({"id": str(item.id), "description": item.description,
                          "classification": {"scheme": "CN-ZFCGPM", "id": item.classification},
                          "quantity": float(item.quantity),
                          **({"unit": {"name": item.unit}} if item.unit else {})})
    if not items:
        items.append({"id": "1", "description": project.title,
                      **({"classification": {"scheme": "CN-ZFCGPM",
                                             "id": project.classification}}
                         if project.classification else {})})
    tender: dict = {
        "id": project.number, "title": project.title, "status": _tender_status(project),
        "procuringEntity": procuring, "items": items, "value": money(project.ceiling),
        "procurementMethod": m.ocds, "procurementMethodDetails": str(m.label),
        "mainProcurementCategory": project.category,
        "awardCriteria": "priceOnly" if project.method in ("inquiry", "auction")
        else "ratedCriteria",
        "submissionMethod": ["electronicAuction" if project.method == "auction"
                             else "electronicSubmission"],
    }
    if project.description:
        tender["description"] = project.description
    if project.method_reason:
        tender["procurementMethodRationale"] = project.method_reason
    if project.docs_issued_at and project.deadline:
        tender["tenderPeriod"] = {"startDate": iso(project.docs_issued_at),
                                  "endDate": iso(project.deadline)}
    notices = list(Announcement.select().where(Announcement.project == project.id)
                   .order_by(Announcement.published_at, Announcement.id))
    if notices:
        tender["documents"] = [{"id": f"notice-{n.id}", "documentType": _doc_type(n.kind),
                                "title": n.title, "datePublished": iso(n.published_at)}
                               for n in notices]
        amendments = [{"id": f"notice-{n.id}", "date": iso(n.published_at),
                       "rationale": n.title} for n in notices if n.kind == "correction"]
        if amendments:
            tender["amendments"] = amendments
    release: dict = {
        "ocid": project.ocid, "id": f"{project.ocid}-{seq:04d}", "date": iso(date),
        "tag": [tag], "initiationType": "tender", "language": "zh",
        "buyer": buyer,
        "planning": {"budget": {"amount": money(project.budget)},
                     **({"rationale": project.plan.title} if project.plan_id else {})},
        "tender": tender,
    }
    bids = []
    if project.opening_state == "opened" or project.method == "single_source":
        for bid in (Bid.select().where((Bid.project == project.id)
                                       & Bid.status.in_(tuple(BID_STATUS)))
                    .order_by(Bid.id)):
            entry = {"id": str(bid.id), "date": iso(bid.submitted_at),
                     "status": BID_STATUS[bid.status],
                     "tenderers": [supplier_party(bid.supplier, "tenderer")]}
            if bid.price is not None:
                entry["value"] = money(bid.price)
            bids.append(entry)
    auction = Auction.get_or_none(Auction.project == project.id)
    if auction is not None and auction.state in ("ended", "awarded"):
        best = {}
        for participant_id, price in (AuctionBid.select(AuctionBid.participant, AuctionBid.price)
                                      .where((AuctionBid.auction == auction.id)
                                             & (AuctionBid.accepted == True)).tuples()):
            best[participant_id] = min(price, best.get(participant_id, price))
        for p in (AuctionParticipant.select().where(AuctionParticipant.auction == auction.id)
                  .order_by(AuctionParticipant.id)):
            if p.id in best:
                bids.append({"id": f"auction-{p.id}", "status": "valid",
                             "value": money(best[p.id]),
                             "tenderers": [supplier_party(p.supplier, "tenderer")]})
    if bids:
        release["bids"] = {"statistics": [{"id": "bids", "measure": "bids",
                                           "value": len(bids)}], "details": bids}
        tenderers = {t["id"]: t for b in bids for t in b["tenderers"]}
        tender["numberOfTenderers"] = len(tenderers)
        tender["tenderers"] = list(tenderers.values())
    awards = list(Award.select().where(Award.project == project.id).order_by(Award.id))
    if awards:
        release["awards"] = [{
            "id": str(a.id), "status": a.status, "date": iso(a.notice_at or a.fixed_at),
            "value": money(a.amount), "suppliers": [supplier_party(a.supplier, "supplier")],
            **({"relatedBid": str(a.bid_id)} if a.bid_id else {})} for a in awards]
    contracts = list(Contract.select().where(Contract.project == project.id)
                     .order_by(Contract.id))
    if contracts:
        release["contracts"] = [_contract(c, ContractChange) for c in contracts]
    release["parties"] = list(parties.values())
    return release


def _doc_type(kind: str) -> str:
    return {"intention": "procurementPlan", "tender": "tenderNotice",
            "competitive": "tenderNotice", "prequalification": "tenderNotice",
            "result": "awardNotice", "contract": "contractNotice",
            "correction": "tenderNotice", "termination": "tenderNotice"}.get(kind,
                                                                              "tenderNotice")


def _contract(c, ContractChange) -> dict:
    out = {"id": str(c.id), "awardID": str(c.award_id or ""), "status": c.status,
           "value": money(c.amount), "title": c.number or None}
    if c.signed_on:
        out["dateSigned"] = iso(c.signed_on)
    if c.period_start and c.period_end:
        out["period"] = {"startDate": iso(c.period_start), "endDate": iso(c.period_end)}
    changes = list(ContractChange.select().where(ContractChange.contract == c.id)
                   .order_by(ContractChange.day, ContractChange.id))
    amendments = [{"id": str(x.id), "date": iso(x.day), "rationale": x.title}
                  for x in changes if x.kind == "amendment"]
    if amendments:
        out["amendments"] = amendments
    transactions = [{"id": str(x.id), "date": iso(x.day), "value": money(x.amount),
                     "payee": {"id": f"CN-USCC-{c.supplier.uscc}", "name": c.supplier.name}}
                    for x in changes if x.kind == "payment"]
    milestones = [{"id": str(x.id), "title": x.title, "type": "delivery",
                   "dueDate": iso(x.due_on), "status": "met" if x.done else "scheduled",
                   **({"dateMet": iso(x.day)} if x.done else {})}
                  for x in changes if x.kind in ("milestone", "acceptance")]
    if transactions or milestones:
        out["implementation"] = {k: v for k, v in (("transactions", transactions),
                                                   ("milestones", milestones)) if v}
    return {k: v for k, v in out.items() if v is not None}


def write_release(project, tag: str, evaluate: bool = True) -> dict:
    """Write the next release of ``project`` (call inside the change's transaction) and
    run the red-flag rules over it (history written in bulk runs one pass at the end)."""
    from plugins.procurement.models import Project, Release
    Project.update(release_seq=Project.release_seq + 1).where(Project.id == project.id) \
        .execute()
    seq = Project.select(Project.release_seq).where(Project.id == project.id).scalar()
    fresh = Project.get_by_id(project.id)
    now = utcnow()
    last = (Release.select(Release.date).where(Release.project == project.id)
            .order_by(Release.seq.desc()).scalar())
    if last is not None and now <= last:
        now = last + dt.timedelta(seconds=1)  # release dates increase within a process
    data = build_release(fresh, tag, now, seq)
    Release.create(project=project.id, seq=seq, release_id=data["id"], tag=tag, date=now,
                   data=json.dumps(data, ensure_ascii=False, separators=(",", ":")))
    if evaluate:
        from plugins.procurement.rules import evaluate_project
        evaluate_project(fresh)
    return data


# -- packages ----------------------------------------------------------------------------
def _package_head(uri: str) -> dict:
    return {"uri": uri, "version": "1.1", "extensions": [BIDS_EXTENSION],
            "publishedDate": iso(utcnow()), "publisher": PUBLISHER,
            "license": "https://creativecommons.org/licenses/by/4.0/",
            "publicationPolicy": uri.rsplit("/", 1)[0] + "/"}


def compiled(release_json: str, ocid: str) -> dict:
    data = json.loads(release_json)
    data["id"] = f"{ocid}-compiled"
    data["tag"] = ["compiled"]
    return data


def release_package(project, uri: str) -> dict:
    from plugins.procurement.models import Release
    rows = Release.select(Release.data).where(Release.project == project.id) \
        .order_by(Release.seq)
    return dict(_package_head(uri), releases=[json.loads(r.data) for r in rows])


def record(project) -> dict:
    from plugins.procurement.models import Release
    rows = list(Release.select(Release.data).where(Release.project == project.id)
                .order_by(Release.seq))
    return {"ocid": project.ocid, "releases": [json.loads(r.data) for r in rows],
            "compiledRelease": compiled(rows[-1].data, project.ocid)}


def record_package(project, uri: str) -> dict:
    return dict(_package_head(uri), records=[record(project)])


def stream_bulk(uri: str, kind: str, project_ids_query) -> Iterator[str]:
    """A release or record package of every project ``project_ids_query`` selects (ids),
    written piece by piece: a few hundred processes' releases are in memory at a time.
    Records carry their releases as links (URL, date, tag) and their compiled release."""
    from plugins.procurement.models import Project, Release
    head = _package_head(uri)
    key = "releases" if kind == "release" else "records"
    yield json.dumps(head, ensure_ascii=False)[:-1] + f', "{key}": ['
    first, last_id = True, 0
    while True:
        ids = [i for (i,) in project_ids_query.where(Project.id > last_id)
               .order_by(Project.id).limit(CHUNK).tuples()]
        if not ids:
            break
        last_id = ids[-1]
        rows = (Release.select(Release.project, Release.seq, Release.release_id, Release.tag,
                               Release.date, Release.data)
                .where(Release.project.in_(ids)).order_by(Release.project, Release.seq)
                .tuples())
        if kind == "release":
            for _pid, _seq, _rid, _tag, _date, data in rows.iterator():
                yield ("" if first else ",") + data
                first = False
            continue
        group: list = []
        for row in rows.iterator():
            if group and group[0][0] != row[0]:
                yield ("" if first else ",") + _record_json(group, uri)
                first = False
                group = []
            group.append(row)
        if group:
            yield ("" if first else ",") + _record_json(group, uri)
            first = False
    yield "]}"


def _record_json(rows, uri: str) -> str:
    base = uri.rsplit("/", 1)[0]
    data = json.loads(rows[-1][5])
    ocid = data["ocid"]
    links = [{"url": f"{base}/{ocid}/releases.json#{rid}", "date": iso(date), "tag": [tag]}
             for _pid, _seq, rid, tag, date, _data in rows]
    data["id"], data["tag"] = f"{ocid}-compiled", ["compiled"]
    return json.dumps({"ocid": ocid, "releases": links, "compiledRelease": data},
                      ensure_ascii=False, separators=(",", ":"))


# -- validation ----------------------------------------------------------------------------
def _load(name: str) -> dict:
    return json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))


def _merge_patch(target, patch):
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = _merge_patch(out.get(key), value)
    return out


@functools.cache
def validators() -> dict:
    """Draft-4 validators of the release schema (with the bids extension) and the two
    package schemas, resolving every ``$ref`` URL to the vendored files (no network)."""
    from jsonschema import Draft4Validator, FormatChecker
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4
    release = _merge_patch(_load("release-schema.json"), _load("bids/release-schema.json"))
    schemas = {"release-schema.json": release,
               "release-package-schema.json": _load("release-package-schema.json"),
               "record-package-schema.json": _load("record-package-schema.json"),
               "versioned-release-validation-schema.json":
                   _load("versioned-release-validation-schema.json")}
    registry = Registry().with_resources(
        (BASE + name, Resource.from_contents(schema, default_specification=DRAFT4))
        for name, schema in schemas.items())
    checker = FormatChecker()
    return {kind: Draft4Validator(schemas[f"{kind}-schema.json"], registry=registry,
                                  format_checker=checker)
            for kind in ("release", "release-package", "record-package")}


def errors(data: dict, kind: str) -> list[str]:
    """Schema errors of ``data`` (a ``release``, ``release-package`` or ``record-package``),
    each as "path: message"; empty when valid."""
    out = []
    for err in sorted(validators()[kind].iter_errors(data), key=lambda e: list(e.path)):
        path = "/".join(str(p) for p in err.absolute_path)
        out.append(f"{path or '(root)'}: {err.message}")
    return out


def codelist(name: str) -> set[str]:
    import csv
    path = SCHEMA_DIR / "codelists" / f"{name}.csv"
    with path.open(encoding="utf-8") as fh:
        return {row["Code"] for row in csv.DictReader(fh)}


def method_codes() -> set[str]:
    return {m.ocds for m in METHODS.values()}
