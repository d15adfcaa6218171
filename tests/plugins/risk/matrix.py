"""risk's part of the access matrix (tests/core/test_access_matrix.py)."""
from __future__ import annotations

from tests.core.test_access_matrix import SECRET


def build(rec) -> None:
    """A county-A register in force with a point, a measure and a rule it cites, and a
    working copy of the next version."""
    import datetime as dt

    from plugins.risk import register as reg
    from plugins.risk import rules
    from plugins.risk.models import Measure, Point
    dept, post = rec["department"], rec["post"]
    rule = rules.create(None, rec["region"].id, {"title": f"{SECRET}审批管理办法",
                                                 "doc_number": "甲府发〔2026〕1号",
                                                 "full_text": f"{SECRET}条文"})
    copy = reg.open_working_copy(None, dept)
    point = reg.add_point(None, copy, {"post": post.id, "description": f"{SECRET}风险点",
                                       "risk_type": "duty", "likelihood": 3, "impact": 3})
    reg.add_measure(None, point, {"text": f"{SECRET}措施", "deadline_days": 5})
    reg.set_point_rules(None, point, [rule.id])
    reg.submit(None, copy)
    approved = reg.approve(None, copy, on=dt.date(2026, 3, 2))
    working = reg.open_working_copy(None, dept)
    rec.update(rk_register=approved, rk_working=working,
               rk_point=Point.get(Point.register == approved.id),
               rk_measure=Measure.select().join(Point)
               .where(Point.register == approved.id).get(),
               rk_rule=rule)
    from plugins.risk import warnings as warn
    rec["rk_warning"] = warn.raise_warning(None, source="manual", target="post", post=post,
                                           subject=f"{SECRET}预警事由")
    # a warning on a person too: the one a supervisor may transfer as a problem lead
    # (POST /risk/warnings/<id>/transfer) names an official
    rec["rk_warning_person"] = warn.raise_warning(None, source="manual", target="person",
                                                  person=rec["person"],
                                                  subject=f"{SECRET}个人预警")
    from plugins.risk import talks
    rec["rk_talk"] = talks.record_talk(None, {
        "person": rec["person"].id, "post": post.id, "kind": "warning",
        "held_on": "2026-03-02", "talker": "书记", "content": f"{SECRET}谈话内容"})
    rec["rk_notice"] = talks.issue_notice(None, {"kind": "disposal", "department": dept.id,
                                                 "matter": f"{SECRET}通知事项"})
    from plugins.risk import evaluation
    rec["rk_run"] = evaluation.evaluate(None, rec["region"], "2026-03")
    import io

    from werkzeug.datastructures import FileStorage

    from plugins.risk import education
    from plugins.risk.models import EducationTask, MaterialFile
    pdf = b"%PDF-1.4\n%matrix\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
    material = education.create_material(None, {
        "region": rec["region"].id, "title": f"{SECRET}警示教育", "kind": "case",
        "body": f"{SECRET}案情"}, [FileStorage(io.BytesIO(pdf), filename=f"{SECRET}.pdf")])
    question = education.add_question(None, material, {
        "text": f"{SECRET}问题", "options": "甲\n乙", "answer": "1"})
    target, _made = education.assign(None, material, {"post": post.id})
    rec.update(rk_material=material, rk_question=question, rk_target=target,
               rk_file=MaterialFile.get(MaterialFile.material == material.id),
               rk_task=EducationTask.get(EducationTask.material == material.id))


A_RECORDS = {
    "register_id": lambda r: [r["rk_register"].id, r["rk_working"].id],
    "point_id": lambda r: [r["rk_point"].id],
    "measure_id": lambda r: [r["rk_measure"].id],
    "rule_id": lambda r: [r["rk_rule"].id],
    "warning_id": lambda r: [r["rk_warning"].id, r["rk_warning_person"].id],
    "talk_id": lambda r: [r["rk_talk"].id],
    "notice_id": lambda r: [r["rk_notice"].id],
    "run_id": lambda r: [r["rk_run"].id],
    "material_id": lambda r: [r["rk_material"].id],
    "question_id": lambda r: [r["rk_question"].id],
    "target_id": lambda r: [r["rk_target"].id],
    "file_id": lambda r: [r["rk_file"].id],
    "task_id": lambda r: [r["rk_task"].id],
}
EXPECTED_PREFIXES = ("/risk/units/", "/risk/registers/", "/risk/points/", "/risk/measures/",
                     "/risk/rules/", "/risk/warnings/", "/risk/talks/",
                     "/risk/evaluation/", "/risk/education/")


def matrix_form(change: dict | None = None) -> dict:
    """The matrix settings form as the page fills it from the matrix in force, with
    ``change`` applied (a valid submission of a new version by default: level 2
    reviewed every 4 months)."""
    from plugins.risk import scoring
    d = scoring.current().definition
    form = {"method": d["method"], "note": "matrix"}
    for axis in ("likelihood", "impact"):
        for i, s in enumerate(d[axis]):
            form[f"{axis}.{i}.zh"], form[f"{axis}.{i}.en"] = s["label"]["zh"], s["label"]["en"]
    for i, lv in enumerate(d["levels"]):
        form.update({f"levels.{i}.colour": lv["colour"],
                     f"levels.{i}.review_months": str(lv["review_months"]),
                     f"levels.{i}.label.zh": lv["label"]["zh"],
                     f"levels.{i}.label.en": lv["label"]["en"],
                     f"levels.{i}.description.zh": lv["description"]["zh"],
                     f"levels.{i}.description.en": lv["description"]["en"]})
    for li, row in enumerate(d["grid"]):
        for im, cell in enumerate(row):
            form[f"grid.{li + 1}.{im + 1}"] = str(cell)
    for i, c in enumerate(d["criteria"]):
        form[f"criteria.{i}.zh"], form[f"criteria.{i}.en"] = c["zh"], c["en"]
    for at_least, level in d["criteria_levels"]:
        form[f"criteria_levels.{level}"] = str(at_least)
    form.update(change if change is not None else {"levels.1.review_months": "4"})
    return form


CITY_WIDE_FORMS = {
    "risk.save_matrix": lambda r: ({}, matrix_form()),
    "risk_evaluation.weights": lambda r: ({}, {"coverage": "40", "measures": "20",
                                               "reviews": "10", "warnings": "10",
                                               "escalation": "10", "education": "10"}),
}
