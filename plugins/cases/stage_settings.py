"""This deployment's case stages (案件阶段设置): the time limit in working days, the one
extension and the gate's documents of each stage, set city-wide by case management
(a county's grant never changes them: 403, nothing written). A stage without a setting
keeps the defaults of ``vocab.STAGES``; whether a stage may be suspended and its legal
basis are the law's and stay fixed. A change applies to stages entered (limit), extended
(extension) or left (gate) after it; running clocks keep their due days."""
from __future__ import annotations

import dataclasses

from core.api import (
    FieldError,
    _,
    db,
    diff,
    parse_int,
    record,
    require_city_wide,
    utcnow,
)
from plugins.cases.models import StageSetting
from plugins.cases.vocab import DOCUMENTS, STAGES, Stage

MANAGE = "cases.manage"
MAX_DAYS = 365


def _apply(stage: Stage, row: StageSetting | None) -> Stage:
    if row is None:
        return stage
    return dataclasses.replace(stage, days=row.days, extension_days=row.extension_days,
                               gate=tuple(k for k in row.gate.split(",") if k))


def effective(code: str) -> Stage:
    """The stage ``code`` as this deployment runs it."""
    return _apply(STAGES[code], StageSetting.get_or_none(StageSetting.stage == code))


def all_effective() -> dict[str, Stage]:
    rows = {r.stage: r for r in StageSetting.select()}
    return {code: _apply(stage, rows.get(code)) for code, stage in STAGES.items()}


def save(user, code, days, extension_days, gate) -> Stage:
    """Set a stage's limit, extension and gate (city-wide only); audited with the change."""
    require_city_wide(user, MANAGE)
    if code not in STAGES:
        raise FieldError("stage", _("Choose a case stage."))
    days = parse_int(days, "days", min=1, max=MAX_DAYS)
    extension_days = parse_int(extension_days, "extension_days", min=0, max=MAX_DAYS)
    kinds = list(dict.fromkeys(gate or []))
    if not kinds:
        raise FieldError("gate", _("A gate needs at least one document."))
    unknown = [k for k in kinds if k not in DOCUMENTS]
    if unknown:
        raise FieldError("gate", _("Unknown documents: %(kinds)s.", kinds=", ".join(unknown)))
    before = effective(code)
    values = {"days": days, "extension_days": extension_days, "gate": ",".join(kinds)}
    with db.atomic():
        StageSetting.insert(stage=code, updated_by=user.username, updated_at=utcnow(),
                            **values).on_conflict(
            conflict_target=[StageSetting.stage],
            update={**{getattr(StageSetting, k): v for k, v in values.items()},
                    StageSetting.updated_by: user.username,
                    StageSetting.updated_at: utcnow()}).execute()
        record("cases.stage_setting.save", object_type="cases_stage_setting", object_id=code,
               summary=f"{code} {days}/{extension_days} {values['gate']}", user=user,
               changes=diff({"days": before.days, "extension_days": before.extension_days,
                             "gate": ",".join(before.gate)}, values))
    return effective(code)
