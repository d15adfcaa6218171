"""Files of the supervised department's rectification reports (整改回告附件) and the
alert that tells a department its report was returned.

The department attaches its evidence (rectification plans, minutes, photos) to its report
on a supervision case or on a suggestion letter. Each file goes through the core's file
store (``core.api.store_file``): its type is sniffed from its content, its size is limited,
it is sealed with the key ring and kept outside the web root. A file is served only to
whoever may read the report it belongs to (the supervisor of its region, or the
department's own liaison)."""
from __future__ import annotations

from core.api import (
    Alert,
    FieldError,
    _,
    deployment_language,
    emit,
    resolve,
    store_file,
)
from plugins.esupervision import wording
from plugins.esupervision.models import ReportFile, SuggestionLetter, SupervisionCase

PURPOSE = "esupervision.report"
FILE_TYPES = {"pdf", "ofd", "jpeg", "png", "docx", "xlsx"}
FILE_MAX_BYTES = 10 * 1024 * 1024
FILES_PER_REPORT = 5
RETURNED_KIND = "esupervision.report.returned"


def uploads_of(files) -> list:
    """The files actually chosen in a form's ``files`` input (browsers send an empty
    part when none is chosen)."""
    return [f for f in (files or []) if getattr(f, "filename", "")]


def save(uploads: list, user, *, supervision: SupervisionCase | None = None,
         letter: SuggestionLetter | None = None) -> list[ReportFile]:
    """Store each upload and link it to the report, in the caller's transaction (which
    records the report and its audit event). FieldError ``files`` for too many files,
    or one that is empty, too large or of a type not accepted."""
    if len(uploads) > FILES_PER_REPORT:
        raise FieldError("files", _("At most %(n)d files.", n=FILES_PER_REPORT))
    rows = []
    for upload in uploads:
        stored = store_file(getattr(upload, "stream", upload), purpose=PURPOSE,
                            filename=getattr(upload, "filename", "") or "file",
                            allowed_types=FILE_TYPES, max_bytes=FILE_MAX_BYTES,
                            field="files", user=user)
        rows.append(ReportFile.create(supervision=supervision, letter=letter, file=stored,
                                      added_by=getattr(user, "username", "") or "system"))
    return rows


def files_of(*, supervision: SupervisionCase | None = None,
             letter: SuggestionLetter | None = None) -> list[ReportFile]:
    """The report's files, oldest first (a returned report's earlier files stay)."""
    where = (ReportFile.supervision == supervision.id) if supervision is not None \
        else (ReportFile.letter == letter.id)
    return list(ReportFile.select().where(where).order_by(ReportFile.id))


def tell_returned(region_id: int, department_id: int, ref: str, what: str, due, note: str,
                  now=None) -> None:
    """Alert the department that the supervisor returned its report, with the reason and
    the new deadline (once per deadline)."""
    details = {"what": what, "due": due.isoformat(), "note": note[:300]}
    emit(RETURNED_KIND, region_id, wording.stored(wording.report_returned, details),
         target_department=department_id, ref=ref, details=details, now=now,
         dedupe_key=f"returned:{ref}:{due}")


def clear_returned(ref: str, user) -> None:
    """The department reported again: its "returned" alerts are resolved."""
    with deployment_language():
        note = _("Reported again.")
    for alert in Alert.select().where((Alert.kind == RETURNED_KIND) & (Alert.ref == ref)
                                      & (Alert.state != "resolved")):
        resolve(alert, user, note)
