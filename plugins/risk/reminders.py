"""Triggered reminders (提醒): on arrival at a project site, before a holiday, on taking
up a post. Each reminder is a row (who, what, why, when, through which alert) made once
by its ``dedupe_key`` — a site arrival once per person, site and day — and an alert of
the bus (a site arrival is always an SMS: the kind's forced channel). Delivery (channel,
delivered or not) is read back from the bus with ``notifications_of``.

Sites (项目现场) have a location and radius and the posts that work on them; a check-in
(到岗打卡) from the phone page or an attendance/GPS system's API inside the radius of a
site one of the person's posts works on sends that post's risk reminders.
"""
from __future__ import annotations

import datetime as dt
import math

from peewee import fn

from core.api import (
    AlertSpec,
    Department,
    FieldError,
    Person,
    Post,
    PostHolding,
    _,
    clean_text,
    db,
    deployment_language,
    emit_many,
    holidays_between,
    local_day,
    parse_decimal,
    parse_id,
    parse_int,
    record,
    regions_enabled,
    utcnow,
    workdays_between,
)
from core.api import (
    today as current_day,
)
from plugins.risk import config
from plugins.risk.access import actor, require_region
from plugins.risk.kinds import REMINDER_KINDS
from plugins.risk.models import CheckIn, Point, Register, Reminder, Site, SitePost
from plugins.risk.warnings import account_of

SITES_PERM = "risk.sites.manage"
EARTH_M = 6371008.8


# -- sites -------------------------------------------------------------------------------
def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_M * math.asin(min(1.0, math.sqrt(a)))


def _coordinate(value, field: str, limit: int) -> float:
    if isinstance(value, float) and math.isfinite(value):
        value = repr(value)  # a JSON number of a GPS system
    elif isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return float(parse_decimal(value, field, places=7, min=-limit, max=limit))


def save_site(user, data: dict, site: Site | None = None) -> Site:
    """Create or change a site: ``department`` (its unit), ``code``, ``name``,
    ``address``, ``latitude``, ``longitude``, ``radius_m`` (20–5000) and ``posts`` (ids of
    posts of the unit's region that work on it)."""
    dept = Department.get_or_none(Department.id == parse_id(data.get("department"),
                                                            "department"))
    if dept is None:
        raise FieldError("department", _("Not found."))
    require_region(user, SITES_PERM, dept.region_id)
    values = {
        "region": dept.region_id, "department": dept.id,
        "code": clean_text(data.get("code"), "code", max_length=32, nfkc=True, required=True),
        "name": clean_text(data.get("name"), "name", max_length=100, required=True),
        "address": clean_text(data.get("address"), "address", max_length=200),
        "latitude": _coordinate(data.get("latitude"), "latitude", 90),
        "longitude": _coordinate(data.get("longitude"), "longitude", 180),
        "radius_m": parse_int(data.get("radius_m", 300), "radius_m", min=20, max=5000),
    }
    raw = data.get("posts") or []
    raw = raw if isinstance(raw, list) else [raw]
    post_ids = sorted({parse_id(p, "posts") for p in raw})
    found = {pid for (pid,) in Post.select(Post.id).join(Department).where(
        Post.id.in_(post_ids), Department.region == dept.region_id).tuples()} \
        if post_ids else set()
    if set(post_ids) - found:
        raise FieldError("posts", _("Choose posts of the site's region."))
    clash = Site.select().where((Site.region == dept.region_id)
                                & (Site.code == values["code"]))
    if site is not None:
        clash = clash.where(Site.id != site.id)
    if clash.exists():
        raise FieldError("code", _("Another site of the region has this code."))
    with db.atomic():
        if site is None:
            site = Site.create(created_by=actor(user), **values)
        else:
            Site.update(**values).where(Site.id == site.id).execute()
        SitePost.delete().where(SitePost.site == site.id).execute()
        if post_ids:
            SitePost.insert_many([{"site": site.id, "post": p} for p in post_ids]).execute()
        record("risk.site.save", object_type="risk_site", object_id=site.id,
               region_id=dept.region_id, user=user,
               summary=f"site {values['code']} ({len(post_ids)} posts)")
    return Site.get_by_id(site.id)


def _holds(day: dt.date):
    return (PostHolding.start <= day) & (PostHolding.end.is_null(True) | (PostHolding.end >= day))


def posts_of(person_id: int, day: dt.date) -> list[int]:
    return [pid for (pid,) in PostHolding.select(PostHolding.post).where(
        (PostHolding.person == person_id) & _holds(day)).tuples()]


def reminder_texts(post_ids) -> list[str]:
    """The reminder texts of the points in force on ``post_ids`` (most severe first)."""
    if not post_ids:
        return []
    rows = (Point.select(Point.reminder_text).join(Register)
            .where((Register.state == "approved") & Point.post.in_(sorted(set(post_ids)))
                   & (Point.reminder_text != ""))
            .order_by(Point.level, Point.code).tuples())
    out = []
    for (text,) in rows:
        if text not in out:
            out.append(text)
    return out


# -- check-in ----------------------------------------------------------------------------
def check_in(person: Person, latitude, longitude, *, source: str, at: dt.datetime | None = None,
             accuracy_m=None, external_id: str | None = None,
             region_ids: set[int] | None = None) -> CheckIn:
    """Record an arrival and, inside a site's radius, send the reminder once per person,
    site and day. Idempotent per (``source``, ``external_id``). ``region_ids`` limits the
    sites (an API token of one region)."""
    lat = _coordinate(latitude, "latitude", 90)
    lon = _coordinate(longitude, "longitude", 180)
    accuracy = parse_int(accuracy_m, "accuracy_m", min=0, max=100000, default=None)
    at = at or utcnow()
    day = local_day(at)
    if external_id is not None:
        external_id = clean_text(external_id, "external_id", max_length=100, required=True)
        known = CheckIn.get_or_none((CheckIn.source == source)
                                    & (CheckIn.external_id == external_id))
        if known is not None:
            return known
    posts = posts_of(person.id, day)
    best, best_d = None, None
    if posts:
        sites = (Site.select().join(SitePost).where(Site.active == True,
                                                    SitePost.post.in_(posts)).distinct())
        if region_ids is not None:
            sites = sites.where(Site.region.in_(sorted(region_ids)))
        for site in sites:
            d = distance_m(lat, lon, site.latitude, site.longitude)
            if d <= site.radius_m and (best_d is None or d < best_d):
                best, best_d = site, d
    with db.atomic():
        row = CheckIn.create(person=person.id, site=best.id if best else None,
                             region=best.region_id if best else person.region_id,
                             latitude=lat, longitude=lon, accuracy_m=accuracy,
                             distance_m=round(best_d) if best_d is not None else None,
                             inside=best is not None, source=source[:64],
                             external_id=external_id, at=at, day=day)
        if best is not None:
            site_posts = {p for (p,) in SitePost.select(SitePost.post).where(
                SitePost.site == best.id).tuples()}
            mine = sorted(site_posts & set(posts))
            texts = reminder_texts(mine)
            with deployment_language():
                text = "；".join(texts) if texts else _(
                    "You have arrived at %(site)s: keep to the rules of integrity.",
                    site=best.name)
            reminder = send([{"kind": "site_arrival", "region": best.region_id,
                              "person": person.id, "post": mine[0] if mine else None,
                              "site": best.id, "text": f"【{best.name}】{text}",
                              "reason": f"check-in {row.id}",
                              "key": f"site:{person.id}:{best.id}:{day.isoformat()}",
                              "day": day}])
            if reminder:
                CheckIn.update(reminder=reminder[0].id).where(CheckIn.id == row.id).execute()
        record("risk.checkin", object_type="risk_checkin", object_id=row.id,
               region_id=row.region_id,
               summary=f"check-in ({source}) {'inside ' + best.code if best else 'outside'}")
    return CheckIn.get_by_id(row.id)


# -- sending ---------------------------------------------------------------------------
def send(items: list[dict]) -> list[Reminder]:
    """Record and send reminders not yet sent: each item ``kind``, ``region``,
    ``person``, ``post``, ``site``, ``text``, ``reason``, ``key``, ``day``. Returns the new
    reminders (an item whose key was sent before is skipped)."""
    if not items:
        return []
    with db.atomic():
        keys = [i["key"][:160] for i in items]
        known = {k for (k,) in Reminder.select(Reminder.dedupe_key).where(
            Reminder.dedupe_key.in_(keys)).tuples()}
        new, specs = [], []
        for item in items:
            key = item["key"][:160]
            if key in known:
                continue
            known.add(key)
            user = account_of(item.get("person"))
            inserted = (Reminder.insert(
                kind=item["kind"], region=item["region"], person=item.get("person"),
                user_id=user, post=item.get("post"), site=item.get("site"),
                text=item["text"][:200], reason=item.get("reason", "")[:200],
                dedupe_key=key, day=item["day"]).on_conflict_ignore().execute())
            if not inserted:
                continue
            row = Reminder.get(Reminder.dedupe_key == key)
            new.append(row)
            if user is not None:
                specs.append((row, AlertSpec(
                    REMINDER_KINDS[item["kind"]], item["region"], row.text, target_user=user,
                    ref=f"risk.reminder:{row.id}", dedupe_key=key,
                    details={"text": row.text, "kind": item["kind"]})))
        alerts = emit_many([s for _r, s in specs])
        for (row, _spec), alert in zip(specs, alerts, strict=True):
            Reminder.update(alert_id=alert.id).where(Reminder.id == row.id).execute()
        if new:
            record("risk.reminder.send", object_type="risk_reminder",
                   summary=f"{len(new)} reminder(s): {new[0].kind}",
                   changes={"count": len(new), "kind": new[0].kind})
    return [Reminder.get_by_id(r.id) for r in new]


def _holders_of_risk_posts(day: dt.date, regions: set[int]) -> list[tuple[int, int, int]]:
    """(person, post, region) of everyone holding a post with points in force."""
    return list(PostHolding.select(PostHolding.person, PostHolding.post, Point.region)
                .join(Point, on=(Point.post == PostHolding.post)).join(Register)
                .where((Register.state == "approved") & _holds(day)
                       & Point.region.in_(sorted(regions)))
                .group_by(PostHolding.person, PostHolding.post, Point.region).tuples())


def holiday_reminders(day: dt.date | None = None) -> int:
    """节前廉政提醒: a holiday of at least ``min_days`` days beginning within the next
    ``lead_days`` working days sends the configured text to everyone holding a post with
    risk points in force, once per person and holiday."""
    day = day or current_day()
    cfg = config.get("holiday")
    horizon = day + dt.timedelta(days=cfg["lead_days"] + 14)
    items = []
    regions = set(regions_enabled("risk"))
    for code, first, last in holidays_between(day + dt.timedelta(days=1), horizon):
        if (last - first).days + 1 < cfg["min_days"]:
            continue
        if workdays_between(day, first) > cfg["lead_days"]:
            continue
        seen = set()
        for person, post, region in _holders_of_risk_posts(day, regions):
            if person in seen:
                continue
            seen.add(person)
            items.append({"kind": "holiday", "region": region, "person": person, "post": post,
                          "text": cfg["text"], "reason": f"{code} {first.isoformat()}",
                          "key": f"holiday:{code}:{first.isoformat()}:{person}", "day": day})
    return len(send(items))


def duty_start_reminders(day: dt.date | None = None) -> int:
    """A person who took up a post within the last ``duty_window_days`` days gets the
    post's risk points and measures, once per post holding."""
    day = day or current_day()
    since = day - dt.timedelta(days=config.get("duty_window_days"))
    regions = set(regions_enabled("risk"))
    rows = (PostHolding.select(PostHolding.id, PostHolding.person, PostHolding.post,
                               Point.region, fn.COUNT(Point.id))
            .join(Point, on=(Point.post == PostHolding.post)).join(Register)
            .where((Register.state == "approved") & (PostHolding.start >= since)
                   & _holds(day) & Point.region.in_(sorted(regions)))
            .group_by(PostHolding.id, PostHolding.person, PostHolding.post, Point.region)
            .tuples())
    items = []
    with deployment_language():
        for holding, person, post, region, n in rows:
            texts = reminder_texts([post])
            title = Post.get_by_id(post).title
            text = _("You hold the post %(post)s: it has %(n)d risk points.", post=title, n=n)
            items.append({"kind": "duty_start", "region": region, "person": person,
                          "post": post, "text": (text + " " + "；".join(texts))[:200],
                          "reason": f"holding {holding}", "key": f"duty:{holding}",
                          "day": day})
    return len(send(items))
