"""The text of each notice (公告正文), after the layout of 财办库〔2020〕50号, shortened.

Official notices are written in Chinese whatever the publisher's page language."""
from __future__ import annotations

from flask_babel import force_locale, format_datetime

from core.api import _
from plugins.procurement.methods import method_label


def _money(value) -> str:
    return f"{value:,.2f}"


def _when(moment) -> str:
    return format_datetime(moment, "yyyy-MM-dd HH:mm") if moment else "—"


def _head(project) -> list[str]:
    lines = [f"{_('Project number')}: {project.number}", f"{_('Project')}: {project.title}",
             f"{_('Purchaser')}: {project.department.name}"]
    if project.agency:
        lines.append(f"{_('Procurement agency')}: {project.agency}")
    lines += [f"{_('Procurement method')}: {method_label(project.method)}",
              (f"{_('Budget')}: {_money(project.budget)} {_('yuan')}; "
              f"{_('ceiling price')}: {_money(project.ceiling)} {_('yuan')}")]
    return lines


def body(kind: str, project, *, text: str = "", award=None, contract=None,
         upheld: bool | None = None) -> str:
    """The body of a notice of ``kind`` for ``project``."""
    with force_locale("zh_CN"):
        lines = _head(project)
        if kind in ("tender", "competitive", "prequalification"):
            lines += [f"{_('Documents issued from')}: {_when(project.docs_issued_at)}",
                      f"{_('Bid deadline and opening')}: {_when(project.deadline)}",
                      _("Bids are submitted online and sealed until the opening; the opening "
                        "is held online at the deadline and its record is published.")]
        elif kind == "correction":
            lines += [f"{_('Bid deadline and opening')}: {_when(project.deadline)}",
                      f"{_('Correction')}:"]
        elif kind == "termination":
            lines += [_("The procurement is terminated."), f"{_('Reason')}:"]
        elif kind == "intention":
            month = project.plan.expected_month if project.plan_id else ""
            lines += [f"{_('Expected time of the purchase')}: {month or '—'}",
                      _("This intention is published for suppliers to prepare; it is not a "
                        "tender notice.")]
        elif kind == "single_source":
            supplier = project.single_source_supplier
            lines += [f"{_('Proposed supplier')}: {supplier.name if supplier else ''}",
                      f"{_('Reason for single-source procurement')}: {project.method_reason}",
                      _("Publicity period: at least 5 working days. Objections in writing to "
                        "the purchaser within it.")]
        elif kind == "result":
            lines += [f"{_('Winning supplier')}: {award.supplier.name} ({award.supplier.uscc})",
                      f"{_('Winning amount')}: {_money(award.amount)} {_('yuan')}",
                      f"{_('Winner fixed')}: {_when(award.fixed_at)}",
                      _("A supplier who believes its rights were harmed may challenge the "
                        "purchaser in writing within 7 working days (政府采购法第五十二条).")]
        elif kind == "contract":
            lines += [f"{_('Contract number')}: {contract.number}",
                      f"{_('Supplier')}: {contract.supplier.name}",
                      f"{_('Contract amount')}: {_money(contract.amount)} {_('yuan')}",
                      f"{_('Signed on')}: {contract.signed_on}"]
        elif kind == "complaint_decision":
            lines.append(f"{_('Decision on the complaint')}: "
                         + (_("upheld") if upheld else _("rejected")))
        if text:
            lines.append(text)
        return "\n".join(lines)
