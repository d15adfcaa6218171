"""esupervision's part of the access matrix (tests/core/test_access_matrix.py)."""
from __future__ import annotations

from tests.core.test_access_matrix import SECRET


def build(rec) -> None:
    """A monitored case, a red signal on it and the supervision case opened for it; a
    suggestion letter; a file of a rectification report on each."""
    import datetime as dt

    from core.api import store_file
    from core.db import utcnow
    from plugins.esupervision.models import (
        EvaluationRun,
        MonitoredCase,
        ReportFile,
        Signal,
        SuggestionLetter,
    )
    from plugins.esupervision.reports import PURPOSE
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
    supervision = open_case(signal, None)
    # a run is city-wide, not county A's: an id no other route argument of the walk uses
    run = EvaluationRun.create(id=90001, month="2026-03", version=900, params="{}",
                               created_by="matrix")
    letter = SuggestionLetter.create(
        number="甲纪建〔2026〕900号", issuer_region=rec["region"], region=rec["region"],
        department=dept, run=run, month="2026-03", total=40.0, rank=1, body=SECRET,
        issued_by="matrix", reply_due=dt.date(2026, 4, 1))
    files = [ReportFile.create(
        supervision=supervision if n == 0 else None, letter=letter if n else None,
        added_by="matrix",
        file=store_file(f"{SECRET}整改材料".encode(), purpose=PURPOSE, filename="x.txt",
                        allowed_types={"txt"}, max_bytes=1000)) for n in range(2)]
    rec.update(mon_case=case, signal=signal, supervision=supervision, letter=letter,
               report_files=files)


A_RECORDS = {
    "case_id": lambda r: [r["mon_case"].id],
    "signal_id": lambda r: [r["signal"].id],
    "sc_id": lambda r: [r["supervision"].id],
    "letter_id": lambda r: [r["letter"].id],
    "report_file_id": lambda r: [f.id for f in r["report_files"]],
}
EXPECTED_PREFIXES = ("/esupervision/cases/", "/esupervision/signals/",
                     "/esupervision/supervision/", "/esupervision/evaluation/departments/",
                     "/esupervision/letters/", "/esupervision/rectification/")


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
