"""Post integrity-risk prevention (岗位廉政风险防控) models.

Every table is named ``risk_<name>``. Risk levels follow the domain: level 1 (一级) is the
most severe, 3 (三级) the least. Times are naive UTC, days are local days (QL_TIMEZONE).
Rows that other platforms or the alert bus own are referred to by id only
(``alert_id``): a plugin's schema never depends on another component's table shape
beyond the organisation it is built on.
"""
from __future__ import annotations

import json

import peewee as pw

from core.api import BaseModel, Department, Person, Post, Region, StoredFile, utcnow

RISK_TYPES = ("ideology", "system", "duty", "process", "external")
REGISTER_STATES = ("draft", "submitted", "returned", "approved", "superseded")
WORKING_STATES = ("draft", "submitted", "returned")
MEASURE_STATES = ("planned", "in_progress", "done", "cancelled")
WARNING_STATES = ("open", "acknowledged", "handled")
TALK_KINDS = ("reminder", "warning", "admonishment")
NOTICE_KINDS = ("prevention", "disposal")
NOTICE_STATES = ("issued", "reported", "accepted")
ACCOUNTABILITY_KINDS = ("organisational", "party", "administrative")
MATERIAL_KINDS = ("text", "case", "document")
REMINDER_KINDS = ("site_arrival", "holiday", "rule_date", "duty_start")


class JSONField(pw.TextField):
    """A JSON document kept as text (the same on SQLite and PostgreSQL)."""

    def db_value(self, value):
        return None if value is None else json.dumps(value, ensure_ascii=False,
                                                     sort_keys=True)

    def python_value(self, value):
        return None if value is None else json.loads(value)


class Setting(BaseModel):
    """A deployment-wide setting of the plugin (warning levels, time limits, weights),
    one JSON document per key; the built-in default applies while a key has no row."""

    key = pw.CharField(max_length=64, unique=True)
    value = JSONField()
    updated_by = pw.CharField(max_length=64, default="")
    updated_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "risk_setting"


class Matrix(BaseModel):
    """A version of the risk matrix (风险矩阵): likelihood and impact scales, the levels
    with their colours and review cadence, the grid and the five-criteria grading.

    A version is never edited: a change is a new version, and every register keeps the
    version it was scored on, so changing the matrix never rewrites history."""

    version = pw.IntegerField(unique=True)
    definition = JSONField()
    note = pw.CharField(max_length=200, default="")
    created_by = pw.CharField(max_length=64, default="")
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "risk_matrix"


class Register(BaseModel):
    """One version of a unit's risk register (岗位风险点目录): drafted and submitted by
    the unit, reviewed by the discipline inspection office, then in force and immutable.
    ``state`` is draft → submitted → returned (with reasons) or approved; an approved
    version becomes superseded when the next one is approved."""

    region = pw.ForeignKeyField(Region, on_delete="RESTRICT")
    department = pw.ForeignKeyField(Department, on_delete="RESTRICT")
    version = pw.IntegerField()
    state = pw.CharField(max_length=16, default="draft")
    matrix = pw.ForeignKeyField(Matrix, on_delete="RESTRICT")
    based_on = pw.ForeignKeyField("self", null=True, on_delete="RESTRICT")
    note = pw.TextField(default="")
    created_by = pw.CharField(max_length=64, default="")
    created_at = pw.DateTimeField(default=utcnow)
    submitted_by = pw.CharField(max_length=64, default="")
    submitted_at = pw.DateTimeField(null=True)
    reviewed_by = pw.CharField(max_length=64, default="")
    reviewed_at = pw.DateTimeField(null=True)
    review_note = pw.TextField(default="")
    in_force_from = pw.DateField(null=True)
    superseded_at = pw.DateTimeField(null=True)

    class Meta:
        table_name = "risk_register"
        indexes = ((("department", "version"), True), (("region", "state"), False))


# one working copy and one version in force per unit, whatever two clerks do at once
Register.add_index(Register.department, unique=True, name="risk_register_one_working",
                   where=Register.state.in_(WORKING_STATES))
Register.add_index(Register.department, unique=True, name="risk_register_one_in_force",
                   where=Register.state == "approved")


class Point(BaseModel):
    """A risk point (风险点) of a post and duty in one register version.

    ``code`` identifies the point across versions of its unit's register. ``level`` is
    computed from the register's matrix (likelihood × impact, or the criteria met,
    ``criteria`` a bit per criterion). ``next_review`` and ``last_reviewed`` are the
    review tracking of a point in force, not register content."""

    register = pw.ForeignKeyField(Register, backref="points", on_delete="CASCADE")
    region = pw.ForeignKeyField(Region, index=False, on_delete="RESTRICT")
    department = pw.ForeignKeyField(Department, index=False, on_delete="RESTRICT")
    code = pw.CharField(max_length=32)
    post = pw.ForeignKeyField(Post, on_delete="RESTRICT")
    duty = pw.CharField(max_length=200, default="")
    power_code = pw.CharField(max_length=64, default="")
    description = pw.TextField()
    risk_type = pw.CharField(max_length=16)
    likelihood = pw.SmallIntegerField(null=True)
    impact = pw.SmallIntegerField(null=True)
    criteria = pw.SmallIntegerField(default=0)
    level = pw.SmallIntegerField()
    reminder_text = pw.CharField(max_length=120, default="")
    leader = pw.ForeignKeyField(Person, null=True, backref="+", on_delete="SET NULL")
    owner = pw.ForeignKeyField(Person, null=True, backref="+", on_delete="SET NULL")
    supervisor = pw.ForeignKeyField(Person, null=True, backref="+", on_delete="SET NULL")
    last_reviewed = pw.DateField(null=True)
    next_review = pw.DateField(null=True, index=True)
    origin = pw.ForeignKeyField("self", null=True, backref="+", on_delete="SET NULL")
    sort = pw.IntegerField(default=0)

    class Meta:
        table_name = "risk_point"
        indexes = ((("register", "code"), True), (("region", "level"), False))


class Measure(BaseModel):
    """A prevention measure (防控措施) of a risk point: its text, responsible person and
    deadline in working days are register content; ``due`` is fixed when the register
    comes into force; ``status``, ``done_on`` and ``progress_note`` are its tracking."""

    point = pw.ForeignKeyField(Point, backref="measures", on_delete="CASCADE")
    key = pw.CharField(max_length=16)
    text = pw.TextField()
    owner = pw.ForeignKeyField(Person, null=True, backref="+", on_delete="SET NULL")
    deadline_days = pw.SmallIntegerField()
    due = pw.DateField(null=True)
    status = pw.CharField(max_length=16, default="planned")
    done_on = pw.DateField(null=True)
    progress_note = pw.CharField(max_length=500, default="")
    sort = pw.IntegerField(default=0)

    class Meta:
        table_name = "risk_measure"
        indexes = ((("point", "key"), True), (("status", "due"), False))


class Review(BaseModel):
    """A periodic review (定期复核) of a risk point in force."""

    point = pw.ForeignKeyField(Point, backref="reviews", on_delete="CASCADE")
    region = pw.ForeignKeyField(Region, on_delete="RESTRICT")
    reviewed_on = pw.DateField()
    outcome = pw.CharField(max_length=16)
    note = pw.TextField(default="")
    next_review = pw.DateField()
    reviewed_by = pw.CharField(max_length=64)
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "risk_review"


class Rule(BaseModel):
    """A prevention rule (风险防控制度) of the rules library: a law, regulation or
    internal rule risk points and measures rest on. Repealing it flags the points that
    cite it."""

    region = pw.ForeignKeyField(Region, on_delete="RESTRICT")
    title = pw.CharField(max_length=200)
    issuing_body = pw.CharField(max_length=100, default="")
    doc_number = pw.CharField(max_length=64, default="")
    effective_on = pw.DateField(null=True)
    repealed_on = pw.DateField(null=True)
    status = pw.CharField(max_length=16, default="in_force")
    full_text = pw.TextField(default="")
    created_by = pw.CharField(max_length=64, default="")
    created_at = pw.DateTimeField(default=utcnow)
    updated_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "risk_rule"
        indexes = ((("region", "status"), False),)


class RuleSearch(BaseModel):
    """The full-text index rows of a rule (``plugins.risk.fulltext``): the bigram token
    strings of its title (with number and issuing body, in part 0) and of its text, cut
    into parts of at most ``fulltext.PART_TOKENS`` tokens (PostgreSQL keeps positions up
    to 16,383 only). On SQLite an FTS5 table reads them (kept in step by triggers); on
    PostgreSQL a stored tsvector column with a GIN index. ``create_table`` builds both as
    the migration does, so the drift check compares like with like."""

    rule = pw.ForeignKeyField(Rule, index=False, on_delete="CASCADE")
    part = pw.SmallIntegerField()
    title_terms = pw.TextField()
    body_terms = pw.TextField()

    class Meta:
        table_name = "risk_rule_search"
        indexes = ((("rule", "part"), True),)

    @classmethod
    def create_table(cls, safe=True, **options):
        super().create_table(safe=safe, **options)
        from plugins.risk.fulltext import search_ddl
        database = cls._meta.database
        target = getattr(database, "obj", None) or database  # the proxy's database
        for statement in search_ddl(isinstance(target, pw.PostgresqlDatabase)):
            database.execute_sql(statement)


class PointRule(BaseModel):
    """A risk point rests on a rule (依据)."""

    point = pw.ForeignKeyField(Point, backref="rules", on_delete="CASCADE")
    rule = pw.ForeignKeyField(Rule, backref="points", on_delete="RESTRICT")

    class Meta:
        table_name = "risk_point_rule"
        indexes = ((("point", "rule"), True),)


class MeasureRule(BaseModel):
    """A measure carries out a rule."""

    measure = pw.ForeignKeyField(Measure, backref="rules", on_delete="CASCADE")
    rule = pw.ForeignKeyField(Rule, backref="measures", on_delete="RESTRICT")

    class Meta:
        table_name = "risk_measure_rule"
        indexes = ((("measure", "rule"), True),)


class RuleDate(BaseModel):
    """A date a rule names (每年一月底前…): reminders go to the holders of the posts whose
    points cite the rule, ``lead_days`` working days before."""

    rule = pw.ForeignKeyField(Rule, backref="dates", on_delete="CASCADE")
    month = pw.SmallIntegerField()
    day = pw.SmallIntegerField()
    lead_days = pw.SmallIntegerField(default=3)
    text = pw.CharField(max_length=120)
    active = pw.BooleanField(default=True)

    class Meta:
        table_name = "risk_rule_date"


class RiskWarning(BaseModel):
    """A post warning (岗位预警) with a configured level, a source and a target (post,
    person or department), raised through the alert bus (``alert_id``). One open warning
    per ``dedupe_key``: repeated signals on a post fold into it (``signals``) and raise
    its level; ``escalations`` counts the level rises."""

    region = pw.ForeignKeyField(Region, index=False, on_delete="RESTRICT")
    department = pw.ForeignKeyField(Department, null=True, on_delete="SET NULL")
    post = pw.ForeignKeyField(Post, null=True, on_delete="SET NULL")
    person = pw.ForeignKeyField(Person, null=True, on_delete="SET NULL")
    point = pw.ForeignKeyField(Point, null=True, on_delete="SET NULL")
    target = pw.CharField(max_length=16)
    level = pw.CharField(max_length=16)
    source = pw.CharField(max_length=32)
    source_ref = pw.CharField(max_length=120, default="")
    subject = pw.CharField(max_length=200)
    detail = pw.TextField(default="")
    dedupe_key = pw.CharField(max_length=160, null=True, unique=True)
    state = pw.CharField(max_length=16, default="open")
    signals = pw.IntegerField(default=1)
    escalations = pw.SmallIntegerField(default=0)
    escalated_at = pw.DateTimeField(null=True)
    raised_by = pw.CharField(max_length=64, default="")
    raised_at = pw.DateTimeField(default=utcnow)
    alert_id = pw.IntegerField(null=True)
    alerted_at = pw.DateTimeField(null=True)
    acknowledged_by = pw.CharField(max_length=64, default="")
    acknowledged_at = pw.DateTimeField(null=True)
    handled_by = pw.CharField(max_length=64, default="")
    handled_at = pw.DateTimeField(null=True)
    handling_note = pw.TextField(default="")

    class Meta:
        table_name = "risk_warning"
        indexes = ((("region", "raised_at"), False), (("post", "state"), False),
                   (("alerted_at",), False))


class Signal(BaseModel):
    """A signal another platform published through core events (an e-supervision red
    signal, a procurement red flag, a petition), kept to count repeats per post."""

    source = pw.CharField(max_length=32)
    ref = pw.CharField(max_length=120, unique=True)
    region = pw.ForeignKeyField(Region, on_delete="RESTRICT")
    department = pw.ForeignKeyField(Department, null=True, on_delete="SET NULL")
    post = pw.ForeignKeyField(Post, null=True, on_delete="SET NULL")
    person = pw.ForeignKeyField(Person, null=True, on_delete="SET NULL")
    code = pw.CharField(max_length=40, default="")
    description = pw.CharField(max_length=300, default="")
    occurred_at = pw.DateTimeField()
    received_at = pw.DateTimeField(default=utcnow)
    closed_at = pw.DateTimeField(null=True)
    outcome = pw.CharField(max_length=16, default="")
    warning = pw.ForeignKeyField(RiskWarning, null=True, backref="signal_rows",
                                 on_delete="SET NULL")

    class Meta:
        table_name = "risk_signal"
        indexes = ((("post", "occurred_at"), False),)


class Site(BaseModel):
    """A project site (项目现场) with its location and radius, and the posts that work on
    it: arriving there sends the posts' risk reminders."""

    region = pw.ForeignKeyField(Region, on_delete="RESTRICT")
    department = pw.ForeignKeyField(Department, null=True, on_delete="SET NULL")
    code = pw.CharField(max_length=32)
    name = pw.CharField(max_length=100)
    address = pw.CharField(max_length=200, default="")
    latitude = pw.DoubleField()
    longitude = pw.DoubleField()
    radius_m = pw.IntegerField(default=300)
    active = pw.BooleanField(default=True)
    created_by = pw.CharField(max_length=64, default="")
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "risk_site"
        indexes = ((("region", "code"), True),)


class SitePost(BaseModel):
    """A post that works on a site."""

    site = pw.ForeignKeyField(Site, backref="posts", on_delete="CASCADE")
    post = pw.ForeignKeyField(Post, on_delete="CASCADE")

    class Meta:
        table_name = "risk_site_post"
        indexes = ((("site", "post"), True),)


class Reminder(BaseModel):
    """A reminder (提醒) sent: who, what, why, when, through which alert (its channels and
    delivery are the alert bus's). ``dedupe_key`` makes each reminder happen once (a
    site arrival once per person, site and day)."""

    kind = pw.CharField(max_length=16)
    region = pw.ForeignKeyField(Region, index=False, on_delete="RESTRICT")
    person = pw.ForeignKeyField(Person, null=True, on_delete="SET NULL")
    user_id = pw.IntegerField(null=True)
    post = pw.ForeignKeyField(Post, null=True, on_delete="SET NULL")
    site = pw.ForeignKeyField(Site, null=True, on_delete="SET NULL")
    text = pw.CharField(max_length=200)
    reason = pw.CharField(max_length=200, default="")
    dedupe_key = pw.CharField(max_length=160, unique=True)
    alert_id = pw.IntegerField(null=True)
    day = pw.DateField()
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "risk_reminder"
        indexes = ((("region", "created_at"), False), (("person", "created_at"), False))


class CheckIn(BaseModel):
    """An arrival (到岗打卡) reported by a phone or by an attendance or GPS system."""

    person = pw.ForeignKeyField(Person, on_delete="CASCADE")
    site = pw.ForeignKeyField(Site, null=True, on_delete="SET NULL")
    region = pw.ForeignKeyField(Region, index=False, on_delete="RESTRICT")
    latitude = pw.DoubleField()
    longitude = pw.DoubleField()
    accuracy_m = pw.IntegerField(null=True)
    distance_m = pw.IntegerField(null=True)
    inside = pw.BooleanField(default=False)
    source = pw.CharField(max_length=64)
    external_id = pw.CharField(max_length=100, null=True)
    at = pw.DateTimeField()
    day = pw.DateField()
    reminder = pw.ForeignKeyField(Reminder, null=True, on_delete="SET NULL")
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "risk_checkin"
        indexes = ((("source", "external_id"), True), (("person", "day"), False),
                   (("region", "created_at"), False))


class Talk(BaseModel):
    """A talk (谈话): reminder (提醒谈话), warning (警示谈话) or admonishment (诫勉谈话).
    The person hands in a self-analysis, a pledge and corrective measures by
    ``submission_due`` (working days after the talk); ``overdue_at`` is when the overdue
    alert went out."""

    region = pw.ForeignKeyField(Region, on_delete="RESTRICT")
    department = pw.ForeignKeyField(Department, null=True, on_delete="SET NULL")
    person = pw.ForeignKeyField(Person, on_delete="RESTRICT")
    post = pw.ForeignKeyField(Post, null=True, on_delete="SET NULL")
    warning = pw.ForeignKeyField(RiskWarning, null=True, on_delete="SET NULL")
    kind = pw.CharField(max_length=16)
    held_on = pw.DateField()
    talker = pw.CharField(max_length=64)
    content = pw.TextField()
    submission_days = pw.SmallIntegerField()
    submission_due = pw.DateField()
    submitted_at = pw.DateTimeField(null=True)
    overdue_at = pw.DateTimeField(null=True)
    recorded_by = pw.CharField(max_length=64)
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "risk_talk"
        indexes = ((("region", "held_on"), False), (("submitted_at", "submission_due"), False))


class TalkSubmission(BaseModel):
    """What the person talked to hands in: self-analysis (剖析材料), integrity pledge
    (廉政承诺) and corrective measures (整改措施)."""

    talk = pw.ForeignKeyField(Talk, unique=True, backref="submission", on_delete="CASCADE")
    self_analysis = pw.TextField()
    pledge = pw.TextField()
    corrections = pw.TextField()
    via = pw.CharField(max_length=16)
    submitted_by = pw.CharField(max_length=64)
    submitted_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "risk_talk_submission"


class NoticeTemplate(BaseModel):
    """The deployment's wording of a notice kind; the built-in wording applies while a
    kind has no row."""

    kind = pw.CharField(max_length=16, unique=True)
    title = pw.CharField(max_length=100)
    body = pw.TextField()
    prefix = pw.CharField(max_length=16)
    updated_by = pw.CharField(max_length=64, default="")
    updated_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "risk_notice_template"


class Notice(BaseModel):
    """A risk prevention notice (风险防控通知书, level-one warnings) or risk disposal notice
    (风险处置通知书, level two), numbered per region and year, its text fixed when issued.
    The unit reports its rectification by ``rectification_due``; a report judged
    insufficient sends it back (``attempts``) and raises the warning's level."""

    region = pw.ForeignKeyField(Region, on_delete="RESTRICT")
    department = pw.ForeignKeyField(Department, on_delete="RESTRICT")
    post = pw.ForeignKeyField(Post, null=True, on_delete="SET NULL")
    person = pw.ForeignKeyField(Person, null=True, on_delete="SET NULL")
    warning = pw.ForeignKeyField(RiskWarning, null=True, on_delete="SET NULL")
    kind = pw.CharField(max_length=16)
    year = pw.SmallIntegerField()
    number = pw.IntegerField()
    doc_number = pw.CharField(max_length=64)
    title = pw.CharField(max_length=100)
    body = pw.TextField()
    issued_on = pw.DateField()
    issued_by = pw.CharField(max_length=64)
    rectification_days = pw.SmallIntegerField()
    rectification_due = pw.DateField()
    state = pw.CharField(max_length=16, default="issued")
    attempts = pw.SmallIntegerField(default=1)
    report = pw.TextField(default="")
    reported_at = pw.DateTimeField(null=True)
    assessed_by = pw.CharField(max_length=64, default="")
    assessed_at = pw.DateTimeField(null=True)
    assessment_note = pw.TextField(default="")
    overdue_at = pw.DateTimeField(null=True)

    class Meta:
        table_name = "risk_notice"
        indexes = ((("region", "kind", "year", "number"), True),
                   (("state", "rectification_due"), False))


class Accountability(BaseModel):
    """An accountability record (问责): organisational handling (组织处理), Party
    discipline (党纪处分) or administrative sanction (政务处分), its basis and decision
    date. ``source_ref`` keeps records fed by other platforms' events unique."""

    region = pw.ForeignKeyField(Region, on_delete="RESTRICT")
    department = pw.ForeignKeyField(Department, null=True, on_delete="SET NULL")
    person = pw.ForeignKeyField(Person, null=True, on_delete="SET NULL")
    person_name = pw.CharField(max_length=64)
    post = pw.ForeignKeyField(Post, null=True, on_delete="SET NULL")
    kind = pw.CharField(max_length=16)
    measure = pw.CharField(max_length=100)
    basis = pw.TextField()
    decided_on = pw.DateField()
    decided_by = pw.CharField(max_length=100, default="")
    warning = pw.ForeignKeyField(RiskWarning, null=True, on_delete="SET NULL")
    source = pw.CharField(max_length=32, default="manual")
    source_ref = pw.CharField(max_length=120, null=True, unique=True)
    recorded_by = pw.CharField(max_length=64)
    recorded_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "risk_accountability"
        indexes = ((("region", "decided_on"), False),)


class Material(BaseModel):
    """Integrity education material (廉政教育材料): a text, a document or a
    warning-education case (警示教育案例), assigned by post, risk type or level."""

    region = pw.ForeignKeyField(Region, on_delete="RESTRICT")
    title = pw.CharField(max_length=200)
    kind = pw.CharField(max_length=16)
    body = pw.TextField(default="")
    due_days = pw.SmallIntegerField(default=10)
    pass_mark = pw.SmallIntegerField(default=80)
    created_by = pw.CharField(max_length=64, default="")
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "risk_material"


class MaterialFile(BaseModel):
    """An attachment of a material (a file of the core's encrypted store)."""

    material = pw.ForeignKeyField(Material, backref="files", on_delete="CASCADE")
    file = pw.ForeignKeyField(StoredFile, on_delete="RESTRICT")
    sort = pw.IntegerField(default=0)

    class Meta:
        table_name = "risk_material_file"


class MaterialTarget(BaseModel):
    """An assignment of a material (分配): who it goes to — holders of one post, or of
    posts with risk points in force of a type and/or at least a level (level 1 most
    severe: ``max_level`` 2 means 一级 and 二级) — made on ``assigned_on`` with
    ``due_days`` working days to study. While ``open``, a person who takes up a matching
    post later gets it too (the daily job)."""

    material = pw.ForeignKeyField(Material, backref="targets", on_delete="CASCADE")
    post = pw.ForeignKeyField(Post, null=True, on_delete="CASCADE")
    risk_type = pw.CharField(max_length=16, default="")
    max_level = pw.SmallIntegerField(null=True)
    assigned_on = pw.DateField(null=True)
    due_days = pw.SmallIntegerField(default=10)
    open = pw.BooleanField(default=True)
    assigned_by = pw.CharField(max_length=64, default="")
    assigned_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "risk_material_target"


class Question(BaseModel):
    """A quiz question of a material: options and the index of the right one."""

    material = pw.ForeignKeyField(Material, backref="questions", on_delete="CASCADE")
    text = pw.CharField(max_length=300)
    options = JSONField()
    answer = pw.SmallIntegerField()
    sort = pw.IntegerField(default=0)

    class Meta:
        table_name = "risk_question"


class EducationTask(BaseModel):
    """One person's task to study a material by ``due``, with read receipts (opened,
    acknowledged, seconds on the page) and the quiz result."""

    material = pw.ForeignKeyField(Material, backref="tasks", on_delete="CASCADE")
    person = pw.ForeignKeyField(Person, on_delete="CASCADE")
    region = pw.ForeignKeyField(Region, index=False, on_delete="RESTRICT")
    department = pw.ForeignKeyField(Department, null=True, on_delete="SET NULL")
    post = pw.ForeignKeyField(Post, null=True, on_delete="SET NULL")
    assigned_on = pw.DateField()
    due = pw.DateField()
    opened_at = pw.DateTimeField(null=True)
    acknowledged_at = pw.DateTimeField(null=True)
    seconds = pw.IntegerField(default=0)
    quiz_score = pw.SmallIntegerField(null=True)
    completed_at = pw.DateTimeField(null=True)
    overdue_at = pw.DateTimeField(null=True)
    target = pw.ForeignKeyField(MaterialTarget, null=True, on_delete="SET NULL")
    quiz_attempts = pw.SmallIntegerField(default=0)

    class Meta:
        table_name = "risk_education_task"
        indexes = ((("material", "person"), True), (("person", "completed_at"), False),
                   (("region", "assigned_on"), False))


class EvaluationRun(BaseModel):
    """One effect evaluation (防控效果评估) of a region for a month or quarter, with the
    weights it used: immutable; a re-run is a new version."""

    region = pw.ForeignKeyField(Region, on_delete="RESTRICT")
    period = pw.CharField(max_length=7)
    version = pw.IntegerField()
    weights = JSONField()
    created_by = pw.CharField(max_length=64)
    created_at = pw.DateTimeField(default=utcnow)
    seconds = pw.FloatField(default=0)

    class Meta:
        table_name = "risk_evaluation_run"
        indexes = ((("region", "period", "version"), True),)


class EvaluationScore(BaseModel):
    """A department's or a region's figures and score in one evaluation run."""

    run = pw.ForeignKeyField(EvaluationRun, backref="scores", on_delete="CASCADE")
    level = pw.CharField(max_length=16)
    region = pw.ForeignKeyField(Region, index=False, on_delete="RESTRICT")
    department = pw.ForeignKeyField(Department, null=True, index=False, on_delete="RESTRICT")
    label = pw.CharField(max_length=100)
    posts = pw.IntegerField()
    posts_covered = pw.IntegerField()
    measures_due = pw.IntegerField()
    measures_on_time = pw.IntegerField()
    reviews_due = pw.IntegerField()
    reviews_on_time = pw.IntegerField()
    warnings_raised = pw.IntegerField()
    warnings_handled = pw.IntegerField()
    warnings_escalated = pw.IntegerField()
    reminders = pw.IntegerField()
    talks = pw.IntegerField()
    accountability = pw.IntegerField()
    education_due = pw.IntegerField()
    education_done = pw.IntegerField()
    score = pw.FloatField()
    rank = pw.IntegerField()

    class Meta:
        table_name = "risk_evaluation_score"
        indexes = ((("run", "level", "rank"), False),)


MODELS = [Setting, Matrix, Register, Point, Measure, Review, Rule, RuleSearch, PointRule,
          MeasureRule, RuleDate, RiskWarning, Signal, Site, SitePost, Reminder, CheckIn, Talk,
          TalkSubmission, NoticeTemplate, Notice, Accountability, Material, MaterialFile,
          MaterialTarget, Question, EducationTask, EvaluationRun, EvaluationScore]
