"""Organisation services without HTTP: validation, scope, audit, refusal to delete."""
import datetime as dt
import json

import pytest

from core.audit.models import AuditEvent
from core.org import services
from core.org.models import Department, Person, Post, PostHolding, Region
from core.org.services import OrgError, OutOfScope


@pytest.fixture
def admin_a(org, make_user):
    return make_user("admin_a", role="sys_admin", region=org["a"])


def test_region_code_validation(org):
    assert services.check_region_code("510104") == "510104"
    for bad in ("51010", "5101044", "abcdef", "010104", "990104"):
        with pytest.raises(OrgError) as exc:
            services.check_region_code(bad)
        assert exc.value.field == "code"
    with pytest.raises(OrgError, match="must start with 5101"):
        services.check_region_code("510204", org["city"])
    assert services.check_region_code("510199", org["city"]) == "510199"


def test_phone_and_email_validation():
    assert services.check_phone("138 0013 8000") == "13800138000"
    assert services.check_phone("+8613800138000") == "13800138000"
    assert services.check_phone("028-61881234") == "028-61881234"
    assert services.check_phone("") == ""
    for bad in ("12345", "23800138000", "abc"):
        with pytest.raises(OrgError, match="phone"):
            services.check_phone(bad)
    assert services.check_email("Zhang.San@Example.gov.cn") == "zhang.san@example.gov.cn"
    for bad in ("nobody", "a@b", "a b@c.cn", "x@.cn"):
        with pytest.raises(OrgError, match="email"):
            services.check_email(bad)


def test_create_department_is_audited_with_changes(app, org, admin_a):
    dept = services.create_department(admin_a, {"region_id": org["a"].id, "code": "FG",
                                                "name": "发改局", "short_name": "发改"})
    event = AuditEvent.select().where(AuditEvent.action == "org.department.create").get()
    assert event.object_id == str(dept.id) and event.region_id == org["a"].id
    assert json.loads(event.changes)["name"] == [None, "发改局"]
    services.update_department(admin_a, dept, {"name": "发展和改革局"})
    event = AuditEvent.select().where(AuditEvent.action == "org.department.update").get()
    assert json.loads(event.changes) == {"name": ["发改局", "发展和改革局"]}


def test_duplicate_department_code_refused(app, org, admin_a):
    before = Department.select().count()
    with pytest.raises(OrgError) as exc:
        services.create_department(admin_a, {"region_id": org["a"].id, "code": "ZF",
                                             "name": "重复"})
    assert exc.value.field == "code"
    assert Department.select().count() == before


def test_out_of_scope_writes_refused(app, org, admin_a):
    with pytest.raises(OutOfScope):
        services.create_person(admin_a, {"region_id": org["b"].id, "name": "张三"})
    with pytest.raises(OutOfScope):
        services.update_department(admin_a, org["dept_b"], {"name": "x"})
    assert not Person.select().where(Person.name == "张三").exists()


def test_single_head_post_per_department(app, org, admin_a):
    with pytest.raises(OrgError) as exc:
        services.create_post(admin_a, {"department_id": org["dept_a"].id, "title": "副局长",
                                       "risk_level": 2, "is_head": True})
    assert exc.value.field == "is_head"


def test_delete_referenced_refused_with_message(app, org, admin_a):
    with pytest.raises(OrgError, match="still has posts"):
        services.delete_department(admin_a, org["dept_a"])
    with pytest.raises(OrgError, match="holders on record"):
        services.delete_post(admin_a, org["clerk_a"])
    with pytest.raises(OrgError, match="subdivisions|departments|people"):
        services.delete_region(admin_a, org["a"])
    person = Person.get(Person.name == "受理员a")
    with pytest.raises(OrgError, match="post holdings"):
        services.delete_person(admin_a, person)
    assert Department.get_or_none(Department.id == org["dept_a"].id) is not None
    empty = services.create_department(admin_a, {"region_id": org["a"].id, "code": "EMPTY",
                                                 "name": "空部门"})
    services.delete_department(admin_a, empty)
    assert AuditEvent.select().where(AuditEvent.action == "org.department.delete").exists()


def test_assign_and_end_holding(app, org, admin_a):
    person = services.create_person(admin_a, {"region_id": org["a"].id, "name": "李四",
                                              "phone": "13900000000"})
    holding = services.assign_post(admin_a, person, {"post_id": org["clerk_a"].id,
                                                     "start": dt.date(2025, 3, 1)})
    with pytest.raises(OrgError, match="already holds"):
        services.assign_post(admin_a, person, {"post_id": org["clerk_a"].id,
                                               "start": "2025-06-01"})
    with pytest.raises(OrgError) as exc:
        services.end_holding(admin_a, holding, "2025-01-01")
    assert exc.value.field == "end"
    services.end_holding(admin_a, holding, "2025-12-31")
    assert PostHolding.get_by_id(holding.id).end == dt.date(2025, 12, 31)
    later = services.assign_post(admin_a, person, {"post_id": org["clerk_a"].id,
                                                   "start": "2026-02-01"})
    assert later.end is None
    with pytest.raises(OutOfScope):
        services.assign_post(admin_a, person, {"post_id": org["clerk_b"].id,
                                               "start": "2026-02-01"})


def test_create_region_below_parent(app, org, make_user):
    admin = make_user("city_admin", role="sys_admin", region=org["city"])
    region = services.create_region(admin, {"parent_id": org["city"].id, "code": "510106",
                                            "name": "金牛区", "level": "district"})
    assert Region.get_by_id(region.id).parent_id == org["city"].id
    with pytest.raises(OrgError, match="already used"):
        services.create_region(admin, {"parent_id": org["city"].id, "code": "510106",
                                       "name": "重复", "level": "district"})
    services.delete_region(admin, region)
    assert Region.get_or_none(Region.code == "510106") is None
    assert Post.select().count() == 9


def test_bad_data_is_refused_or_normalised_before_it_is_stored(app, org, admin_a):
    """Issue 11 defect 6: digits other than ASCII (Arabic-Indic, superscripts) refused in
    codes and phones, full-width folded; NUL, ESC, right-to-left overrides and zero-width
    characters refused in organisation names (forms and imports alike) and user names;
    dates outside 1900–2099 refused; nothing stored."""
    assert services.check_phone("１３８００１３８０００") == "13800138000"  # an input method's
    assert services.check_region_code("５１０１９９", org["city"]) == "510199"
    for bad in ("١٣٨٠٠١٣٨٠٠٠", "13800138⁰⁰⁰", "۰۲۸-61881234"):
        with pytest.raises(OrgError, match="phone"):
            services.check_phone(bad)
    with pytest.raises(OrgError):
        services.check_region_code("٥١٠١٩٩", org["city"])
    before = (Department.select().count(), Person.select().count())
    for name in ("审批\x00局", "\x1b[31m审批局", "审批局\u202e", "审\u200b批局", "审批局" * 40):
        with pytest.raises(OrgError) as exc:
            services.create_department(admin_a, {"region_id": org["a"].id, "code": "QX",
                                                 "name": name})
        assert exc.value.field == "name"
        with pytest.raises(OrgError):
            services.create_person(admin_a, {"region_id": org["a"].id, "name": name})
    assert (Department.select().count(), Person.select().count()) == before
    for day in ("9999-12-31", "1899-12-31", "２０２６/13/01"):
        with pytest.raises(OrgError, match="start"):
            services.parse_date(day, "start")
    from core.auth.service import AuthError, create_user
    from tests.conftest import STRONG
    for name in ("zhang\x00san", "zhang\u202esan", "zhang\u200bsan", "z" * 65):
        with pytest.raises(AuthError):
            create_user(name, STRONG)
    assert create_user("ｚｈａｎｇｓａｎ", STRONG).username == "zhangsan"  # NFKC
