"""esupervision's part of the access matrix (tests/core/test_access_matrix.py)."""
from __future__ import annotations

from tests.core.test_access_matrix import SECRET


def build(rec) -> None:
    """A monitored case, a red signal on it and the supervision case opened for it."""
    from core.db import utcnow
    from plugins.esupervision.models import MonitoredCase, Signal
    from plugins.esupervision.supervision import open_case
    dept = rec["department"]
    case = MonitoredCase.create(
        source="matrix", serial="510104-MATRIX-1", region=rec["region"], department=dept,
        department_code=dept.code, department_name=dept.name, item_code="MX-XK-0001",
        item_name=f"{SECRET}事项", item_type="XK", statutory_limit_days=20,
        committed_limit_days=10, fee_due=0, submitted_at=utcnow(),
        handler_username=rec["user"].username)
    signal = Signal.create(case=case, region=rec["region"], level="red", code="ILLEGAL_FEE",
                           dedupe_key=f"matrix:{case.id}", detail=f"{SECRET}收费")
    rec.update(mon_case=case, signal=signal, supervision=open_case(signal, None))


A_RECORDS = {
    "case_id": lambda r: [r["mon_case"].id],
    "signal_id": lambda r: [r["signal"].id],
    "sc_id": lambda r: [r["supervision"].id],
}
EXPECTED_PREFIXES = ("/esupervision/cases/", "/esupervision/signals/",
                     "/esupervision/supervision/", "/esupervision/evaluation/departments/")


def _weights():
    from plugins.esupervision import evaluation
    cfg = dict(evaluation.config())
    cfg["major_points"] = (cfg["major_points"] + 1) % 100
    return {k: str(v) for k, v in cfg.items()}


# endpoint -> (URL arguments, form data) of a valid submission to each city-wide setting
CITY_WIDE_FORMS = {
    "esupervision.settings": lambda r: ({}, {"scope": "all", "key": "", "share_percent": "70",
                                             "days_left": "2"}),
    "esupervision.detector": lambda r: ({"code": "ILLEGAL_FEE"}, {"enabled": ""}),
    "esupervision.evaluation_run": lambda r: ({}, {"month": "2026-03"}),
    "esupervision.evaluation_weights": lambda r: ({}, _weights()),
}
