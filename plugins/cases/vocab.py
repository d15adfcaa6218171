"""The words of case supervision: channels, categories, offices, the four ways of
disposing of a lead, the case stages with their time limits, gates and legal basis, and
the outcomes. Labels are lazy (translated when shown)."""
from __future__ import annotations

from dataclasses import dataclass

from core.api import _l

CHANNELS = {
    "web": _l("Web form"),              # 网络举报
    "letter": _l("Letter"),             # 来信
    "visit": _l("Visit"),               # 来访
    "phone": _l("Phone (12388)"),       # 12388 电话
    "transferred": _l("Transferred from another level"),  # 上级交办 / 下级转送
    "platform": _l("Transferred from another platform"),  # 电子监察、采购监督等平台移送
}
STAFF_CHANNELS = ("letter", "visit", "phone", "transferred")

CATEGORIES = {
    "political": _l("Political discipline"),        # 政治纪律
    "organisational": _l("Organisational discipline"),  # 组织纪律
    "integrity": _l("Integrity discipline"),        # 廉洁纪律
    "public": _l("Discipline towards the masses"),  # 群众纪律
    "work": _l("Work discipline"),                  # 工作纪律
    "life": _l("Discipline of private life"),       # 生活纪律
    "crime": _l("Duty-related crime"),              # 职务违法犯罪
    "other": _l("Other"),
}

RANKS = {
    "general": _l("Official"),                                     # 一般干部
    "leader": _l("Member of a leading group"),                     # 领导班子成员
    "head": _l("Head of a lower-level Party committee"),           # 下级党委主要负责人
}

OFFICES = {
    "petition": _l("Petitions office"),                    # 信访室
    "supervision": _l("Supervision and inspection office"),  # 监督检查室
    "management": _l("Case management office"),            # 案件监督管理室
    "investigation": _l("Investigation office"),           # 审查调查室
    "review": _l("Case review office"),                    # 案件审理室
}
OFFICE_PERMISSION = {
    "petition": "cases.intake", "supervision": "cases.supervise",
    "management": "cases.manage", "investigation": "cases.investigate",
    "review": "cases.review",
}

ITEM_STATES = {
    "registered": _l("Registered"),              # 已登记
    "accepted": _l("Accepted"),                  # 已受理
    "sent_up": _l("Sent to the higher level"),   # 已上报
    "transferred": _l("Transferred to the lower level"),  # 已转下级
    "lead": _l("Taken up as a problem lead"),    # 已转问题线索
    "closed": _l("Closed"),                      # 已办结
}
# What the reporter reads through the receipt code: never more than the state.
PUBLIC_STATES = {
    "registered": _l("Received, being registered and routed"),
    "accepted": _l("Accepted; being handled"),
    "sent_up": _l("Forwarded to the competent higher organ"),
    "transferred": _l("Forwarded to the competent lower organ"),
    "lead": _l("Accepted; being handled"),
    "closed": _l("Handling finished"),
}

ROUTE_DAYS = 5        # 转送/上报 within 5 working days (检举控告工作规则 第十四、十五条)
ACK_DAYS = 15         # named reporter told of acceptance within 15 working days (第十八条)
RESULT_DAYS = 15      # and of the result within 15 working days of closing
ANSWER_DAYS = 15      # 谈话函询: the written answer within 15 working days
REVIEW_MONTHS = 6     # 暂存待查: back for review after this many months (deployment default)
REPORT_BACK_DAYS = 10  # 回告: each quarter's report-back within 10 working days of its end
# the offices that report back to the petitions office each quarter, with their permission
REPORT_OFFICES = {"supervision": "cases.supervise", "investigation": "cases.investigate"}

LEAD_STATES = {
    "open": _l("Awaiting disposal"),    # 待处置
    "proposed": _l("Proposed"),         # 待审批
    "decided": _l("Decided"),           # 已审批
    "closed": _l("Closed"),             # 已了结
}

WAYS = {
    "talk": _l("Talk or letter inquiry"),         # 谈话函询
    "verify": _l("Preliminary verification"),     # 初步核实
    "shelve": _l("Kept pending"),                 # 暂存待查
    "close": _l("Closed without further action"),  # 予以了结
}

OUTCOMES = {
    "organisational": _l("Organisational handling"),  # 组织处理
    "party": _l("Party disciplinary sanction"),       # 党纪处分
    "government": _l("Government sanction"),          # 政务处分
    "procuratorate": _l("Transfer to the procuratorate"),  # 移送检察机关
    "none": _l("No sanction"),                        # 了结、不予处分
}


@dataclass(frozen=True)
class Stage:
    """A case stage (案件阶段), as an Open Zaak status type: its time limit in working
    days and legal basis, whether it may be suspended or extended (and by how much),
    and its gate — the documents required before the case may leave it."""

    code: str
    label: object
    days: int
    basis: object
    gate: tuple[str, ...]
    suspendable: bool = False
    extension_days: int = 0


DOCUMENTS = {
    "verify_report": _l("Preliminary verification report"),   # 初步核实情况报告
    "filing_decision": _l("Case filing decision"),           # 立案决定书
    "investigation_report": _l("Investigation report"),      # 审查调查报告
    "review_report": _l("Case review report"),               # 审理报告
    "sanction_decision": _l("Sanction decision"),            # 处分决定书
    "delivery_receipt": _l("Proof of delivery"),             # 送达回证
    "reexamination_decision": _l("Re-examination decision"),  # 复审/复核决定
    "other": _l("Other material"),
}

STAGES = {s.code: s for s in (
    Stage("verify", _l("Preliminary verification"), 60,
          _l("Rules on supervision and discipline enforcement, art. 34 (local rule: 3 months)"),
          ("verify_report",), suspendable=False, extension_days=30),
    Stage("filing", _l("Case filing"), 10, _l("Rules on supervision and discipline "
                                              "enforcement, art. 40"),
          ("filing_decision",)),
    Stage("investigation", _l("Investigation"), 120,
          _l("Supervision Law, art. 43 (detention at most 3 months, extended once)"),
          ("investigation_report",), suspendable=True, extension_days=60),
    Stage("review", _l("Case review"), 22,
          _l("Rules on supervision and discipline enforcement, art. 58 (1 month)"),
          ("review_report",), suspendable=False, extension_days=22),
    Stage("decision", _l("Sanction or disposal"), 22,
          _l("Regulations on Party disciplinary sanctions (announced within 1 month)"),
          ("sanction_decision", "delivery_receipt")),
    Stage("reexamination", _l("Re-examination, review or appeal"), 44,
          _l("Supervision Law, art. 49 (re-examination 1 month, review 2 months)"),
          ("reexamination_decision",)),
)}
STAGE_ORDER = ("verify", "filing", "investigation", "review", "decision")
YELLOW_DAYS = 3  # working days before a limit the yellow alert comes


def label(mapping: dict, code: str) -> str:
    """The label of ``code`` in one of the vocabularies, or the code itself."""
    value = mapping.get(code)
    if value is None:
        return code
    return str(getattr(value, "label", value))
