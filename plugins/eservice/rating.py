"""The rating of a closed case (好差评) by its applicant: once per case, a bad one opens a
rectification."""
from __future__ import annotations

import datetime as dt

from core.api import FieldError, _, db, record
from plugins.eservice.cases import publish_event
from plugins.eservice.lookup import NoMatch, find_case
from plugins.eservice.models import Case, Rating
from plugins.eservice.rectification import open_rectification


def rate_online(serial: str, id_number: str, score, comment: str, client: str) -> Rating:
    """Rate a closed case once (一事一评); a rating of 2 or below opens a rectification
    due in 15 working days and raises an alert to the department."""
    found = find_case(serial, id_number, client)
    if found is None:
        raise NoMatch(_("No case matches this serial number and ID number."))
    return rate_case(Case.get_by_id(found.id), score, comment)


def rate_case(case: Case, score, comment: str = "", on: dt.date | None = None) -> Rating:
    """Record the rating of a closed case (once) and open the follow-up of a bad one;
    ``on`` (a past day: the demo) stamps the rating and counts the follow-up from it."""
    try:
        score = int(score)
    except (TypeError, ValueError):
        score = 0
    if score not in range(1, 6):
        raise FieldError("rating", _("Choose a rating from 1 to 5."))
    comment = (comment or "").strip()
    if len(comment) > 1000:
        raise FieldError("comment", _("The comment is limited to 1000 characters."))
    if case.state != "closed":
        raise FieldError("serial", _("A case can be rated once it is closed."))
    with db.atomic():
        if Rating.select().where(Rating.case == case.id).exists():
            raise FieldError("serial",
                             _("This case has already been rated: each case is rated once."))
        rating = Rating.create(case=case, score=score, comment=comment,
                               **({"at": dt.datetime.combine(on, dt.time(3))} if on else {}))
        record("eservice.case.evaluated", object_type="eservice_case", object_id=case.id,
               summary=f"{case.serial} {score}", region_id=case.region_id)
        if score <= 2:
            open_rectification(case, rating, on=on)
        publish_event("evaluated", case, None, rating=score,
                      at=rating.at if on else None)
    return rating
