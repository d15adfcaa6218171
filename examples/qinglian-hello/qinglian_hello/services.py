"""The board's rules: who may post where, what a greeting may say, and the greeting for a
closed case. Plain functions with the acting user and region as arguments; each write is
audited in its own transaction and announced to the other plugins."""
from __future__ import annotations

from peewee import JOIN

from core.api import (
    Region,
    User,
    _,
    clean_text,
    db,
    publish,
    record,
    require_level,
    scoped,
)
from qinglian_hello import PERMISSION
from qinglian_hello.models import Greeting

MAX_TEXT = 200


def greetings_for(user, limit: int = 50) -> list[Greeting]:
    """The newest greetings of the regions in the user's scope."""
    query = (Greeting.select(Greeting, Region, User).join(Region).switch(Greeting)
             .join(User, JOIN.LEFT_OUTER))
    return list(scoped(query, Greeting.region, PERMISSION, user=user)
                .order_by(Greeting.created_at.desc(), Greeting.id.desc()).limit(limit))


def post_greeting(user, region: Region, text: str) -> Greeting:
    """Post a greeting to ``region``: the user's grant must cover it (FieldError for a bad
    text, AccessDenied for a region out of reach; nothing written either way)."""
    text = clean_text(text, "text", max_length=MAX_TEXT, required=True)
    require_level(user, PERMISSION, region)
    with db.atomic():
        greeting = Greeting.create(region=region, text=text, author=user.id)
        record("hello.greeting.post", object_type="hello_greeting", object_id=greeting.id,
               summary=text[:100], region_id=region.id, user=user)
        publish("hello.greeting.posted", {"id": greeting.id, "region_code": region.code,
                                          "text": text, "author": user.username})
    return greeting


def greet_closed_case(payload: dict) -> Greeting | None:
    """The board's own greeting when the service hall closes a case (event
    ``eservice.case.closed``): once per case, in the case's region, in the publisher's
    transaction."""
    case = payload.get("case") or {}
    serial = str(case.get("serial") or "")[:64]
    region = Region.get_or_none(Region.code == case.get("region_code"))
    if region is None or not serial or \
            Greeting.select().where(Greeting.ref == serial).exists():
        return None
    text = _("Case %(serial)s (%(item)s) is closed: thank you to everyone who handled it.",
             serial=serial, item=str(case.get("item_name") or "")[:60])
    greeting = Greeting.create(region=region, text=text[:MAX_TEXT], ref=serial)
    record("hello.greeting.case_closed", object_type="hello_greeting", object_id=greeting.id,
           summary=serial, region_id=region.id)
    return greeting
