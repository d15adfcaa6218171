"""The risk register (岗位风险信息): draft → submit → return with reasons → resubmit →
approve; an approved version is immutable and a change is a new version; the matrix a
version was scored on stays with it; every step audited and checked against the grant's
region."""
from __future__ import annotations

import datetime as dt

import pytest

from core.api import AccessDenied, FieldError
from core.audit.models import AuditEvent
from plugins.risk import register as reg
from plugins.risk import scoring
from plugins.risk.errors import RiskError
from plugins.risk.models import Matrix, Measure, Point, PointRule, Register, Rule
from tests.plugins.risk.conftest import point_data


def actions() -> list[str]:
    return [e.action for e in AuditEvent.select().where(AuditEvent.action.startswith("risk."))
            .order_by(AuditEvent.id)]


def test_the_workflow_from_draft_to_in_force(unit):
    clerk, reviewer = unit["clerk"], unit["reviewer"]
    copy = reg.open_working_copy(clerk, unit["dept"])
    assert (copy.version, copy.state, copy.based_on_id) == (1, "draft", None)
    assert reg.open_working_copy(clerk, unit["dept"]).id == copy.id  # one working copy
    with pytest.raises(RiskError, match="at least one risk point"):
        reg.submit(clerk, copy)
    point = reg.add_point(clerk, copy, point_data(unit["land"]))
    assert point.code == "ZF-R001" and point.level == 1  # likelihood 4 × impact 4
    with pytest.raises(RiskError, match="ZF-R001"):
        reg.submit(clerk, copy)  # a point without a measure
    reg.add_measure(clerk, point, {"text": "规划设计变更须集体研究并报批", "deadline_days": 5})
    copy = reg.submit(clerk, copy, "首次报送")
    assert copy.state == "submitted"
    with pytest.raises(RiskError, match="cannot be edited"):
        reg.add_point(clerk, copy, point_data(unit["clerk_post"]))
    with pytest.raises(AccessDenied):
        reg.approve(clerk, copy)  # a unit clerk holds no review grant
    with pytest.raises(FieldError) as err:
        reg.return_register(reviewer, copy, "  ")
    assert err.value.field == "reasons"
    copy = reg.return_register(reviewer, copy, "风险点描述不具体，请补充审批环节")
    assert (copy.state, copy.review_note) == ("returned", "风险点描述不具体，请补充审批环节")
    reg.update_point(clerk, point, point_data(unit["land"], duty="项目审批与实施"))
    copy = reg.submit(clerk, copy)
    copy = reg.approve(reviewer, copy, "同意", on=dt.date(2026, 9, 29))
    assert (copy.state, copy.in_force_from) == ("approved", dt.date(2026, 9, 29))
    assert reg.in_force(unit["dept"].id).id == copy.id
    assert reg.working_copy(unit["dept"].id) is None
    assert actions() == ["risk.register.open", "risk.point.add", "risk.measure.add",
                         "risk.register.submit", "risk.register.return", "risk.point.update",
                         "risk.register.submit", "risk.register.approve"]


def test_due_days_skip_the_national_day_holiday(approved):
    """In force on Tue 29 Sep 2026: 5 working days skip 1–7 October and count the 调休
    Saturday 10 October; the level-1 review falls three months on."""
    point = Point.get(Point.register == approved)
    due = {m.key: m.due for m in Measure.select().where(Measure.point == point)}
    assert due == {"M1": dt.date(2026, 10, 12), "M2": dt.date(2026, 10, 19)}
    assert point.next_review == dt.date(2026, 12, 29)


def test_an_approved_register_is_immutable(unit, approved):
    clerk = unit["clerk"]
    point = Point.get(Point.register == approved)
    measure = Measure.get(Measure.point == point)
    for attempt in (lambda: reg.add_point(clerk, approved, point_data(unit["land"])),
                    lambda: reg.update_point(clerk, point, point_data(unit["land"])),
                    lambda: reg.delete_point(clerk, point),
                    lambda: reg.add_measure(clerk, point, {"text": "x", "deadline_days": 1}),
                    lambda: reg.update_measure(clerk, measure, {"text": "x", "deadline_days": 1}),
                    lambda: reg.delete_measure(clerk, measure),
                    lambda: reg.set_point_rules(clerk, point, []),
                    lambda: reg.submit(clerk, approved)):
        with pytest.raises(RiskError, match="in force"):
            attempt()
    assert Point.get_by_id(point.id).description == point.description
    # tracking is not content: progress and reviews are recorded on the version in force
    reg.track_measure(clerk, measure, "done", done_on=dt.date(2026, 10, 9), note="已建立制度")
    assert Measure.get_by_id(measure.id).status == "done"


def test_a_change_is_a_new_version_and_the_old_one_stays_readable(unit, approved):
    clerk, reviewer = unit["clerk"], unit["reviewer"]
    rule = Rule.create(region=unit["region"], title="土地整治项目管理办法", full_text="…")
    point = Point.get(Point.register == approved)
    first = Measure.get((Measure.point == point) & (Measure.key == "M1"))
    reg.track_measure(clerk, first, "in_progress", note="制度起草中")
    v2 = reg.open_working_copy(clerk, unit["dept"])
    assert (v2.version, v2.based_on_id, v2.state) == (2, approved.id, "draft")
    copied = Point.get(Point.register == v2)
    assert (copied.code, copied.origin_id, copied.description) == \
        (point.code, point.id, point.description)
    assert [m.key for m in copied.measures.order_by(Measure.key)] == ["M1", "M2"]
    reg.set_point_rules(clerk, copied, [rule.id])
    reg.update_point(clerk, copied, point_data(unit["land"], likelihood=2, impact=2))
    added = reg.add_point(clerk, v2, point_data(unit["clerk_post"], description="窗口收费不开票",
                                                likelihood=3, impact=3))
    reg.add_measure(clerk, added, {"text": "收费一律开具票据", "deadline_days": 3})
    # meanwhile the unit finishes M1 on the version in force: the progress carries over
    reg.track_measure(clerk, first, "done", done_on=dt.date(2026, 10, 10))
    reg.submit(clerk, v2)
    diff = reg.compare(approved, Register.get_by_id(v2.id))
    assert [p.code for p in diff["added"]] == [added.code]
    assert [(p.code, fields) for p, fields in diff["changed"]] == \
        [(point.code, ["likelihood", "impact", "level"])]
    v2 = reg.approve(unit["reviewer"], v2, on=dt.date(2026, 10, 12))
    assert Register.get_by_id(approved.id).state == "superseded"
    old_point = Point.get_by_id(point.id)
    assert (old_point.level, old_point.likelihood) == (1, 4)  # history unchanged
    assert reviewer is not None
    m1 = Measure.get((Measure.point == copied) & (Measure.key == "M1"))
    assert (m1.status, m1.done_on, m1.due) == ("done", dt.date(2026, 10, 10),
                                               dt.date(2026, 10, 12))
    new_measure = Measure.get(Measure.point == added)
    assert new_measure.due == dt.date(2026, 10, 15)  # 3 working days from 12 Oct
    assert PointRule.select().where(PointRule.point == copied).count() == 1
    assert [r.version for r in reg.versions(unit["dept"].id)] == [2, 1]


def test_the_matrix_a_version_was_scored_on_stays_with_it(unit, approved, make_user, org):
    city_admin = make_user("city_admin", role="supervisor", region=org["city"])
    with pytest.raises(AccessDenied):
        scoring.save_version(unit["reviewer"], Matrix.get().definition)  # a county grant
    changed = dict(Matrix.get().definition)
    changed["grid"] = [[3] * 5 for _ in range(5)]  # nothing is level 1 or 2 any more
    changed["method"] = "matrix"
    changed["levels"] = [dict(lv, colour="#000000") if lv["code"] == 1 else lv
                         for lv in changed["levels"]]
    v2_matrix = scoring.save_version(city_admin, changed, "收紧")
    assert v2_matrix.version == 2
    with pytest.raises(FieldError, match="Nothing changed"):
        scoring.save_version(city_admin, changed)
    # the version in force keeps matrix 1: its point is still level 1, in the old colour
    assert approved.matrix_id == Matrix.get(Matrix.version == 1).id
    old = scoring.grading(approved.matrix_id)
    assert old.colour(1) == "#a61b1b"
    assert Point.get(Point.register == approved).level == 1
    # the next version is scored on matrix 2: the copied point is graded again
    v2 = reg.open_working_copy(unit["clerk"], unit["dept"])
    assert v2.matrix_id == v2_matrix.id
    assert Point.get(Point.register == v2).level == 3
    assert scoring.grading(v2.matrix_id).colour(1) == "#000000"


def test_five_criteria_grading(unit):
    copy = reg.open_working_copy(unit["clerk"], unit["dept"])
    three = reg.add_point(unit["clerk"], copy, point_data(unit["land"], likelihood="",
                                                          impact="", criteria="1,2,5"))
    one = reg.add_point(unit["clerk"], copy, point_data(unit["land"], likelihood="",
                                                        impact="", criteria="4"))
    assert (three.level, three.criteria, one.level) == (1, 0b10011, 3)
    with pytest.raises(FieldError) as err:
        reg.add_point(unit["clerk"], copy, point_data(unit["land"], likelihood="", impact="",
                                                      criteria=""))
    assert err.value.field == "likelihood"


@pytest.mark.parametrize("field,value", [
    ("post", "999999"), ("risk_type", "moral"), ("likelihood", "6"), ("impact", "abc"),
    ("description", ""), ("description", "x" * 2001), ("code", "bad code!"),
    ("reminder_text", "a\u202eb"), ("criteria", "9"), ("owner", "999999"),
])
def test_bad_point_input_names_the_field_and_changes_nothing(unit, field, value):
    copy = reg.open_working_copy(unit["clerk"], unit["dept"])
    before = AuditEvent.select().count()
    with pytest.raises(FieldError) as err:
        reg.add_point(unit["clerk"], copy, {**point_data(unit["land"]), field: value})
    assert err.value.field == field
    assert Point.select().count() == 0 and AuditEvent.select().count() == before


def test_a_post_of_another_unit_is_refused(unit, org):
    copy = reg.open_working_copy(unit["clerk"], unit["dept"])
    with pytest.raises(FieldError) as err:
        reg.add_point(unit["clerk"], copy, point_data(org["clerk_b"]))
    assert err.value.field == "post"


def test_grants_of_another_county_do_not_reach_the_unit(unit, org, make_user):
    outsider = make_user("b_sup", role="supervisor", region=org["b"])
    with pytest.raises(AccessDenied):
        reg.open_working_copy(outsider, unit["dept"])
    copy = reg.open_working_copy(unit["clerk"], unit["dept"])
    point = reg.add_point(unit["clerk"], copy, point_data(unit["land"]))
    reg.add_measure(unit["clerk"], point, {"text": "集体研究", "deadline_days": 5})
    reg.submit(unit["clerk"], copy)
    with pytest.raises(AccessDenied):
        reg.approve(outsider, copy)
    city = make_user("city_sup", role="supervisor", region=org["city"])
    assert reg.approve(city, copy).state == "approved"  # a grant on an ancestor covers it


def test_staff_may_draft_but_not_review(unit, make_user, org):
    other_clerk = make_user("clerk2", role="staff", region=org["a"])
    copy = reg.open_working_copy(unit["clerk"], unit["dept"])
    point = reg.add_point(unit["clerk"], copy, point_data(unit["land"]))
    reg.add_measure(unit["clerk"], point, {"text": "集体研究", "deadline_days": 5})
    reg.submit(unit["clerk"], copy)
    with pytest.raises(AccessDenied):
        reg.approve(other_clerk, copy)


def test_who_submitted_a_register_does_not_approve_it(unit):
    """Four eyes: a supervisor who drafted and submitted a register cannot approve it."""
    sup = unit["reviewer"]
    copy = reg.open_working_copy(sup, unit["dept"])
    point = reg.add_point(sup, copy, point_data(unit["land"]))
    reg.add_measure(sup, point, {"text": "集体研究", "deadline_days": 5})
    reg.submit(sup, copy)
    with pytest.raises(RiskError, match="cannot also review"):
        reg.approve(sup, copy)
    assert Register.get_by_id(copy.id).state == "submitted"


def test_reviews_follow_the_level_cadence(unit, approved):
    point = Point.get(Point.register == approved)
    review = reg.review_point(unit["clerk"], point, "unchanged", reviewed_on="2026-11-30")
    assert review.next_review == dt.date(2027, 3, 1)  # 28 Feb 2027 is a Sunday
    assert Point.get_by_id(point.id).last_reviewed == dt.date(2026, 11, 30)
    with pytest.raises(FieldError) as err:
        reg.review_point(unit["clerk"], point, "unchanged", reviewed_on="2099-01-01")
    assert err.value.field == "reviewed_on"
    with pytest.raises(FieldError) as err:
        reg.review_point(unit["clerk"], point, "changes_needed", note="")
    assert err.value.field == "note"
