"""The rating of a closed case (好差评) by its applicant: once per case, a bad one opens a
rectification."""
from __future__ import annotations

from core.api import _, db, record
from plugins.eservice.cases import publish_event
from plugins.eservice.errors import NoMatch, ServiceError
from plugins.eservice.lookup import find_case
from plugins.eservice.models import Case, Evaluation
from plugins.eservice.rectification import open_rectification


def evaluate(serial: str, id_number: str, rating, comment: str, client: str) -> Evaluation:
    """Rate a closed case once (一事一评); a rating of 2 or below opens a rectification
    due in 15 working days and raises an alert to the department."""
    found = find_case(serial, id_number, client)
    if found is None:
        raise NoMatch(_("No case matches this serial number and ID number."), "serial")
    return rate_case(Case.get_by_id(found.id), rating, comment)


def rate_case(case: Case, rating, comment: str = "") -> Evaluation:
    """Record the rating of a closed case (once) and open the follow-up of a bad one."""
    try:
        rating = int(rating)
    except (TypeError, ValueError):
        rating = 0
    if rating not in range(1, 6):
        raise ServiceError(_("Choose a rating from 1 to 5."), "rating")
    comment = (comment or "").strip()
    if len(comment) > 1000:
        raise ServiceError(_("The comment is limited to 1000 characters."), "comment")
    if case.state != "closed":
        raise ServiceError(_("A case can be rated once it is closed."), "serial")
    with db.atomic():
        if Evaluation.select().where(Evaluation.case == case.id).exists():
            raise ServiceError(_("This case has already been rated: each case is rated once."),
                               "serial")
        evaluation = Evaluation.create(case=case, rating=rating, comment=comment)
        record("eservice.case.evaluated", object_type="eservice_case", object_id=case.id,
               summary=f"{case.serial} {rating}", region_id=case.region_id)
        if rating <= 2:
            open_rectification(case, evaluation)
        publish_event("evaluated", case, None, rating=rating)
    return evaluation
