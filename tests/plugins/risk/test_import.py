"""The register import (``transfer``) writes what it checked: points graded on the
matrix with their codes and order, measures keyed per point with the model's defaults, rule
links — all or nothing (its rows are written with one ``executemany`` per table)."""
from __future__ import annotations

import pytest

from plugins.risk import register as reg
from plugins.risk import rules, transfer
from plugins.risk.models import Measure, Point, PointRule

HEADER = ["岗位", "职权事项", "风险描述", "风险类型", "可能性", "影响程度", "提醒内容",
          "制度依据", "防控措施", "完成时限（工作日）"]


def test_import_writes_the_checked_rows(unit):
    rule = rules.create(None, unit["region"].id, {"title": "土地整治项目管理办法",
                                                  "doc_number": "锦府发〔2026〕3号",
                                                  "full_text": "条文"})
    copy = reg.open_working_copy(unit["clerk"], unit["dept"])
    rows = [HEADER,
            ["土地整治项目负责人", "项目实施", "随意变更规划设计", "process", "5", "4", "严禁变更",
             "锦府发〔2026〕3号", "变更须集体研究", "5"],
            ["", "", "", "", "", "", "", "", "全程留痕", "10"],
            ["窗口受理员", "受理", "=违规受理", "duty", "2", "2", "", "", "一次告知", "3"]]
    result = transfer.import_rows(unit["clerk"], copy, rows)
    assert (result.points, result.measures, result.rule_links) == (2, 3, 1)
    points = list(Point.select().where(Point.register == copy.id).order_by(Point.sort))
    assert [(p.post_id, p.likelihood, p.impact, p.level, p.risk_type, p.sort)
            for p in points] == [(unit["land"].id, 5, 4, 1, "process", 1),
                                 (unit["clerk_post"].id, 2, 2, 3, "duty", 2)]
    assert points[0].code.startswith("ZF-R") and points[0].code != points[1].code
    assert points[1].description == "=违规受理" and points[0].reminder_text == "严禁变更"
    assert (points[0].region_id, points[0].department_id) == (unit["region"].id,
                                                              unit["dept"].id)
    measures = list(Measure.select().where(Measure.point == points[0].id).order_by(Measure.sort))
    assert [(m.key, m.text, m.deadline_days, m.status, m.due, m.progress_note)
            for m in measures] == [("M1", "变更须集体研究", 5, "planned", None, ""),
                                   ("M2", "全程留痕", 10, "planned", None, "")]
    assert [r.rule_id for r in PointRule.select().where(PointRule.point == points[0].id)] \
        == [rule.id]
    reg.submit(unit["clerk"], copy)  # every point has a measure


def test_a_bad_row_writes_nothing(unit):
    copy = reg.open_working_copy(unit["clerk"], unit["dept"])
    rows = [HEADER, ["土地整治项目负责人", "", "描述", "process", "3", "3", "", "", "措施", "5"],
            ["没有的岗位", "", "描述", "process", "3", "3", "", "", "措施", "5"]]
    with pytest.raises(transfer.ImportRefused) as err:
        transfer.import_rows(unit["clerk"], copy, rows)
    assert [(p.line, p.field) for p in err.value.problems] == [(3, "post")]
    assert not Point.select().where(Point.register == copy.id).exists()
