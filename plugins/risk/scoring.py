"""The risk matrix (风险矩阵) and how a risk point is graded on it.

A matrix version holds the likelihood and impact scales, the three levels (一级 most
severe) with their colours and review cadence, the grid (likelihood × impact → level) and
the five-criteria grading of the notes (meeting ≥3 criteria → 一级, 2 → 二级, 1 → 三级).
``method`` says which decides a point's level: ``matrix``, ``criteria`` or ``higher``
(the more severe of the two that are given). Versions are never edited: saving a
changed matrix makes a new version, and registers keep the one they were scored on.
"""
from __future__ import annotations

import copy

from core.api import FieldError, _, db, record
from plugins.risk.access import actor, require_city
from plugins.risk.models import Matrix

PERM = "risk.settings"
METHODS = ("matrix", "criteria", "higher")


def _scale(labels_zh: str, labels_en: str) -> list[dict]:
    return [{"value": i + 1, "label": {"zh": zh, "en": en}}
            for i, (zh, en) in enumerate(zip(labels_zh.split(), labels_en.split("/")))]


DEFAULT = {
    "method": "higher",
    "likelihood": _scale("极低 较低 中等 较高 极高",
                         "Very low/Low/Medium/High/Very high"),
    "impact": _scale("轻微 较小 中等 较大 严重", "Minor/Small/Moderate/Major/Severe"),
    "levels": [
        {"code": 1, "label": {"zh": "一级（高）", "en": "Level 1 (high)"}, "colour": "#a61b1b",
         "review_months": 3,
         "description": {"zh": "可能触犯国家法律、构成犯罪", "en": "May break the law or be a crime"}},
        {"code": 2, "label": {"zh": "二级（中）", "en": "Level 2 (medium)"}, "colour": "#c77c11",
         "review_months": 6,
         "description": {"zh": "可能违反行政或党纪规定、受到纪律处分",
                         "en": "May break administrative or Party rules"}},
        {"code": 3, "label": {"zh": "三级（低）", "en": "Level 3 (low)"}, "colour": "#1d4f91",
         "review_months": 12,
         "description": {"zh": "可能轻微违规、受到组织处理",
                         "en": "May be a minor violation handled organisationally"}},
    ],
    # grid[likelihood - 1][impact - 1]: the level of that cell (L × I ≥ 15 → 1, ≥ 6 → 2)
    "grid": [[1 if li * im >= 15 else 2 if li * im >= 6 else 3 for im in range(1, 6)]
             for li in range(1, 6)],
    "criteria": [
        {"zh": "掌控权力或公共资源", "en": "Controls power or public resources"},
        {"zh": "权力大、有自由裁量权", "en": "Broad power with discretion"},
        {"zh": "需公开、民主决策、加强监督", "en": "Needs open, collective decisions and oversight"},
        {"zh": "虽无人财物支配权但可借机谋私", "en": "No control of staff or money, but room for "
                                                "private gain"},
        {"zh": "发案频繁、社会关注度高", "en": "Frequent cases, high public attention"},
    ],
    # criteria met → level: at least 3 → 1, 2 → 2, 1 → 3
    "criteria_levels": [[3, 1], [2, 2], [1, 3]],
}


class Grading:
    """One matrix version, ready to grade points and to draw (labels, colours)."""

    def __init__(self, matrix: Matrix):
        self.matrix = matrix
        d = matrix.definition
        self.method = d["method"]
        self.likelihood = {s["value"]: s for s in d["likelihood"]}
        self.impact = {s["value"]: s for s in d["impact"]}
        self.levels = {lv["code"]: lv for lv in d["levels"]}
        self.grid = d["grid"]
        self.criteria = d["criteria"]
        self.criteria_levels = sorted(d["criteria_levels"], reverse=True)

    def level(self, likelihood: int | None, impact: int | None, criteria: int = 0) -> int:
        """The level of a point; FieldError names the input that is missing or wrong."""
        by_matrix = by_criteria = None
        if likelihood is not None or impact is not None or self.method == "matrix":
            if likelihood not in self.likelihood:
                raise FieldError("likelihood", _("Choose a likelihood from 1 to %(n)d.",
                                                 n=len(self.likelihood)))
            if impact not in self.impact:
                raise FieldError("impact", _("Choose an impact from 1 to %(n)d.",
                                             n=len(self.impact)))
            by_matrix = self.grid[likelihood - 1][impact - 1]
        if not 0 <= criteria < 1 << len(self.criteria):
            raise FieldError("criteria", _("Unknown criteria."))
        met = criteria.bit_count()
        if met or self.method == "criteria":
            for at_least, lv in self.criteria_levels:
                if met >= at_least:
                    by_criteria = lv
                    break
            if by_criteria is None:
                raise FieldError("criteria", _("Tick at least one of the five criteria."))
        if self.method == "matrix":
            return by_matrix
        if self.method == "criteria":
            return by_criteria
        found = [lv for lv in (by_matrix, by_criteria) if lv is not None]
        if not found:
            raise FieldError("likelihood", _("Score the likelihood and impact, or tick the "
                                             "criteria the point meets."))
        return min(found)

    def review_months(self, level: int) -> int:
        return int(self.levels[level]["review_months"])

    def colour(self, level: int) -> str:
        return self.levels[level]["colour"]

    def css_class(self, level: int) -> str:
        """The class that colours ``level`` of this matrix version (``matrix_css``: the
        content policy allows no inline styles)."""
        return f"rk-m{self.matrix.id}-{level}"

    def label(self, level: int):
        return self.levels[level]["label"]


def current() -> Matrix:
    """The matrix version new registers are scored on (the newest)."""
    row = Matrix.select().order_by(Matrix.version.desc()).first()
    if row is None:
        raise LookupError("the risk matrix is missing: run `flask db upgrade`")
    return row


def matrix_css() -> str:
    """The colours of every matrix version's levels as classes ``.rk-m<id>-<level>``
    (colours are validated as ``#rrggbb`` when a version is saved)."""
    out = []
    for row in Matrix.select().order_by(Matrix.id):
        for lv in row.definition["levels"]:
            colour = str(lv["colour"])
            if len(colour) == 7 and colour[0] == "#" and all(
                    c in "0123456789abcdefABCDEF" for c in colour[1:]):
                out.append(f".rk-m{row.id}-{int(lv['code'])}{{--rk-colour:{colour}}}")
    return "\n".join(out) + "\n"


def grading(matrix: Matrix | int) -> Grading:
    return Grading(matrix if isinstance(matrix, Matrix) else Matrix.get_by_id(matrix))


def _label_pair(value, field: str, size: int = 40) -> dict:
    value = value if isinstance(value, dict) else {}
    out = {}
    for lang in ("zh", "en"):
        text = value.get(lang)
        if not isinstance(text, str) or not text.strip():
            raise FieldError(f"{field}.{lang}", _("This field is required."))
        text = " ".join(text.split())
        if len(text) > size:
            raise FieldError(f"{field}.{lang}", _("At most %(n)d characters.", n=size))
        out[lang] = text
    return out


def check(definition) -> dict:
    """A matrix definition checked and normalised; FieldError names what is wrong."""
    if not isinstance(definition, dict):
        raise FieldError("matrix", _("The matrix is not readable."))
    d = copy.deepcopy(definition)
    if d.get("method") not in METHODS:
        raise FieldError("method", _("Choose how the level is decided."))
    out: dict = {"method": d["method"]}
    for axis in ("likelihood", "impact"):
        scale = d.get(axis)
        if not isinstance(scale, list) or not 2 <= len(scale) <= 7:
            raise FieldError(axis, _("A scale has two to seven steps."))
        out[axis] = [{"value": i + 1, "label": _label_pair(
            (s or {}).get("label") if isinstance(s, dict) else None, f"{axis}.{i}")}
            for i, s in enumerate(scale)]
    levels = d.get("levels")
    if not isinstance(levels, list) or len(levels) != 3:
        raise FieldError("levels", _("The matrix has three levels (一级, 二级, 三级)."))
    out["levels"] = []
    for i, lv in enumerate(levels):
        lv = lv if isinstance(lv, dict) else {}
        colour = lv.get("colour", "")
        if not (isinstance(colour, str) and len(colour) == 7 and colour.startswith("#")
                and all(c in "0123456789abcdefABCDEF" for c in colour[1:])):
            raise FieldError(f"levels.{i}.colour", _("A colour like #a61b1b."))
        months = lv.get("review_months")
        if isinstance(months, bool) or not isinstance(months, int) or not 1 <= months <= 36:
            raise FieldError(f"levels.{i}.review_months",
                             _("Review every 1 to 36 months."))
        out["levels"].append({"code": i + 1, "colour": colour.lower(), "review_months": months,
                              "label": _label_pair(lv.get("label"), f"levels.{i}.label"),
                              "description": _label_pair(lv.get("description"),
                                                         f"levels.{i}.description", 80)})
    grid = d.get("grid")
    rows, cols = len(out["likelihood"]), len(out["impact"])
    if not isinstance(grid, list) or len(grid) != rows or any(
            not isinstance(r, list) or len(r) != cols for r in grid):
        raise FieldError("grid", _("The grid needs a level for every likelihood and impact."))
    for li, row in enumerate(grid):
        for im, cell in enumerate(row):
            if cell not in (1, 2, 3) or isinstance(cell, bool):
                raise FieldError(f"grid.{li + 1}.{im + 1}", _("Each cell is level 1, 2 or 3."))
    out["grid"] = [list(r) for r in grid]
    criteria = d.get("criteria")
    if not isinstance(criteria, list) or not 1 <= len(criteria) <= 8:
        raise FieldError("criteria", _("List one to eight criteria."))
    out["criteria"] = [_label_pair(c, f"criteria.{i}", 60) for i, c in enumerate(criteria)]
    grades = d.get("criteria_levels")
    if not isinstance(grades, list) or not grades or any(
            not isinstance(g, list) or len(g) != 2 or g[1] not in (1, 2, 3)
            or isinstance(g[0], bool) or not isinstance(g[0], int)
            or not 1 <= g[0] <= len(criteria) for g in grades):
        raise FieldError("criteria_levels", _("Give the level for each number of criteria "
                                              "met."))
    out["criteria_levels"] = sorted([list(g) for g in grades], reverse=True)
    return out


def save_version(user, definition, note: str = "") -> Matrix:
    """Save a changed matrix as a new version (city-wide ``risk.settings`` only);
    registers already scored keep theirs."""
    require_city(user, PERM)
    clean = check(definition)
    note = " ".join((note or "").split())[:200]
    with db.atomic():
        latest = current()
        if clean == latest.definition:
            raise FieldError("matrix", _("Nothing changed: the matrix in force is the same."))
        row = Matrix.create(version=latest.version + 1, definition=clean, note=note,
                            created_by=actor(user))
        record("risk.matrix.version", object_type="risk_matrix", object_id=row.id,
               user=user, summary=f"risk matrix version {row.version}: {note}"[:200],
               changes={"version": [latest.version, row.version]})
    return row
