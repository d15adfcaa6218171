"""Organisation rules: create, edit and delete regions, departments, posts (岗位), people
and their post holdings. Every write checks the actor's scope, validates, and records an
audit event in the same transaction."""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

import peewee as pw
from flask import g, has_app_context

from core import clock
from core.audit.service import diff, record
from core.auth.scope import has_permission
from core.db import db
from core.errors import FieldError
from core.i18n import _
from core.org.models import LEVELS, Department, Person, Post, PostHolding, Region
from core.parse import clean_text, fold_width
from core.parse import parse_date as checked_date
from core.parse import parse_int as checked_int

MANAGE = "core.org.manage"
READ = "core.org.read"

# [0-9], not \d: Python's \d also matches Arabic-Indic and other digits, which would be
# stored as they are and never found by an ASCII search.
REGION_CODE = re.compile(r"^[1-9][0-9]{5}$")
DEPT_CODE = re.compile(r"^[A-Za-z0-9_.-]{1,16}$")
MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
LANDLINE = re.compile(r"^0[0-9]{2,3}-?[0-9]{7,8}(-[0-9]{1,6})?$")
EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")


class OrgError(ValueError):
    """A refused organisation change; ``field`` names the input at fault (or "")."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.field = field


class OutOfScope(OrgError):
    """The record or region lies outside the actor's scope (views answer 404)."""


# -- validation ---------------------------------------------------------------------
def _text(value: Any, field: str, label: str, max_length: int, required: bool = True) -> str:
    """Clean text (core.parse.clean_text): control characters (NUL, ESC), bidi overrides
    and zero-width characters refused — in the forms and in imported files alike."""
    try:
        text = clean_text("" if value is None else str(value), field,
                          max_length=4 * max_length + 16)
    except FieldError as exc:
        raise OrgError(f"{label}: {exc.message}", field) from None
    if required and not text:
        raise OrgError(_("%(field)s: required.", field=label), field)
    if len(text) > max_length:
        raise OrgError(_("%(field)s: at most %(n)d characters.", field=label, n=max_length),
                       field)
    return text


def region_code_prefix(code: str) -> str:
    """The part of an administrative division code its subdivisions share."""
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


def check_region_code(code: Any, parent: Region | None = None) -> str:
    """Validate a 6-digit administrative division code (行政区划代码)."""
    text = fold_width("" if code is None else str(code)).strip()
    if not REGION_CODE.match(text) or not 11 <= int(text[:2]) <= 82:
        raise OrgError(_("code: expected a 6-digit administrative division code, "
                         "e.g. 510104."), "code")
    if parent is not None:
        prefix = region_code_prefix(parent.code)
        if not text.startswith(prefix) or text == parent.code:
            raise OrgError(_("code: a subdivision of %(parent)s must start with %(prefix)s.",
                             parent=parent.code, prefix=prefix), "code")
    return text


def check_phone(value: Any, field: str = "phone") -> str:
    """A mainland mobile (11 digits) or landline number with area code; empty allowed."""
    text = re.sub(r"[\s()]", "", fold_width("" if value is None else str(value)))
    text = text.removeprefix("+86")
    if text and not (MOBILE.match(text) or LANDLINE.match(text)):
        raise OrgError(_("%(field)s: expected a mobile number (11 digits) or a landline "
                         "with area code, e.g. 028-61881234.", field=field), field)
    return text


def check_email(value: Any, field: str = "email") -> str:
    """An e-mail address; empty allowed."""
    text = ("" if value is None else str(value)).strip()
    if text and (len(text) > 120 or not EMAIL.match(text)):
        raise OrgError(_("%(field)s: expected an e-mail address like name@example.gov.cn.",
                         field=field), field)
    return text.lower()


def check_risk_level(value: Any, field: str = "risk_level") -> int:
    try:
        level = int(str(value).strip())
    except (TypeError, ValueError):
        level = 0
    if level not in (1, 2, 3):
        raise OrgError(_("%(field)s: expected 1 (low), 2 (medium) or 3 (high).", field=field),
                       field)
    return level


def _int(value: Any, field: str) -> int:
    try:
        return checked_int(value if isinstance(value, int) else str(value or ""), field,
                           min=-(2 ** 31), max=2 ** 31 - 1, default=0)
    except FieldError:
        raise OrgError(_("%(field)s: expected a whole number.", field=field), field) from None


def _require_manage(actor, region_id: int, field: str = "region") -> None:
    if not has_permission(actor, MANAGE, region_id):
        raise OutOfScope(_("%(field)s: not within your scope.", field=field), field)


def _snapshot(obj: pw.Model, fields: tuple[str, ...]) -> dict:
    out = {}
    for name in fields:
        field = obj._meta.fields[name]
        value = getattr(obj, field.name + "_id" if isinstance(field, pw.ForeignKeyField)
                        else name)
        out[name] = value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else value
    return out


def _save(actor, obj: pw.Model, fields: tuple[str, ...], action: str, region_id: int,
          summary: str, old: dict | None) -> pw.Model:
    """Save ``obj`` and record its audit event, turning constraint errors into OrgError."""
    try:
        with db.atomic():
            obj.save()
            record(action, object_type=obj._meta.table_name, object_id=obj.id,
                   region_id=region_id, summary=summary, user=actor,
                   changes=diff(old, _snapshot(obj, fields)))
    except pw.IntegrityError as exc:
        raise OrgError(_("The change conflicts with existing records: %(err)s",
                         err=str(exc).splitlines()[0][:200])) from exc
    return obj


def _delete(actor, obj: pw.Model, fields: tuple[str, ...], action: str, region_id: int,
            summary: str) -> None:
    old = _snapshot(obj, fields)
    try:
        with db.atomic():
            obj.delete_instance()
            record(action, object_type=obj._meta.table_name, object_id=obj.id,
                   region_id=region_id, summary=summary, user=actor, changes=diff(old, None))
    except pw.IntegrityError as exc:
        raise OrgError(_("%(name)s is still referenced by other records and cannot be "
                         "deleted.", name=str(obj))) from exc


# -- regions ------------------------------------------------------------------------
REGION_FIELDS = ("code", "name", "level", "parent", "sort")


def _region_values(data: dict, parent: Region | None) -> dict:
    level = (data.get("level") or "county").strip()
    if level not in LEVELS:
        raise OrgError(_("level: expected one of %(levels)s.", levels=", ".join(LEVELS)),
                       "level")
    return {"code": check_region_code(data.get("code"), parent),
            "name": _text(data.get("name"), "name", _("name"), 64),
            "level": level, "sort": _int(data.get("sort", 0), "sort")}


def _forget_tree() -> None:
    """The region tree is cached per request; a changed tree must be read again."""
    if has_app_context():
        g.pop("_ql_tree", None)


def create_region(actor, data: dict) -> Region:
    """Create a region (行政区划) below ``data["parent_id"]``, which must be in scope."""
    try:
        parent = Region.get_by_id(int(data.get("parent_id") or 0))
    except (Region.DoesNotExist, ValueError):
        raise OrgError(_("parent: choose the region this one belongs to."), "parent") from None
    _require_manage(actor, parent.id, "parent")
    values = _region_values(data, parent)
    if Region.select().where(Region.code == values["code"]).exists():
        raise OrgError(_("code: %(code)s is already used.", code=values["code"]), "code")
    region = Region(parent=parent, **values)
    _save(actor, region, REGION_FIELDS, "org.region.create", parent.id,
          f"create region {values['code']} {values['name']}", None)
    _forget_tree()
    return region


def update_region(actor, region: Region, data: dict) -> Region:
    """Rename or renumber a region; its place in the tree stays."""
    _require_manage(actor, region.id)
    old = _snapshot(region, REGION_FIELDS)
    merged = {**old, **{k: v for k, v in data.items() if k in REGION_FIELDS}}
    values = _region_values(merged, region.parent)
    if values["code"] != region.code and Region.select().where(
            Region.code == values["code"]).exists():
        raise OrgError(_("code: %(code)s is already used.", code=values["code"]), "code")
    for key, value in values.items():
        setattr(region, key, value)
    return _save(actor, region, REGION_FIELDS, "org.region.update", region.id,
                 f"update region {region.code}", old)


def delete_region(actor, region: Region) -> None:
    """Delete a region that has no subdivisions, departments or people."""
    _require_manage(actor, region.id)
    if region.parent_id is None:
        raise OrgError(_("%(name)s is the top of the tree and cannot be deleted.",
                         name=region.name))
    for query, what in ((Region.select().where(Region.parent == region.id), _("subdivisions")),
                        (region.departments, _("departments")), (region.people, _("people"))):
        if query.exists():
            raise OrgError(_("%(name)s still has %(what)s and cannot be deleted.",
                             name=region.name, what=what))
    _delete(actor, region, REGION_FIELDS, "org.region.delete", region.parent_id,
            f"delete region {region.code}")
    _forget_tree()


# -- departments --------------------------------------------------------------------
DEPT_FIELDS = ("region", "code", "name", "short_name", "is_supervision_office", "sort")


def _dept_values(data: dict) -> dict:
    code = _text(data.get("code"), "code", _("code"), 16)
    if not DEPT_CODE.match(code):
        raise OrgError(_("code: letters, digits, '.', '_' or '-' only."), "code")
    return {"code": code, "name": _text(data.get("name"), "name", _("name"), 100),
            "short_name": _text(data.get("short_name"), "short_name", _("short name"), 32,
                                required=False),
            "is_supervision_office": bool(data.get("is_supervision_office")),
            "sort": _int(data.get("sort", 0), "sort")}


def _check_dept_code(region_id: int, code: str, exclude: int | None = None) -> None:
    query = Department.select().where((Department.region == region_id)
                                      & (Department.code == code))
    if exclude is not None:
        query = query.where(Department.id != exclude)
    if query.exists():
        raise OrgError(_("code: %(code)s is already used in this region.", code=code), "code")


def create_department(actor, data: dict) -> Department:
    """Create a department (部门) in a region within the actor's scope."""
    try:
        region = Region.get_by_id(int(data.get("region_id") or 0))
    except (Region.DoesNotExist, ValueError):
        raise OrgError(_("region: choose a region."), "region") from None
    _require_manage(actor, region.id)
    values = _dept_values(data)
    _check_dept_code(region.id, values["code"])
    dept = Department(region=region, **values)
    return _save(actor, dept, DEPT_FIELDS, "org.department.create", region.id,
                 f"create department {values['code']} {values['name']}", None)


def update_department(actor, dept: Department, data: dict) -> Department:
    """Edit a department's code, names, flags and sort order."""
    _require_manage(actor, dept.region_id)
    old = _snapshot(dept, DEPT_FIELDS)
    merged = {**old, **{k: v for k, v in data.items() if k in DEPT_FIELDS}}
    values = _dept_values(merged)
    _check_dept_code(dept.region_id, values["code"], exclude=dept.id)
    for key, value in values.items():
        setattr(dept, key, value)
    return _save(actor, dept, DEPT_FIELDS, "org.department.update", dept.region_id,
                 f"update department {dept.code}", old)


def delete_department(actor, dept: Department) -> None:
    """Delete a department that has no posts."""
    _require_manage(actor, dept.region_id)
    if Post.select().where(Post.department == dept.id).exists():
        raise OrgError(_("%(name)s still has posts and cannot be deleted.", name=dept.name))
    _delete(actor, dept, DEPT_FIELDS, "org.department.delete", dept.region_id,
            f"delete department {dept.code}")


# -- posts --------------------------------------------------------------------------
POST_FIELDS = ("department", "title", "risk_level", "is_head")


def _post_values(data: dict) -> dict:
    return {"title": _text(data.get("title"), "title", _("title"), 100),
            "risk_level": check_risk_level(data.get("risk_level", 1)),
            "is_head": bool(data.get("is_head"))}


def _check_single_head(dept_id: int, is_head: bool, exclude: int | None = None) -> None:
    if not is_head:
        return
    query = Post.select().where((Post.department == dept_id) & (Post.is_head == True))
    if exclude is not None:
        query = query.where(Post.id != exclude)
    head = query.first()
    if head is not None:
        raise OrgError(_("is_head: the department already has a head post (%(title)s).",
                         title=head.title), "is_head")


def create_post(actor, data: dict) -> Post:
    """Create a post (岗位) in a department within the actor's scope."""
    try:
        dept = Department.get_by_id(int(data.get("department_id") or 0))
    except (Department.DoesNotExist, ValueError):
        raise OrgError(_("department: choose a department."), "department") from None
    _require_manage(actor, dept.region_id, "department")
    values = _post_values(data)
    _check_single_head(dept.id, values["is_head"])
    post = Post(department=dept, **values)
    return _save(actor, post, POST_FIELDS, "org.post.create", dept.region_id,
                 f"create post {values['title']} in {dept.code}", None)


def update_post(actor, post: Post, data: dict) -> Post:
    """Edit a post's title, risk level and head flag."""
    region_id = post.department.region_id
    _require_manage(actor, region_id)
    old = _snapshot(post, POST_FIELDS)
    merged = {**old, **{k: v for k, v in data.items() if k in POST_FIELDS}}
    values = _post_values(merged)
    _check_single_head(post.department_id, values["is_head"], exclude=post.id)
    for key, value in values.items():
        setattr(post, key, value)
    return _save(actor, post, POST_FIELDS, "org.post.update", region_id,
                 f"update post {post.id}", old)


def delete_post(actor, post: Post) -> None:
    """Delete a post that nobody holds or has held (its history stays)."""
    region_id = post.department.region_id
    _require_manage(actor, region_id)
    if PostHolding.select().where(PostHolding.post == post.id).exists():
        raise OrgError(_("%(name)s has holders on record and cannot be deleted.",
                         name=post.title))
    _delete(actor, post, POST_FIELDS, "org.post.delete", region_id, f"delete post {post.id}")


# -- people -------------------------------------------------------------------------
PERSON_FIELDS = ("name", "phone", "email", "region")


def _person_values(data: dict) -> dict:
    return {"name": _text(data.get("name"), "name", _("name"), 64),
            "phone": check_phone(data.get("phone")),
            "email": check_email(data.get("email"))}


def create_person(actor, data: dict) -> Person:
    """Create a person (人员) registered in a region within the actor's scope."""
    try:
        region = Region.get_by_id(int(data.get("region_id") or 0))
    except (Region.DoesNotExist, ValueError):
        raise OrgError(_("region: choose a region."), "region") from None
    _require_manage(actor, region.id)
    person = Person(region=region, **_person_values(data))
    return _save(actor, person, PERSON_FIELDS, "org.person.create", region.id,
                 f"create person {person.name}", None)


def update_person(actor, person: Person, data: dict) -> Person:
    """Edit a person's name, phone and e-mail."""
    _require_manage(actor, person.region_id)
    old = _snapshot(person, PERSON_FIELDS)
    merged = {**old, **{k: v for k, v in data.items() if k in PERSON_FIELDS}}
    for key, value in _person_values(merged).items():
        setattr(person, key, value)
    return _save(actor, person, PERSON_FIELDS, "org.person.update", person.region_id,
                 f"update person {person.id}", old)


def delete_person(actor, person: Person) -> None:
    """Delete a person who holds no post on record and has no user account."""
    from core.auth.models import User
    _require_manage(actor, person.region_id)
    if PostHolding.select().where(PostHolding.person == person.id).exists():
        raise OrgError(_("%(name)s has post holdings on record and cannot be deleted.",
                         name=person.name))
    if User.select().where(User.person == person.id).exists():
        raise OrgError(_("%(name)s has a user account and cannot be deleted.",
                         name=person.name))
    _delete(actor, person, PERSON_FIELDS, "org.person.delete", person.region_id,
            f"delete person {person.id}")


# -- post holdings ------------------------------------------------------------------
HOLDING_FIELDS = ("person", "post", "start", "end")


def parse_date(value: Any, field: str, required: bool = True) -> dt.date | None:
    """A date from a form, a CSV cell (YYYY-MM-DD or YYYY/MM/DD) or a spreadsheet cell."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = ("" if value is None else str(value)).strip()
    if not text:
        if required:
            raise OrgError(_("%(field)s: required (YYYY-MM-DD).", field=field), field)
        return None
    try:
        return checked_date(text.replace("/", "-"), field)  # 1900-01-01 … 2099-12-31
    except FieldError:
        raise OrgError(_("%(field)s: expected a date YYYY-MM-DD.", field=field), field) \
            from None


def _overlapping(person_id: int, post_id: int, start: dt.date, end: dt.date | None,
                 exclude: int | None = None):
    query = PostHolding.select().where(
        (PostHolding.person == person_id) & (PostHolding.post == post_id)
        & (PostHolding.end.is_null(True) | (PostHolding.end >= start)))
    if end is not None:
        query = query.where(PostHolding.start <= end)
    if exclude is not None:
        query = query.where(PostHolding.id != exclude)
    return query.first()


def assign_post(actor, person: Person, data: dict) -> PostHolding:
    """Record that ``person`` holds a post from a start date (until an optional end)."""
    _require_manage(actor, person.region_id)
    try:
        post = Post.get_by_id(int(data.get("post_id") or 0))
    except (Post.DoesNotExist, ValueError):
        raise OrgError(_("post: choose a post."), "post") from None
    _require_manage(actor, post.department.region_id, "post")
    start = parse_date(data.get("start"), "start")
    end = parse_date(data.get("end"), "end", required=False)
    if end is not None and end < start:
        raise OrgError(_("end: must not be before the start date."), "end")
    if _overlapping(person.id, post.id, start, end) is not None:
        raise OrgError(_("start: %(name)s already holds this post in that period.",
                         name=person.name), "start")
    holding = PostHolding(person=person, post=post, start=start, end=end)
    return _save(actor, holding, HOLDING_FIELDS, "org.holding.create", person.region_id,
                 f"{person.name} holds post {post.id} from {start}", None)


def end_holding(actor, holding: PostHolding, end: Any) -> PostHolding:
    """Close an open post holding on ``end``."""
    _require_manage(actor, holding.person.region_id)
    if holding.end is not None:
        raise OrgError(_("end: this holding already ended on %(day)s.", day=holding.end),
                       "end")
    day = parse_date(end, "end")
    if day < holding.start:
        raise OrgError(_("end: must not be before the start date %(day)s.",
                         day=holding.start), "end")
    old = _snapshot(holding, HOLDING_FIELDS)
    holding.end = day
    return _save(actor, holding, HOLDING_FIELDS, "org.holding.end", holding.person.region_id,
                 f"holding {holding.id} ends {day}", old)


def current_holders(post_ids: list[int], on: dt.date | None = None) -> dict[int, list[Person]]:
    """post id -> people holding it on ``on`` (today by default)."""
    on = on or clock.today()
    out: dict[int, list[Person]] = {}
    if not post_ids:
        return out
    rows = (PostHolding.select(PostHolding, Person).join(Person)
            .where(PostHolding.post.in_(post_ids) & (PostHolding.start <= on)
                   & (PostHolding.end.is_null(True) | (PostHolding.end >= on)))
            .order_by(PostHolding.start))
    for holding in rows:
        out.setdefault(holding.post_id, []).append(holding.person)
    return out
