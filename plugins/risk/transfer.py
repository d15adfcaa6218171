"""Import and export of a risk register (导入导出) as CSV or XLSX, sized for 50,000 risk
points.

One row a measure: the point's columns, then one of its measures; the rows of a point
share its code (a point's columns may be left blank on its further rows). Posts are named
by their title, people by their name within the unit's region, rules by their document
number or title (several separated by ``;``). The export writes the same columns, so an
exported register imports again.

The import is all or nothing: every row is checked through the same service checks as the
forms (``register.PointInput``, ``register.measure_values``), every bad row is reported
with its line and field, and only a file without a bad row is written — in bulk
(``core.api.bulk_insert_dicts``: one prepared statement a table on SQLite, ``COPY`` on
PostgreSQL), with one audit event for the import.
"""
from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass
from operator import itemgetter

from peewee import fn

from core.api import (
    Department,
    FieldError,
    Person,
    Post,
    _,
    bulk_insert_dicts,
    db,
    record,
)
from plugins.risk import config
from plugins.risk import register as reg_service
from plugins.risk.access import require_region
from plugins.risk.errors import RiskError
from plugins.risk.labels import RISK_TYPE_NAMES
from plugins.risk.models import Measure, MeasureRule, Point, PointRule, Register, Rule

MAX_ROWS = 200_000
MAX_PROBLEMS = 500
BATCH = 1000

# key, Chinese header, English header
COLUMNS = [
    ("code", "风险点编号", "Code"),
    ("post", "岗位", "Post"),
    ("duty", "职权事项", "Duty"),
    ("power_code", "权力事项编码", "Power item code"),
    ("description", "风险描述", "Risk description"),
    ("risk_type", "风险类型", "Risk type"),
    ("likelihood", "可能性", "Likelihood"),
    ("impact", "影响程度", "Impact"),
    ("criteria", "符合标准", "Criteria met"),
    ("level", "风险等级", "Level"),
    ("reminder_text", "提醒内容", "Reminder text"),
    ("leader", "责任领导", "Responsible leader"),
    ("owner", "责任人", "Responsible person"),
    ("supervisor", "监督人", "Supervisor"),
    ("rules", "制度依据", "Rules"),
    ("measure", "防控措施", "Prevention measure"),
    ("measure_owner", "措施责任人", "Measure owner"),
    ("measure_days", "完成时限（工作日）", "Deadline (working days)"),
    ("measure_rules", "措施依据", "Measure rules"),
]
POINT_KEYS = ("post", "duty", "power_code", "description", "risk_type", "likelihood",
              "impact", "criteria", "reminder_text", "leader", "owner", "supervisor", "rules")
TYPE_NAMES_EN = {"ideology": "ideology", "system": "system", "duty": "duty",
                 "process": "process", "external": "external"}


def columns() -> list[tuple[str, str]]:
    """(key, header in the page's language) of every column."""
    return [(key, config.label({"zh": zh, "en": en})) for key, zh, en in COLUMNS]


def _header_keys() -> dict[str, str]:
    out = {}
    for key, zh, en in COLUMNS:
        for name in (key, zh, en):
            out[name.strip().lower()] = key
    return out


@dataclass
class Problem:
    """One bad row: its line in the file (the header is line 1), the column and why."""

    line: int
    field: str
    message: str


class ImportRefused(Exception):
    """The file has bad rows (or is not readable): nothing was imported."""

    def __init__(self, problems: list[Problem], total: int | None = None):
        self.problems = problems
        self.total = total if total is not None else len(problems)
        super().__init__(f"{self.total} problem(s)")


@dataclass
class ImportResult:
    points: int = 0
    measures: int = 0
    rule_links: int = 0
    replaced: int = 0


# -- export ---------------------------------------------------------------------------------
def export_rows(register: Register):
    """(headers, rows) of a version: one row a measure (a point without one gets a row
    of its own), streamed from a few queries."""
    headers = [label for _key, label in columns()]
    return headers, _rows(register)


def _rows(register: Register):
    posts = dict(Post.select(Post.id, Post.title)
                 .where(Post.department == register.department_id).tuples())
    people = dict(Person.select(Person.id, Person.name)
                  .where(Person.region == register.region_id).tuples())
    rule_names = dict(Rule.select(Rule.id, fn.COALESCE(fn.NULLIF(Rule.doc_number, ""),
                                                       Rule.title)).tuples())
    point_rules: dict[int, list] = {}
    for pid, rid in (PointRule.select(PointRule.point, PointRule.rule).join(Point)
                     .where(Point.register == register.id).tuples()):
        point_rules.setdefault(pid, []).append(rule_names.get(rid, ""))
    measure_rules: dict[int, list] = {}
    for mid, rid in (MeasureRule.select(MeasureRule.measure, MeasureRule.rule)
                     .join(Measure).join(Point).where(Point.register == register.id).tuples()):
        measure_rules.setdefault(mid, []).append(rule_names.get(rid, ""))
    measures: dict[int, list] = {}
    for m in (Measure.select(Measure.id, Measure.point, Measure.text, Measure.owner,
                             Measure.deadline_days)
              .join(Point).where(Point.register == register.id)
              .order_by(Measure.sort, Measure.id).tuples()):
        measures.setdefault(m[1], []).append(m)
    grading = reg_service.scoring.grading(register.matrix_id)
    query = (Point.select().where(Point.register == register.id)
             .order_by(Point.sort, Point.id))
    for p in query.iterator():
        crit = ",".join(str(i + 1) for i in range(len(grading.criteria)) if p.criteria >> i & 1)
        head = [p.code, posts.get(p.post_id, ""), p.duty, p.power_code, p.description,
                config.label({"zh": _type_zh(p.risk_type), "en": p.risk_type}),
                p.likelihood, p.impact, crit, p.level, p.reminder_text,
                people.get(p.leader_id, ""), people.get(p.owner_id, ""),
                people.get(p.supervisor_id, ""), "; ".join(point_rules.get(p.id, []))]
        for _mid, _pid, text, owner, days in measures.get(p.id) or [(None, None, "", None, None)]:
            yield head + [text, people.get(owner, ""), days,
                          "; ".join(measure_rules.get(_mid, []))]


def _type_zh(code: str) -> str:
    return next((zh for zh, c in RISK_TYPE_NAMES.items() if c == code), code)


# -- reading a file ---------------------------------------------------------------------------
def read_table(data: bytes, filename: str) -> list[list[str]]:
    """The rows of a CSV (UTF-8, with or without BOM, or GB18030 as spreadsheet programs
    in Chinese save it) or XLSX file, as text."""
    name = (filename or "").lower()
    if name.endswith(".xlsx") or data[:4] == b"PK\x03\x04":
        return _read_xlsx(data)
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = codecs.decode(data, encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ImportRefused([Problem(0, "file", _("The file is neither UTF-8 nor GB18030 "
                                                  "text."))])
    if "\x00" in text:
        raise ImportRefused([Problem(0, "file", _("The file is not a CSV or XLSX table."))])
    return list(csv.reader(io.StringIO(text, newline="")))


def _read_xlsx(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - any unreadable workbook is the user's input
        raise ImportRefused([Problem(0, "file", _("The XLSX file cannot be read."))]) \
            from None
    ws = wb.worksheets[0]
    rows = []
    for row in ws.iter_rows(values_only=True):
        rows.append(["" if v is None else (str(int(v)) if isinstance(v, float)
                                             and v.is_integer() else str(v)) for v in row])
    wb.close()
    return rows


# -- checking and writing --------------------------------------------------------------------
class _Lookups:
    """Names of a unit's posts, its region's people and the rules it may cite, each
    resolved once."""

    def __init__(self, register: Register):
        self.posts: dict[str, list[int]] = {}
        for pid, title in Post.select(Post.id, Post.title).where(
                Post.department == register.department_id).tuples():
            self.posts.setdefault(title.strip(), []).append(pid)
        self.people: dict[str, list[int]] = {}
        for pid, name in Person.select(Person.id, Person.name).where(
                Person.region == register.region_id).tuples():
            self.people.setdefault(name.strip(), []).append(pid)
        from core.api import Region
        lineage = [r.id for r in Region.get_by_id(register.region_id).lineage()]
        self.rules: dict[str, list[int]] = {}
        for rid, number, title in Rule.select(Rule.id, Rule.doc_number, Rule.title).where(
                Rule.region.in_(lineage)).tuples():
            for key in {number.strip(), title.strip()} - {""}:
                self.rules.setdefault(key, []).append(rid)

    @staticmethod
    def _ids(table: dict, value: str) -> list[int]:
        """The distinct ids named ``value``, in order (the messages of a missing or
        ambiguous name are translated only for a bad row)."""
        return list(dict.fromkeys(table.get(value.strip(), ())))

    def post(self, value: str) -> int | None:
        if not value.strip():
            return None
        ids = self._ids(self.posts, value)
        if len(ids) != 1:
            raise FieldError("post", _("Several posts of this unit have this title.") if ids
                             else _("No post of this unit has this title."))
        return ids[0]

    def person(self, value: str, field: str) -> int | None:
        if not value.strip():
            return None
        ids = self._ids(self.people, value)
        if len(ids) != 1:
            raise FieldError(field, _("Several people of this region have this name.") if ids
                             else _("No person of this region has this name."))
        return ids[0]

    def rule_ids(self, value: str, field: str) -> tuple[int, ...]:
        """The rules named in ``value``, as a tuple (thousands of them are kept: tuples of
        numbers are not tracked by the garbage collector, lists are)."""
        if not value or value.isspace():
            return ()
        out = []
        for name in value.replace("；", ";").split(";"):
            if name.strip():
                ids = self._ids(self.rules, name)
                if len(ids) != 1:
                    raise FieldError(field, _("Several rules have this number or title.") if ids
                                     else _("No rule of the library has this number or title."))
                out.append(ids[0])
        return tuple(sorted(set(out)))


def _risk_type(value: str) -> str:
    value = (value or "").strip()
    return RISK_TYPE_NAMES.get(value) or TYPE_NAMES_EN.get(value.lower(), value)


def check_rows(register: Register, rows: list[list[str]], *, mode: str = "append"):
    """Every row checked: (points by code in the file's order, measures with their
    point's code and rules, the rules of each point) ready to write, or ImportRefused
    with every bad row."""
    if not rows:
        raise ImportRefused([Problem(0, "file", _("The file is empty."))])
    known = _header_keys()
    header = [known.get((h or "").strip().lower()) for h in rows[0]]
    missing = [label for key, label in columns()
               if key in ("post", "description", "risk_type") and key not in header]
    if missing:
        raise ImportRefused([Problem(1, "header", _("Missing columns: %(names)s.",
                                                    names=", ".join(missing)))])
    if len(rows) - 1 > MAX_ROWS:
        raise ImportRefused([Problem(0, "file", _("At most %(n)d rows in one file.",
                                                  n=MAX_ROWS))])
    where = [(i, key) for i, key in enumerate(header) if key]
    points_input = reg_service.PointInput(register)
    look = _Lookups(register)
    dept = Department.get_by_id(register.department_id)
    taken = set() if mode == "replace" else {c for (c,) in Point.select(Point.code).where(
        Point.register == register.id).tuples()}
    prefix = f"{dept.code}-R"
    existing = {c for (c,) in Point.select(Point.code).where(
        Point.department == dept.id).tuples()}
    next_number = max([int(c[len(prefix):]) for c in existing
                       if c.startswith(prefix) and c[len(prefix):].isdigit()], default=0)
    problems: list[Problem] = []
    total_problems = 0
    points: dict[str, dict] = {}
    measures: list[tuple[str, dict, tuple[int, ...]]] = []
    point_rules: dict[str, tuple[int, ...]] = {}
    last_code = None
    keys = [key for _i, key in where]
    pick = itemgetter(*(i for i, _key in where))
    width = where[-1][0] + 1
    for line, row in enumerate(rows[1:], start=2):
        if len(row) >= width:
            cells = dict(zip(keys, pick(row)))
        else:
            cells = {key: (row[i] if i < len(row) else "") for i, key in where}
        if not "".join(filter(None, cells.values())).strip():
            continue
        try:
            code = (cells.get("code") or "").strip()
            continuing = bool(code and code in points) or (
                not code and last_code is not None
                and not any((cells.get(k) or "").strip() for k in POINT_KEYS))
            if continuing:
                code = code or last_code
            else:
                data = {k: cells.get(k, "") for k in POINT_KEYS}
                data["post"] = look.post(data["post"]) or ""
                for f in ("leader", "owner", "supervisor"):
                    data[f] = look.person(data[f], f) or ""
                data["risk_type"] = _risk_type(data["risk_type"])
                data["code"] = code
                values = points_input.values(data, partial_code=None)
                if not values["code"]:
                    next_number += 1
                    values["code"] = f"{prefix}{next_number:03d}"
                    while values["code"] in taken or values["code"] in points:
                        next_number += 1
                        values["code"] = f"{prefix}{next_number:03d}"
                code = values["code"]
                if code in taken:
                    raise FieldError("code", _("This register already has a point "
                                               "%(code)s.", code=code))
                points[code] = values
                point_rules[code] = look.rule_ids(cells.get("rules", ""), "rules")
            last_code = code
            text = cells.get("measure", "")
            if text.strip() or (cells.get("measure_days") or "").strip():
                mvalues = reg_service.measure_values(
                    {"text": text, "deadline_days": cells.get("measure_days", ""),
                     "owner": look.person(cells.get("measure_owner", ""), "measure_owner")
                     or ""}, points_input.region, points_input.people)
                measures.append((code, mvalues, look.rule_ids(cells.get("measure_rules", ""),
                                                              "measure_rules")))
        except FieldError as exc:
            total_problems += 1
            if len(problems) < MAX_PROBLEMS:
                name = {"text": "measure", "deadline_days": "measure_days"}.get(
                    exc.field, exc.field)
                problems.append(Problem(line, name, exc.message))
    if total_problems:
        raise ImportRefused(problems, total_problems)
    if not points:
        raise ImportRefused([Problem(0, "file", _("The file has no risk point."))])
    return points, measures, point_rules


def import_rows(user, register: Register, rows: list[list[str]], *,
                mode: str = "append") -> ImportResult:
    """Import checked rows into a working copy: all or nothing, in bulk, audited."""
    require_region(user, reg_service.EDIT, register.region_id)
    if mode not in ("append", "replace"):
        raise FieldError("mode", _("Choose whether to add to the register or replace it."))
    register = Register.get_by_id(register.id)
    reg_service._editable(register)
    points, measures, point_rules = check_rows(register, rows, mode=mode)
    result = ImportResult()
    with db.atomic():
        register = Register.get_by_id(register.id)
        reg_service._editable(register)  # still a working copy after the checks
        if mode == "replace":
            result.replaced = Point.delete().where(Point.register == register.id).execute()
        start = (Point.select(fn.MAX(Point.sort)).where(Point.register == register.id)
                 .scalar() or 0)
        base = {"register": register.id, "region": register.region_id,
                "department": register.department_id}
        point_rows = list(points.values())
        for n, values in enumerate(point_rows, start=start + 1):
            values.update(base)
            values["sort"] = n
        bulk_insert_dicts(Point, point_rows)
        ids = dict(db.execute(Point.select(Point.code, Point.id)  # (code, id) rows as read
                              .where(Point.register == register.id)))
        counters: dict[str, int] = {}
        measure_rows, measure_links = [], []
        for code, values, rules in measures:
            n = counters[code] = counters.get(code, 0) + 1
            values["point"], values["key"], values["sort"] = ids[code], f"M{n}", n
            measure_rows.append(values)
            if rules:
                measure_links.append((ids[code], values["key"], rules))
        bulk_insert_dicts(Measure, measure_rows)
        links = [{"point": ids[code], "rule": r} for code, rules in point_rules.items()
                 for r in rules]
        for i in range(0, len(links), BATCH):
            PointRule.insert_many(links[i:i + BATCH]).execute()
        if measure_links:
            mids = {(p, k): m for m, p, k in Measure.select(Measure.id, Measure.point,
                                                            Measure.key)
                    .join(Point).where(Point.register == register.id).tuples()}
            mlinks = [{"measure": mids[(p, k)], "rule": r} for p, k, rules in measure_links
                      for r in rules]
            for i in range(0, len(mlinks), BATCH):
                MeasureRule.insert_many(mlinks[i:i + BATCH]).execute()
        result.points, result.measures = len(point_rows), len(measure_rows)
        result.rule_links = len(links)
        record("risk.register.import", object_type="risk_register", object_id=register.id,
               region_id=register.region_id, user=user,
               summary=f"register v{register.version}: {result.points} points and "
                       f"{result.measures} measures imported ({mode})"
                       + (f", {result.replaced} points replaced" if result.replaced else ""),
               changes={"points": [None, result.points], "measures": [None, result.measures]})
    return result


def import_upload(user, register: Register, upload, *, mode: str = "append") -> ImportResult:
    """Import an uploaded file (a werkzeug FileStorage)."""
    if upload is None or not upload.filename:
        raise ImportRefused([Problem(0, "file", _("Choose a CSV or XLSX file."))])
    try:
        return import_rows(user, register, read_table(upload.read(), upload.filename),
                           mode=mode)
    except FieldError as exc:
        raise ImportRefused([Problem(0, exc.field, exc.message)]) from None
    except RiskError as exc:
        raise ImportRefused([Problem(0, "register", str(exc))]) from None
