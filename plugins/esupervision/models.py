"""E-supervision (电子监察) models: monitored cases, their events, clocks and signals.

Every table is named ``esupervision_<name>`` (migration ``0008_table_prefix``), so the
plugin can share a database with any other plugin (a ``cases`` plugin's ``case_event``)."""
from __future__ import annotations

import peewee as pw

from core.api import BaseModel, Department, Person, Region, StoredFile, utcnow

CLOCK_KINDS = ("acceptance", "step", "completion", "suspension", "delivery")


class MonitoredCase(BaseModel):
    """A monitored case (办件) of an approval system, keyed by (source, serial)."""

    source = pw.CharField(max_length=64)
    serial = pw.CharField(max_length=64)
    region = pw.ForeignKeyField(Region, on_delete="RESTRICT")
    department = pw.ForeignKeyField(Department, null=True, on_delete="SET NULL")
    department_code = pw.CharField(max_length=16)
    department_name = pw.CharField(max_length=100, default="")
    item_code = pw.CharField(max_length=64)
    item_name = pw.CharField(max_length=200, default="")
    item_type = pw.CharField(max_length=8)
    item_version = pw.IntegerField(default=1)
    statutory_limit_days = pw.IntegerField()
    committed_limit_days = pw.IntegerField()
    fee_due = pw.DecimalField(max_digits=12, decimal_places=2)
    channel = pw.CharField(max_length=16, default="window")
    handler_username = pw.CharField(max_length=64, default="")
    handler_post_id = pw.IntegerField(null=True)
    submitted_at = pw.DateTimeField()
    status = pw.CharField(max_length=16, default="received")
    decision = pw.CharField(max_length=16, default="")
    accepted_at = pw.DateTimeField(null=True)
    decided_at = pw.DateTimeField(null=True)
    closed_at = pw.DateTimeField(null=True)
    completion_due = pw.DateField(null=True)
    rating = pw.SmallIntegerField(null=True)
    last_event_at = pw.DateTimeField(null=True)
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "esupervision_monitored_case"
        indexes = ((("source", "serial"), True), (("region", "status"), False))


class CaseEvent(BaseModel):
    """One received case event, stored as sent; idempotent by (source, event_id)."""

    source = pw.CharField(max_length=64)
    event_id = pw.CharField(max_length=100)
    name = pw.CharField(max_length=64)
    case = pw.ForeignKeyField(MonitoredCase, backref="events", on_delete="CASCADE")
    occurred_at = pw.DateTimeField()
    received_at = pw.DateTimeField(default=utcnow)
    payload = pw.TextField()

    class Meta:
        table_name = "esupervision_case_event"
        indexes = ((("source", "event_id"), True), (("case", "occurred_at"), False))


class Clock(BaseModel):
    """A clock (时限) in working days: derived from the case's events, rebuilt on each.

    ``due`` is the last allowed day, ``yellow_on`` the day the yellow warning starts;
    both already include the stopped working days. ``paused_since`` is set while the
    clock is stopped (supplement request, special procedure). ``yellow_at``/``red_at``
    record when the sweep raised the clock's signal, so later sweeps skip it by index.
    Lookups by case use the unique (case, kind, step) index: no second index on case."""

    case = pw.ForeignKeyField(MonitoredCase, backref="clocks", index=False,
                              on_delete="CASCADE")
    kind = pw.CharField(max_length=16)
    step_seq = pw.IntegerField(default=0)
    label = pw.CharField(max_length=100, default="")
    post_id = pw.IntegerField(null=True)
    start_day = pw.DateField()
    limit_days = pw.IntegerField()
    stopped_days = pw.IntegerField(default=0)
    paused_since = pw.DateField(null=True)
    due = pw.DateField()
    yellow_on = pw.DateField(null=True)
    ended_on = pw.DateField(null=True)
    yellow_at = pw.DateTimeField(null=True)
    red_at = pw.DateTimeField(null=True)

    class Meta:
        table_name = "esupervision_clock"
        indexes = ((("case", "kind", "step_seq"), True), (("ended_on", "due", "red_at"), False),
                   (("ended_on", "yellow_on", "yellow_at"), False))


class Signal(BaseModel):
    """A yellow warning or red correction signal (红黄牌); one per dedupe key. Lookups by
    region use the (region, raised_at) index: no second index on region."""

    case = pw.ForeignKeyField(MonitoredCase, backref="signals", on_delete="CASCADE")
    region = pw.ForeignKeyField(Region, index=False, on_delete="RESTRICT")
    level = pw.CharField(max_length=8)
    code = pw.CharField(max_length=40)
    dedupe_key = pw.CharField(max_length=160, unique=True)
    detail = pw.TextField(default="")
    clock = pw.ForeignKeyField(Clock, null=True, on_delete="SET NULL")
    raised_at = pw.DateTimeField(default=utcnow)
    alerted_at = pw.DateTimeField(null=True)

    class Meta:
        table_name = "esupervision_signal"
        indexes = ((("alerted_at",), False), (("region", "raised_at"), False))


class DetectorSetting(BaseModel):
    """On/off and parameters (JSON) of one red-signal detector: the city default when
    ``region`` is NULL, else a county's override for its cases (``regional.py``)."""

    region = pw.ForeignKeyField(Region, null=True, index=False, on_delete="CASCADE")
    code = pw.CharField(max_length=40)
    enabled = pw.BooleanField(default=True)
    params = pw.TextField(default="{}")
    updated_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "esupervision_detector_setting"
        indexes = ((("region", "code"), True),)


DetectorSetting.add_index(DetectorSetting.code, unique=True,
                          where=DetectorSetting.region.is_null())


THRESHOLD_SCOPES = ("all", "item_type", "item")


class Threshold(BaseModel):
    """Yellow-warning threshold for every item (``scope="all"``, key ``*``), an item type
    or one item (item wins over type, type over all): the city default when ``region`` is
    NULL, else a county's override."""

    region = pw.ForeignKeyField(Region, null=True, index=False, on_delete="CASCADE")
    scope = pw.CharField(max_length=16)
    key = pw.CharField(max_length=64)
    share_percent = pw.IntegerField()
    days_left = pw.IntegerField()
    updated_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "esupervision_threshold"
        indexes = ((("region", "scope", "key"), True),)


Threshold.add_index(Threshold.scope, Threshold.key, unique=True,
                    where=Threshold.region.is_null())


SUPERVISION_STATES = ("opened", "dismissed", "rectifying", "reported", "closed")


class SupervisionCase(BaseModel):
    """Supervision case (督办) opened for a red signal: verify (核实) → rectification
    demanded (整改) → rectification reported (回告) → closed."""

    signal = pw.ForeignKeyField(Signal, unique=True, on_delete="RESTRICT")
    case = pw.ForeignKeyField(MonitoredCase, on_delete="RESTRICT")
    region = pw.ForeignKeyField(Region, on_delete="RESTRICT")
    department = pw.ForeignKeyField(Department, null=True, on_delete="SET NULL")
    state = pw.CharField(max_length=16, default="opened")
    opened_by = pw.CharField(max_length=64)
    opened_at = pw.DateTimeField(default=utcnow)
    finding = pw.CharField(max_length=16, default="")
    finding_reason = pw.TextField(default="")
    verified_by = pw.CharField(max_length=64, default="")
    verified_at = pw.DateTimeField(null=True)
    rectification_demand = pw.TextField(default="")
    rectification_days = pw.IntegerField(null=True)
    rectification_due = pw.DateField(null=True)
    report_text = pw.TextField(default="")
    reported_at = pw.DateTimeField(null=True)
    closed_at = pw.DateTimeField(null=True)
    closing_note = pw.TextField(default="")
    escalated_at = pw.DateTimeField(null=True)
    reported_by = pw.CharField(max_length=64, default="")
    reported_on_paper = pw.BooleanField(default=False)
    review_note = pw.TextField(default="")
    reviewed_by = pw.CharField(max_length=64, default="")
    reviewed_at = pw.DateTimeField(null=True)

    class Meta:
        table_name = "esupervision_supervision_case"
        indexes = ((("state", "rectification_due"), False), (("region", "state"), False))


class Accountability(BaseModel):
    """Accountability record (问责) of a supervision case: who, what, outcome. ``person``
    is the person of the organisation held accountable; ``person_name`` their name as it
    was when recorded (records from before ``0011`` have only the name, typed by hand)."""

    supervision = pw.ForeignKeyField(SupervisionCase, backref="accountability",
                                     on_delete="RESTRICT")
    region = pw.ForeignKeyField(Region, on_delete="RESTRICT")
    person = pw.ForeignKeyField(Person, null=True, on_delete="SET NULL")
    person_name = pw.CharField(max_length=64)
    what = pw.TextField()
    outcome = pw.TextField()
    recorded_by = pw.CharField(max_length=64)
    recorded_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "esupervision_accountability"


class InspectionFinding(BaseModel):
    """A daily supervision finding (日常监察) about a department; its points are deducted
    in the monthly evaluation."""

    region = pw.ForeignKeyField(Region, on_delete="RESTRICT")
    department = pw.ForeignKeyField(Department, on_delete="RESTRICT")
    day = pw.DateField()
    category = pw.CharField(max_length=32)
    description = pw.TextField()
    severity = pw.CharField(max_length=8)
    points = pw.IntegerField()
    recorded_by = pw.CharField(max_length=64)
    recorded_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "esupervision_inspection_finding"
        indexes = ((("department", "day"), False),)


class EvaluationConfig(BaseModel):
    """Weights, deductions and bonuses of the monthly evaluation (JSON), one row."""

    params = pw.TextField()
    updated_by = pw.CharField(max_length=64, default="")
    updated_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "esupervision_evaluation_config"


class EvaluationRun(BaseModel):
    """One immutable monthly efficiency evaluation (效能评估); a re-run is a new version."""

    month = pw.CharField(max_length=7)
    version = pw.IntegerField()
    params = pw.TextField()
    created_by = pw.CharField(max_length=64)
    created_at = pw.DateTimeField(default=utcnow)
    seconds = pw.FloatField(default=0)

    class Meta:
        table_name = "esupervision_evaluation_run"
        indexes = ((("month", "version"), True),)


class EvaluationScore(BaseModel):
    """A department's or a region's score in one evaluation run (never edited)."""

    run = pw.ForeignKeyField(EvaluationRun, backref="scores", on_delete="RESTRICT")
    level = pw.CharField(max_length=16)
    region = pw.ForeignKeyField(Region, on_delete="RESTRICT")
    department = pw.ForeignKeyField(Department, null=True, on_delete="RESTRICT")
    label = pw.CharField(max_length=100)
    cases = pw.IntegerField()
    decided = pw.IntegerField()
    on_time_rate = pw.FloatField(null=True)
    early_rate = pw.FloatField(null=True)
    time_ratio = pw.FloatField(null=True)
    yellow = pw.IntegerField()
    red = pw.IntegerField()
    finding_points = pw.IntegerField()
    accountability = pw.IntegerField(default=0)
    satisfaction = pw.FloatField(null=True)
    efficiency = pw.FloatField()
    abnormal = pw.FloatField()
    supervision = pw.FloatField()
    public = pw.FloatField()
    bonus = pw.FloatField()
    total = pw.FloatField()
    rank = pw.IntegerField()
    suggestion = pw.TextField(default="")

    class Meta:
        table_name = "esupervision_evaluation_score"
        indexes = ((("run", "level", "rank"), False), (("department", "run"), False))


LETTER_STATES = ("issued", "replied", "returned", "accepted")


class SuggestionLetter(BaseModel):
    """Suggestion letter (监察建议书): a numbered document (文号, per issuing region and
    year) sent after a low score in the monthly evaluation to a department's head — or,
    for a district or county that scored low, to its supervision office — with a deadline
    for the rectification report (整改回告) the department itself enters.

    issued → replied → accepted (closed), or returned for more → replied again. ``body``
    is the letter's text as issued (the deployment's language) and never changes."""

    number = pw.CharField(max_length=64, unique=True)
    issuer_region = pw.ForeignKeyField(Region, on_delete="RESTRICT")
    region = pw.ForeignKeyField(Region, index=False, on_delete="RESTRICT")
    department = pw.ForeignKeyField(Department, on_delete="RESTRICT")
    level = pw.CharField(max_length=16, default="department")
    addressee = pw.CharField(max_length=100, default="")
    run = pw.ForeignKeyField(EvaluationRun, on_delete="RESTRICT")
    month = pw.CharField(max_length=7)
    total = pw.FloatField()
    rank = pw.IntegerField()
    body = pw.TextField()
    issued_at = pw.DateTimeField(default=utcnow)
    issued_by = pw.CharField(max_length=64)
    reply_due = pw.DateField()
    state = pw.CharField(max_length=16, default="issued")
    reply_text = pw.TextField(default="")
    replied_by = pw.CharField(max_length=64, default="")
    replied_at = pw.DateTimeField(null=True)
    review_note = pw.TextField(default="")
    reviewed_by = pw.CharField(max_length=64, default="")
    reviewed_at = pw.DateTimeField(null=True)
    escalated_at = pw.DateTimeField(null=True)

    class Meta:
        table_name = "esupervision_suggestion_letter"
        indexes = ((("region", "issued_at"), False), (("state", "reply_due"), False))


class ReportFile(BaseModel):
    """A file attached to a rectification report (整改回告): of a supervision case's
    rectification or of a suggestion letter's reply, stored encrypted by the core."""

    supervision = pw.ForeignKeyField(SupervisionCase, null=True, on_delete="RESTRICT")
    letter = pw.ForeignKeyField(SuggestionLetter, null=True, on_delete="RESTRICT")
    file = pw.ForeignKeyField(StoredFile, on_delete="RESTRICT")
    added_by = pw.CharField(max_length=64)
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "esupervision_report_file"


MODELS = [MonitoredCase, CaseEvent, Clock, Signal, DetectorSetting, Threshold,
          SupervisionCase, Accountability, InspectionFinding, EvaluationConfig, EvaluationRun,
          EvaluationScore, SuggestionLetter, ReportFile]
