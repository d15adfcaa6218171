"""The vocabulary of Chinese government procurement and its OCDS codes: methods (采购方式),
categories, and the 13 announcement types of 财办库〔2020〕50号."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from core.api import _l


@dataclass(frozen=True)
class Method:
    code: str
    label: object
    ocds: str  # OCDS method codelist: open | selective | limited | direct
    basis: str  # the article that allows it
    competitive: bool
    sealed_bids: bool  # bids sealed until an opening (e-tendering)
    committee_min: int  # smallest committee (评标委员会 or 谈判/磋商/询价小组)
    needs_reason: bool  # a reason and, above the open-tender threshold, an approval


METHODS = {m.code: m for m in (
    Method("open_tender", _l("Open tendering (公开招标)"), "open",
           "政府采购法第二十六条第一项", True, True, 5, False),
    Method("invited_tender", _l("Invited tendering (邀请招标)"), "selective",
           "政府采购法第二十九条", True, True, 5, True),
    Method("negotiation", _l("Competitive negotiation (竞争性谈判)"), "limited",
           "政府采购法第三十条", True, True, 3, True),
    Method("consultation", _l("Competitive consultation (竞争性磋商)"), "limited",
           "财库〔2014〕214号第三条", True, True, 3, True),
    Method("inquiry", _l("Request for quotations (询价)"), "limited",
           "政府采购法第三十二条", True, True, 3, True),
    Method("single_source", _l("Single source (单一来源)"), "direct",
           "政府采购法第三十一条", False, False, 3, True),
    Method("framework", _l("Framework agreement (框架协议)"), "open",
           "财政部令第110号", True, True, 3, True),
    Method("auction", _l("Online reverse auction (网上竞价)"), "open",
           "地方电子卖场规则", True, False, 0, False),
)}

CATEGORIES = {"goods": _l("Goods"), "works": _l("Works"), "services": _l("Services")}

# 公开招标数额标准 (yuan): a purchase at or above it is tendered openly unless the finance
# department approves another method (政府采购法第二十七条). Provinces set their own; these
# are the State Council's for the central budget, a region changes them on the CN-SPLIT rule.
OPEN_TENDER_THRESHOLD = {"goods": Decimal(2000000), "services": Decimal(2000000),
                         "works": Decimal(4000000)}
LARGE_BUDGET = Decimal(10000000)  # ≥ 10 million: a committee of at least 7 (87号令第四十七条)


@dataclass(frozen=True)
class AnnouncementKind:
    code: str
    number: int
    label: object
    tag: str  # the OCDS release tag it publishes


ANNOUNCEMENT_KINDS = {k.code: k for k in (
    AnnouncementKind("intention", 1, _l("Procurement intention (政府采购意向公告)"), "planning"),
    AnnouncementKind("prequalification", 2, _l("Prequalification notice (资格预审公告)"),
                     "tender"),
    AnnouncementKind("tender", 3, _l("Tender notice (招标公告)"), "tender"),
    AnnouncementKind("competitive", 4, _l("Negotiation, consultation or quotation notice "
                                          "(竞争性谈判、磋商、询价公告)"), "tender"),
    AnnouncementKind("result", 5, _l("Award result (中标、成交结果公告)"), "award"),
    AnnouncementKind("correction", 6, _l("Correction (更正公告)"), "tenderAmendment"),
    AnnouncementKind("termination", 7, _l("Termination (终止公告)"), "tenderCancellation"),
    AnnouncementKind("contract", 8, _l("Contract (合同公告)"), "contract"),
    AnnouncementKind("acceptance", 9, _l("Acceptance of a public service project "
                                         "(公共服务项目验收结果公告)"), "implementation"),
    AnnouncementKind("single_source", 10, _l("Single-source publicity (单一来源采购公示)"),
                     "planningUpdate"),
    AnnouncementKind("complaint_decision", 11, _l("Complaint decision (投诉处理结果公告)"),
                     "tenderUpdate"),
    AnnouncementKind("inspection", 12, _l("Supervision and inspection result "
                                          "(监督检查处理结果公告)"), "tenderUpdate"),
    AnnouncementKind("agency_review", 13, _l("Central procurement agency review "
                                             "(集中采购机构考核结果公告)"), ""),
)}

# Which notice opens the bidding for each method.
OPENING_NOTICE = {"open_tender": "tender", "invited_tender": "tender",
                  "negotiation": "competitive", "consultation": "competitive",
                  "inquiry": "competitive", "framework": "tender", "auction": "competitive"}

PROJECT_STATES = {
    "planning": _l("Planning"), "tendering": _l("Taking bids"), "opening": _l("Bid opening"),
    "evaluation": _l("Evaluation"), "auction": _l("Auction"), "awarded": _l("Awarded"),
    "contracted": _l("Contract signed"), "complete": _l("Complete"),
    "cancelled": _l("Terminated"), "unsuccessful": _l("Failed (too few bids)"),
}
BID_STATES = {"sealed": _l("Sealed"), "withdrawn": _l("Withdrawn"),
              "superseded": _l("Replaced"), "valid": _l("Valid"),
              "disqualified": _l("Disqualified"), "unopened": _l("Not decrypted")}


def method(code: str) -> Method:
    return METHODS[code]


def method_label(code: str) -> str:
    m = METHODS.get(code)
    return str(m.label) if m else code


RELEASE_TAGS = {
    "planning": _l("Plan"), "planningUpdate": _l("Plan updated"), "tender": _l("Tender"),
    "tenderAmendment": _l("Tender corrected"), "tenderUpdate": _l("Tender updated"),
    "tenderCancellation": _l("Tender terminated"), "award": _l("Award"),
    "awardUpdate": _l("Award updated"), "awardCancellation": _l("Award cancelled"),
    "contract": _l("Contract"), "contractUpdate": _l("Contract updated"),
    "contractAmendment": _l("Contract amended"), "implementation": _l("Performance"),
    "implementationUpdate": _l("Performance updated"),
    "contractTermination": _l("Contract terminated"),
}
PARAM_LABELS = {
    "threshold": _l("Threshold (0: the fence from the data)"),
    "minimum_submitted_bids": _l("Fewest submitted bids"),
    "minimum_contracting_processes": _l("Fewest processes"),
    "percent": _l("Percent of the original contract"),
    "share": _l("Just below: percent of the threshold"),
    "digits": _l("Characters of the catalogue code compared"),
    "threshold_goods": _l("Open-tendering threshold, goods (yuan)"),
    "threshold_services": _l("Open-tendering threshold, services (yuan)"),
    "threshold_works": _l("Open-tendering threshold, works (yuan)"),
}


def param_label(key: str) -> str:
    if key in METHODS:
        return str(_l("%(method)s: days (0: the threshold)", method=METHODS[key].label))
    return str(PARAM_LABELS.get(key, key))
