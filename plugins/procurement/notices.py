"""The text of each notice (公告正文), after the layout of 财办库〔2020〕50号, shortened.

Official notices are written in Chinese whatever the publisher's page language."""
from __future__ import annotations

from flask_babel import force_locale, format_datetime

from core.api import _
from plugins.procurement.methods import method_label


def _money(value) -> str:
    return f"{value:,.2f}"


def _yuan(value) -> str:
    return _("%(amount)s yuan", amount=_money(value))


def kv(label: str, value) -> str:
    """One line of a notice: its label and value (the colon as the language writes it)."""
    return _("%(label)s: %(value)s", label=label, value=value).rstrip()


def _when(moment) -> str:
    return format_datetime(moment, "yyyy-MM-dd HH:mm") if moment else "—"


def _head(project) -> list[str]:
    lines = [kv(_("Project number"), project.number), kv(_("Project"), project.title),
             kv(_("Purchaser"), project.department.name)]
    if project.agency:
        lines.append(kv(_("Procurement agency"), project.agency))
    lines += [kv(_("Procurement method"), method_label(project.method)),
              kv(_("Budget"), _yuan(project.budget)) + "; "
              + kv(_("ceiling price"), _yuan(project.ceiling))]
    return lines


def title(kind: str, project) -> str:
    """The default title of a notice: the project's title and the notice's type."""
    from plugins.procurement.methods import ANNOUNCEMENT_KINDS
    with force_locale("zh_CN"):
        return f"{project.title}{ANNOUNCEMENT_KINDS[kind].label}"


def body(kind: str, project, *, text: str = "", award=None, contract=None,
         upheld: bool | None = None, matter: tuple = ()) -> str:
    """The body of a notice of ``kind`` for ``project`` (``matter``: the code and name of
    the rule whose flag an inspection result answers)."""
    with force_locale("zh_CN"):
        lines = _head(project)
        if kind in ("tender", "competitive", "prequalification"):
            lines += [kv(_("Documents issued from"), _when(project.docs_issued_at)),
                      kv(_("Bid deadline and opening"), _when(project.deadline)),
                      _("Bids are submitted online and sealed until the opening; the opening "
                        "is held online at the deadline and its record is published.")]
        elif kind == "correction":
            lines += [kv(_("Bid deadline and opening"), _when(project.deadline)),
                      kv(_("Correction"), "")]
        elif kind == "termination":
            lines += [_("The procurement is terminated."), kv(_("Reason"), "")]
        elif kind == "intention":
            month = project.plan.expected_month if project.plan_id else ""
            lines += [kv(_("Expected time of the purchase"), month or '—'),
                      _("This intention is published for suppliers to prepare; it is not a "
                        "tender notice.")]
        elif kind == "single_source":
            supplier = project.single_source_supplier
            lines += [kv(_("Proposed supplier"), supplier.name if supplier else ''),
                      kv(_("Reason for single-source procurement"), project.method_reason),
                      _("Publicity period: at least 5 working days. Objections in writing to "
                        "the purchaser within it.")]
        elif kind == "result":
            lines += [kv(_("Winning supplier"), f"{award.supplier.name} ({award.supplier.uscc})"),
                      kv(_("Winning amount"), _yuan(award.amount)),
                      kv(_("Winner fixed"), _when(award.fixed_at)),
                      _("A supplier who believes its rights were harmed may challenge the "
                        "purchaser in writing within 7 working days (政府采购法第五十二条).")]
        elif kind == "contract":
            lines += [kv(_("Contract number"), contract.number),
                      kv(_("Supplier"), contract.supplier.name),
                      kv(_("Contract amount"), _yuan(contract.amount)),
                      kv(_("Signed on"), contract.signed_on)]
        elif kind == "acceptance":
            lines += [kv(_("Contract number"), contract.number),
                      kv(_("Supplier"), contract.supplier.name),
                      kv(_("Accepted on"), contract.accepted_on),
                      kv(_("Acceptance result"), _("Passed")
                         if contract.acceptance_result == "passed" else _("Failed"))]
        elif kind == "complaint_decision":
            lines.append(kv(_("Decision on the complaint"),
                            _("upheld") if upheld else _("rejected")))
        elif kind == "inspection":
            lines += [kv(_("Matter inspected"), " ".join(str(m) for m in matter if m)),
                      kv(_("Handling decision"), text)]
            text = ""
        if text:
            lines.append(text)
        return "\n".join(lines)


def agency_review_title(agency: str, period: str) -> str:
    """The title of a 集中采购机构考核结果公告: the agency, the period and the type."""
    from plugins.procurement.methods import ANNOUNCEMENT_KINDS
    with force_locale("zh_CN"):
        return f"{agency}{period}{ANNOUNCEMENT_KINDS['agency_review'].label}"[:200]


def agency_review_body(region, *, agency: str, period: str, result: str) -> str:
    """The body of a 集中采购机构考核结果公告 (no project: the region's finance department
    assesses the agency)."""
    with force_locale("zh_CN"):
        return "\n".join([kv(_("Region"), region.name),
                          kv(_("Central procurement agency"), agency),
                          kv(_("Period assessed"), period),
                          kv(_("Assessment result"), result)])
