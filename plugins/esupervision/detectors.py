"""Red correction signal (红牌纠错) detectors.

A detector has a ``code``, a translatable ``description``, default ``params`` and
either ``clock_kinds`` (it fires when such a clock runs past its due day: checked by the
sweep for open clocks and on replay for ended ones) or an ``evaluate(ctx)`` over the
case's event history, or both. Other plugins add detectors through the
``ql_esupervision_detectors`` hook with the same shape (``evaluate`` only).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import ClassVar

from core.api import _, _l, call_hook, local_day, workdays_between
from plugins.esupervision.labels import label


@dataclass
class Finding:
    """One red signal a detector found: ``key`` makes it unique within the case; its
    ``detail`` is worded with ``_`` (the caller runs detectors in the deployment's
    language, so the stored detail reads in it)."""

    key: str
    detail: str


@dataclass
class Context:
    """What a history detector sees: the case, its normalised events (each with
    ``received_at``), the replay (clocks, status) and the detector's params."""

    case: object
    events: list
    replay: object
    params: dict = field(default_factory=dict)

    def day(self, moment: dt.datetime) -> dt.date:
        """The local day (QL_TIMEZONE) of a stored time."""
        return local_day(moment)

    def of(self, *names: str) -> list:
        return [e for e in self.events if e["short"] in names]


class Detector:
    code = ""
    description = None
    params: ClassVar[dict] = {}
    clock_kinds: ClassVar[tuple] = ()

    def evaluate(self, ctx: Context) -> list[Finding]:
        return []


def _missing(fields: list[str]) -> str:
    return _("missing: %(what)s", what=_(", ").join(label("field", f) for f in fields))


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value is False


class RefusedWithoutReason(Detector):
    code = "REFUSED_WITHOUT_REASON"
    description = _l("Not accepted without a stated legal reason and notice of the "
                     "applicant's rights")

    def evaluate(self, ctx):
        out = []
        for ev in ctx.of("not_accepted"):
            missing = [f for f in ("reason", "legal_basis", "rights_notice") if _blank(ev.get(f))]
            if missing:
                out.append(Finding(ev["event_id"], _missing(missing)))
        return out


class DeniedWithoutReason(Detector):
    code = "DENIED_WITHOUT_REASON"
    description = _l("Denied without a stated legal reason")

    def evaluate(self, ctx):
        out = []
        for ev in ctx.of("decided"):
            if ev.get("decision") != "denied":
                continue
            missing = [f for f in ("reason", "legal_basis") if _blank(ev.get(f))]
            if missing:
                out.append(Finding(ev["event_id"], _missing(missing)))
        return out


class AcceptanceLate(Detector):
    code = "ACCEPTANCE_LATE"
    description = _l("No acceptance decision within the acceptance limit (5 working days) "
                     "of receipt")
    params: ClassVar[dict] = {"days": 5}
    clock_kinds = ("acceptance",)


class SupplementViolation(Detector):
    code = "SUPPLEMENT_VIOLATION"
    description = _l("Supplement notice later than 5 working days after receipt, or a "
                     "second supplement request (one complete notice is required)")
    params: ClassVar[dict] = {"days": 5}

    def evaluate(self, ctx):
        out = []
        received = ctx.day(ctx.case.submitted_at)
        requests = sorted(ctx.of("supplement_requested"), key=lambda e: e["occurred_at"])
        for i, ev in enumerate(requests):
            used = workdays_between(received, ctx.day(ev["occurred_at"]))
            if used > int(ctx.params.get("days", 5)):
                out.append(Finding("late:" + ev["event_id"],
                                   _("supplement notice after %(n)d working days", n=used)))
            if i >= 1:
                out.append(Finding("repeat:" + ev["event_id"],
                                   _("supplement request no. %(n)d", n=i + 1)))
        return out


class StepOverdue(Detector):
    code = "STEP_OVERDUE"
    description = _l("A step ran past its own time limit")
    clock_kinds = ("step",)


class CompletionOverdue(Detector):
    code = "COMPLETION_OVERDUE"
    description = _l("The case passed its committed time limit")
    clock_kinds = ("completion",)


class IllegalFee(Detector):
    code = "ILLEGAL_FEE"
    description = _l("A fee charged that differs from the item's fee, or any fee on a "
                     "free item")

    def evaluate(self, ctx):
        due = Decimal(ctx.case.fee_due)
        out = []
        for ev in ctx.of("fee_charged"):
            charged = ev["fee_charged"]
            if charged != due:
                what = _("fee of %(charged)s on a free item", charged=charged) if due == 0 \
                    else _("charged %(charged)s, the item's fee is %(due)s", charged=charged,
                           due=due)
                out.append(Finding(ev["event_id"], what))
        return out


class OffSystemHandling(Detector):
    code = "OFF_SYSTEM_HANDLING"
    description = _l("Signs of handling outside the system: a decision before acceptance, "
                     "a multi-step review recorded within minutes, or events arriving long "
                     "after their time")
    params: ClassVar[dict] = {"min_steps": 2, "minutes": 10, "late_hours": 24}

    def evaluate(self, ctx):
        out = []
        accepted = [e["occurred_at"] for e in ctx.of("accepted")]
        for ev in ctx.of("decided"):
            if not accepted or min(accepted) > ev["occurred_at"]:
                out.append(Finding("decided-before-acceptance",
                                   _("decision recorded before acceptance")))
                break
        starts = {e["step"]["seq"]: e["occurred_at"] for e in ctx.of("step_started")}
        ends = {e["step"]["seq"]: e["occurred_at"] for e in ctx.of("step_completed")}
        done = [s for s in ends if s in starts]
        if len(done) >= int(ctx.params.get("min_steps", 2)):
            span = max(ends[s] for s in done) - min(starts[s] for s in done)
            if span < dt.timedelta(minutes=int(ctx.params.get("minutes", 10))):
                out.append(Finding("fast-review", _(
                    "%(n)d steps recorded within %(m)d minutes", n=len(done),
                    m=int(span.total_seconds() // 60))))
        limit = dt.timedelta(hours=int(ctx.params.get("late_hours", 24)))
        for ev in ctx.events:
            if ev.get("received_at") and ev["received_at"] - ev["occurred_at"] > limit:
                hours = int((ev["received_at"] - ev["occurred_at"]).total_seconds() // 3600)
                out.append(Finding("late:" + ev["event_id"], _(
                    "%(event)s arrived %(n)d hours after its time",
                    event=label("event", ev["short"]), n=hours)))
        return out


class SpecialProcedureAbuse(Detector):
    code = "SPECIAL_PROCEDURE_ABUSE"
    description = _l("Clock stopped without a stated procedure or longer than that "
                     "procedure allows, or certificate not delivered within 10 working "
                     "days of the decision")
    params: ClassVar[dict] = {"delivery_days": 10}
    clock_kinds = ("suspension", "delivery")

    def evaluate(self, ctx):
        out = []
        for ev in ctx.of("suspended"):
            proc = ev.get("procedure")
            if not proc or not proc.get("kind"):
                out.append(Finding("no-procedure:" + ev["event_id"],
                                   _("clock stopped without a stated procedure")))
        return out


BUILTIN = (RefusedWithoutReason(), DeniedWithoutReason(), AcceptanceLate(),
           SupplementViolation(), StepOverdue(), CompletionOverdue(), IllegalFee(),
           OffSystemHandling(), SpecialProcedureAbuse())

KIND_CODE = {kind: d.code for d in BUILTIN for kind in d.clock_kinds}


class CaseStalled(Detector):
    code = "CASE_STALLED"
    description = _l("Escalation to the unit head: an open case with no event for this "
                     "many working days")
    params: ClassVar[dict] = {"days": 3}


class HandlerAbsent(Detector):
    code = "HANDLER_ABSENT"
    description = _l("Escalation to the unit head: the handler's account is disabled or "
                     "the handler post has nobody holding it")


ESCALATIONS = (CaseStalled(), HandlerAbsent())


def all_detectors() -> list:
    """Built-in detectors, the escalation checks (switched and set in the same settings)
    and the detectors other plugins add through the hook."""
    found = list(BUILTIN) + list(ESCALATIONS)
    seen = {d.code for d in found}
    for det in (d for batch in call_hook("ql_esupervision_detectors") for d in batch):
        if det.code not in seen:
            found.append(det)
            seen.add(det.code)
    return found
