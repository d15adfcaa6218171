"""The supervisor's notices: the supervision and inspection result (监督检查处理结果公告,
type 12 of 财办库〔2020〕50号) of a confirmed red flag. Level checked like every
supervision write: a county supervisor publishes only for its county's projects."""
from __future__ import annotations

from core.api import FieldError, _, clean_text, db, record, require_level, utcnow
from plugins.procurement import ocds
from plugins.procurement.methods import ANNOUNCEMENT_KINDS
from plugins.procurement.models import Announcement, Flag, Project
from plugins.procurement.notices import body as announcement_body
from plugins.procurement.notices import title as notice_title

SUPERVISE = "procurement.supervise"


def publish_inspection(user, flag: Flag, decision: str) -> Announcement:
    """Publish the 监督检查处理结果公告 of a confirmed flag's project with the handling
    decision (required); one OCDS release (``tenderUpdate``) in the same transaction.
    Called inside the flag's closing transaction or afterwards from the confirmed flag."""
    if flag.project_id is None:
        raise FieldError("decision", _("This flag concerns no single project: the result "
                                       "of an inspection is published for a project."))
    project = Project.get_by_id(flag.project_id)
    require_level(user, SUPERVISE, project.region_id)
    if flag.state != "confirmed":
        raise FieldError("decision", _("The inspection result follows a confirmed flag."))
    decision = clean_text(decision, "decision", max_length=4000, multiline=True,
                          required=True)
    from plugins.procurement.rules import all_rules
    rule = all_rules().get(flag.code)
    matter = (flag.code, rule.name if rule else "")
    now = utcnow()
    with db.atomic():
        notice = Announcement.create(
            region=project.region_id, project=project, kind="inspection",
            title=notice_title("inspection", project),
            body=announcement_body("inspection", project, text=decision, matter=matter),
            published_at=now, published_by=user.username)
        record("procurement.inspection.publish", object_type="procurement_announcement",
               object_id=notice.id, region_id=project.region_id, user=user,
               summary=f"{project.number}: inspection result of flag {flag.id} "
                       f"({flag.code})")
        ocds.write_release(project, ANNOUNCEMENT_KINDS["inspection"].tag)
    return notice
