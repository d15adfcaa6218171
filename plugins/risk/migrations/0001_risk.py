"""Risk prevention schema (岗位廉政风险防控): settings, the risk matrix, registers with
their points, measures and reviews, the rules library with its full-text index,
warnings, signals from other platforms, sites, check-ins and reminders, talks, notices,
accountability, education, and effect evaluation. The first matrix version is the
built-in one (likelihood × impact on 1-5 scales, three levels, the five criteria)."""
import datetime
import json

from peewee import (
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    DoubleField,
    FloatField,
    ForeignKeyField,
    IntegerField,
    Model,
    PostgresqlDatabase,
    SmallIntegerField,
    TextField,
)

WORKING_STATES = ("draft", "submitted", "returned")
POSTGRES_SEARCH = [
    ('ALTER TABLE risk_rule_search ADD COLUMN IF NOT EXISTS document tsvector '
     "GENERATED ALWAYS AS (setweight(to_tsvector('simple', title_terms), 'A') || "
     "setweight(to_tsvector('simple', body_terms), 'D')) STORED"),
    ('CREATE INDEX IF NOT EXISTS risk_rule_search_document ON risk_rule_search USING '
     'gin (document)'),
]
SQLITE_SEARCH = [
    ('CREATE VIRTUAL TABLE IF NOT EXISTS risk_rule_fts USING fts5(title_terms, '
     "body_terms, content='risk_rule_search', content_rowid='id', "
     "tokenize='unicode61')"),
    ('CREATE TRIGGER IF NOT EXISTS risk_rule_search_ai AFTER INSERT ON '
     'risk_rule_search BEGIN INSERT INTO risk_rule_fts(rowid, title_terms, body_terms) '
     'VALUES (new.id, new.title_terms, new.body_terms); END'),
    ('CREATE TRIGGER IF NOT EXISTS risk_rule_search_ad AFTER DELETE ON '
     'risk_rule_search BEGIN INSERT INTO risk_rule_fts(risk_rule_fts, rowid, '
     "title_terms, body_terms) VALUES ('delete', old.id, old.title_terms, "
     'old.body_terms); END'),
    ('CREATE TRIGGER IF NOT EXISTS risk_rule_search_au AFTER UPDATE ON '
     'risk_rule_search BEGIN INSERT INTO risk_rule_fts(risk_rule_fts, rowid, '
     "title_terms, body_terms) VALUES ('delete', old.id, old.title_terms, "
     'old.body_terms); INSERT INTO risk_rule_fts(rowid, title_terms, body_terms) '
     'VALUES (new.id, new.title_terms, new.body_terms); END'),
]
FIRST_MATRIX = {'criteria': [{'en': 'Controls power or public resources', 'zh': '掌控权力或公共资源'},
              {'en': 'Broad power with discretion', 'zh': '权力大、有自由裁量权'},
              {'en': 'Needs open, collective decisions and oversight',
               'zh': '需公开、民主决策、加强监督'},
              {'en': 'No control of staff or money, but room for private gain',
               'zh': '虽无人财物支配权但可借机谋私'},
              {'en': 'Frequent cases, high public attention', 'zh': '发案频繁、社会关注度高'}],
 'criteria_levels': [[3, 1], [2, 2], [1, 3]],
 'grid': [[3, 3, 3, 3, 3],
          [3, 3, 2, 2, 2],
          [3, 2, 2, 2, 1],
          [3, 2, 2, 1, 1],
          [3, 2, 1, 1, 1]],
 'impact': [{'label': {'en': 'Minor', 'zh': '轻微'}, 'value': 1},
            {'label': {'en': 'Small', 'zh': '较小'}, 'value': 2},
            {'label': {'en': 'Moderate', 'zh': '中等'}, 'value': 3},
            {'label': {'en': 'Major', 'zh': '较大'}, 'value': 4},
            {'label': {'en': 'Severe', 'zh': '严重'}, 'value': 5}],
 'levels': [{'code': 1,
             'colour': '#a61b1b',
             'description': {'en': 'May break the law or be a crime',
                             'zh': '可能触犯国家法律、构成犯罪'},
             'label': {'en': 'Level 1 (high)', 'zh': '一级（高）'},
             'review_months': 3},
            {'code': 2,
             'colour': '#c77c11',
             'description': {'en': 'May break administrative or Party rules',
                             'zh': '可能违反行政或党纪规定、受到纪律处分'},
             'label': {'en': 'Level 2 (medium)', 'zh': '二级（中）'},
             'review_months': 6},
            {'code': 3,
             'colour': '#1d4f91',
             'description': {'en': 'May be a minor violation handled organisationally',
                             'zh': '可能轻微违规、受到组织处理'},
             'label': {'en': 'Level 3 (low)', 'zh': '三级（低）'},
             'review_months': 12}],
 'likelihood': [{'label': {'en': 'Very low', 'zh': '极低'}, 'value': 1},
                {'label': {'en': 'Low', 'zh': '较低'}, 'value': 2},
                {'label': {'en': 'Medium', 'zh': '中等'}, 'value': 3},
                {'label': {'en': 'High', 'zh': '较高'}, 'value': 4},
                {'label': {'en': 'Very high', 'zh': '极高'}, 'value': 5}],
 'method': 'higher'}


def up(migrator, db):
    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class Region(Base):
        class Meta:
            table_name = "region"

    class Department(Base):
        class Meta:
            table_name = "department"

    class Post(Base):
        class Meta:
            table_name = "post"

    class Person(Base):
        class Meta:
            table_name = "person"

    class Setting(Base):
        key = CharField(max_length=64, unique=True)
        value = TextField()
        updated_by = CharField(max_length=64, default='')
        updated_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            table_name = "risk_setting"

    class Matrix(Base):
        version = IntegerField(unique=True)
        definition = TextField()
        note = CharField(max_length=200, default='')
        created_by = CharField(max_length=64, default='')
        created_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            table_name = "risk_matrix"

    class Register(Base):
        region = ForeignKeyField(Region, backref="+", on_delete="RESTRICT")
        department = ForeignKeyField(Department, backref="+", on_delete="RESTRICT")
        version = IntegerField()
        state = CharField(max_length=16, default='draft')
        matrix = ForeignKeyField(Matrix, backref="+", on_delete="RESTRICT")
        based_on = ForeignKeyField("self", backref="+", null=True, on_delete="RESTRICT")
        note = TextField(default='')
        created_by = CharField(max_length=64, default='')
        created_at = DateTimeField(default=datetime.datetime.utcnow)
        submitted_by = CharField(max_length=64, default='')
        submitted_at = DateTimeField(null=True)
        reviewed_by = CharField(max_length=64, default='')
        reviewed_at = DateTimeField(null=True)
        review_note = TextField(default='')
        in_force_from = DateField(null=True)
        superseded_at = DateTimeField(null=True)

        class Meta:
            table_name = "risk_register"
            indexes = ((('department', 'version'), True), (('region', 'state'), False))

    class Point(Base):
        register = ForeignKeyField(Register, backref="+", on_delete="CASCADE")
        region = ForeignKeyField(Region, backref="+", index=False, on_delete="RESTRICT")
        department = ForeignKeyField(Department, backref="+", index=False, on_delete="RESTRICT")
        code = CharField(max_length=32)
        post = ForeignKeyField(Post, backref="+", on_delete="RESTRICT")
        duty = CharField(max_length=200, default='')
        power_code = CharField(max_length=64, default='')
        description = TextField()
        risk_type = CharField(max_length=16)
        likelihood = SmallIntegerField(null=True)
        impact = SmallIntegerField(null=True)
        criteria = SmallIntegerField(default=0)
        level = SmallIntegerField()
        reminder_text = CharField(max_length=120, default='')
        leader = ForeignKeyField(Person, backref="+", null=True, on_delete="SET NULL")
        owner = ForeignKeyField(Person, backref="+", null=True, on_delete="SET NULL")
        supervisor = ForeignKeyField(Person, backref="+", null=True, on_delete="SET NULL")
        last_reviewed = DateField(null=True)
        next_review = DateField(null=True, index=True)
        origin = ForeignKeyField("self", backref="+", null=True, on_delete="SET NULL")
        sort = IntegerField(default=0)

        class Meta:
            table_name = "risk_point"
            indexes = ((('register', 'code'), True), (('region', 'level'), False))

    class Measure(Base):
        point = ForeignKeyField(Point, backref="+", on_delete="CASCADE")
        key = CharField(max_length=16)
        text = TextField()
        owner = ForeignKeyField(Person, backref="+", null=True, on_delete="SET NULL")
        deadline_days = SmallIntegerField()
        due = DateField(null=True)
        status = CharField(max_length=16, default='planned')
        done_on = DateField(null=True)
        progress_note = CharField(max_length=500, default='')
        sort = IntegerField(default=0)

        class Meta:
            table_name = "risk_measure"
            indexes = ((('point', 'key'), True), (('status', 'due'), False))

    class Review(Base):
        point = ForeignKeyField(Point, backref="+", on_delete="CASCADE")
        region = ForeignKeyField(Region, backref="+", on_delete="RESTRICT")
        reviewed_on = DateField()
        outcome = CharField(max_length=16)
        note = TextField(default='')
        next_review = DateField()
        reviewed_by = CharField(max_length=64)
        created_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            table_name = "risk_review"

    class Rule(Base):
        region = ForeignKeyField(Region, backref="+", on_delete="RESTRICT")
        title = CharField(max_length=200)
        issuing_body = CharField(max_length=100, default='')
        doc_number = CharField(max_length=64, default='')
        effective_on = DateField(null=True)
        repealed_on = DateField(null=True)
        status = CharField(max_length=16, default='in_force')
        full_text = TextField(default='')
        created_by = CharField(max_length=64, default='')
        created_at = DateTimeField(default=datetime.datetime.utcnow)
        updated_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            table_name = "risk_rule"
            indexes = ((('region', 'status'), False),)

    class RuleSearch(Base):
        rule = ForeignKeyField(Rule, backref="+", index=False, on_delete="CASCADE")
        part = SmallIntegerField()
        title_terms = TextField()
        body_terms = TextField()

        class Meta:
            table_name = "risk_rule_search"
            indexes = ((('rule', 'part'), True),)

    class PointRule(Base):
        point = ForeignKeyField(Point, backref="+", on_delete="CASCADE")
        rule = ForeignKeyField(Rule, backref="+", on_delete="RESTRICT")

        class Meta:
            table_name = "risk_point_rule"
            indexes = ((('point', 'rule'), True),)

    class MeasureRule(Base):
        measure = ForeignKeyField(Measure, backref="+", on_delete="CASCADE")
        rule = ForeignKeyField(Rule, backref="+", on_delete="RESTRICT")

        class Meta:
            table_name = "risk_measure_rule"
            indexes = ((('measure', 'rule'), True),)

    class RuleDate(Base):
        rule = ForeignKeyField(Rule, backref="+", on_delete="CASCADE")
        month = SmallIntegerField()
        day = SmallIntegerField()
        lead_days = SmallIntegerField(default=3)
        text = CharField(max_length=120)
        active = BooleanField(default=True)

        class Meta:
            table_name = "risk_rule_date"

    class RiskWarning(Base):
        region = ForeignKeyField(Region, backref="+", index=False, on_delete="RESTRICT")
        department = ForeignKeyField(Department, backref="+", null=True, on_delete="SET NULL")
        post = ForeignKeyField(Post, backref="+", null=True, on_delete="SET NULL")
        person = ForeignKeyField(Person, backref="+", null=True, on_delete="SET NULL")
        point = ForeignKeyField(Point, backref="+", null=True, on_delete="SET NULL")
        target = CharField(max_length=16)
        level = CharField(max_length=16)
        source = CharField(max_length=32)
        source_ref = CharField(max_length=120, default='')
        subject = CharField(max_length=200)
        detail = TextField(default='')
        dedupe_key = CharField(max_length=160, null=True, unique=True)
        state = CharField(max_length=16, default='open')
        signals = IntegerField(default=1)
        escalations = SmallIntegerField(default=0)
        escalated_at = DateTimeField(null=True)
        raised_by = CharField(max_length=64, default='')
        raised_at = DateTimeField(default=datetime.datetime.utcnow)
        alert_id = IntegerField(null=True)
        alerted_at = DateTimeField(null=True)
        handled_by = CharField(max_length=64, default='')
        handled_at = DateTimeField(null=True)
        handling_note = TextField(default='')

        class Meta:
            table_name = "risk_warning"
            indexes = ((('region', 'raised_at'), False), (('post', 'state'), False), (('alerted_at',), False))

    class Signal(Base):
        source = CharField(max_length=32)
        ref = CharField(max_length=120, unique=True)
        region = ForeignKeyField(Region, backref="+", on_delete="RESTRICT")
        department = ForeignKeyField(Department, backref="+", null=True, on_delete="SET NULL")
        post = ForeignKeyField(Post, backref="+", null=True, on_delete="SET NULL")
        person = ForeignKeyField(Person, backref="+", null=True, on_delete="SET NULL")
        code = CharField(max_length=40, default='')
        description = CharField(max_length=300, default='')
        occurred_at = DateTimeField()
        received_at = DateTimeField(default=datetime.datetime.utcnow)
        closed_at = DateTimeField(null=True)
        outcome = CharField(max_length=16, default='')
        warning = ForeignKeyField(RiskWarning, backref="+", null=True, on_delete="SET NULL")

        class Meta:
            table_name = "risk_signal"
            indexes = ((('post', 'occurred_at'), False),)

    class Site(Base):
        region = ForeignKeyField(Region, backref="+", on_delete="RESTRICT")
        department = ForeignKeyField(Department, backref="+", null=True, on_delete="SET NULL")
        code = CharField(max_length=32)
        name = CharField(max_length=100)
        address = CharField(max_length=200, default='')
        latitude = DoubleField()
        longitude = DoubleField()
        radius_m = IntegerField(default=300)
        active = BooleanField(default=True)
        created_by = CharField(max_length=64, default='')
        created_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            table_name = "risk_site"
            indexes = ((('region', 'code'), True),)

    class SitePost(Base):
        site = ForeignKeyField(Site, backref="+", on_delete="CASCADE")
        post = ForeignKeyField(Post, backref="+", on_delete="CASCADE")

        class Meta:
            table_name = "risk_site_post"
            indexes = ((('site', 'post'), True),)

    class Reminder(Base):
        kind = CharField(max_length=16)
        region = ForeignKeyField(Region, backref="+", index=False, on_delete="RESTRICT")
        person = ForeignKeyField(Person, backref="+", null=True, on_delete="SET NULL")
        user_id = IntegerField(null=True)
        post = ForeignKeyField(Post, backref="+", null=True, on_delete="SET NULL")
        site = ForeignKeyField(Site, backref="+", null=True, on_delete="SET NULL")
        text = CharField(max_length=200)
        reason = CharField(max_length=200, default='')
        dedupe_key = CharField(max_length=160, unique=True)
        alert_id = IntegerField(null=True)
        day = DateField()
        created_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            table_name = "risk_reminder"
            indexes = ((('region', 'created_at'), False), (('person', 'created_at'), False))

    class CheckIn(Base):
        person = ForeignKeyField(Person, backref="+", on_delete="CASCADE")
        site = ForeignKeyField(Site, backref="+", null=True, on_delete="SET NULL")
        region = ForeignKeyField(Region, backref="+", index=False, on_delete="RESTRICT")
        latitude = DoubleField()
        longitude = DoubleField()
        accuracy_m = IntegerField(null=True)
        distance_m = IntegerField(null=True)
        inside = BooleanField(default=False)
        source = CharField(max_length=64)
        external_id = CharField(max_length=100, null=True)
        at = DateTimeField()
        day = DateField()
        reminder = ForeignKeyField(Reminder, backref="+", null=True, on_delete="SET NULL")
        created_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            table_name = "risk_checkin"
            indexes = ((('source', 'external_id'), True), (('person', 'day'), False), (('region', 'created_at'), False))

    class Talk(Base):
        region = ForeignKeyField(Region, backref="+", on_delete="RESTRICT")
        department = ForeignKeyField(Department, backref="+", null=True, on_delete="SET NULL")
        person = ForeignKeyField(Person, backref="+", on_delete="RESTRICT")
        post = ForeignKeyField(Post, backref="+", null=True, on_delete="SET NULL")
        warning = ForeignKeyField(RiskWarning, backref="+", null=True, on_delete="SET NULL")
        kind = CharField(max_length=16)
        held_on = DateField()
        talker = CharField(max_length=64)
        content = TextField()
        submission_days = SmallIntegerField()
        submission_due = DateField()
        submitted_at = DateTimeField(null=True)
        overdue_at = DateTimeField(null=True)
        recorded_by = CharField(max_length=64)
        created_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            table_name = "risk_talk"
            indexes = ((('region', 'held_on'), False), (('submitted_at', 'submission_due'), False))

    class TalkSubmission(Base):
        talk = ForeignKeyField(Talk, backref="+", unique=True, on_delete="CASCADE")
        self_analysis = TextField()
        pledge = TextField()
        corrections = TextField()
        via = CharField(max_length=16)
        submitted_by = CharField(max_length=64)
        submitted_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            table_name = "risk_talk_submission"

    class NoticeTemplate(Base):
        kind = CharField(max_length=16, unique=True)
        title = CharField(max_length=100)
        body = TextField()
        prefix = CharField(max_length=16)
        updated_by = CharField(max_length=64, default='')
        updated_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            table_name = "risk_notice_template"

    class Notice(Base):
        region = ForeignKeyField(Region, backref="+", on_delete="RESTRICT")
        department = ForeignKeyField(Department, backref="+", on_delete="RESTRICT")
        post = ForeignKeyField(Post, backref="+", null=True, on_delete="SET NULL")
        person = ForeignKeyField(Person, backref="+", null=True, on_delete="SET NULL")
        warning = ForeignKeyField(RiskWarning, backref="+", null=True, on_delete="SET NULL")
        kind = CharField(max_length=16)
        year = SmallIntegerField()
        number = IntegerField()
        doc_number = CharField(max_length=64)
        title = CharField(max_length=100)
        body = TextField()
        issued_on = DateField()
        issued_by = CharField(max_length=64)
        rectification_days = SmallIntegerField()
        rectification_due = DateField()
        state = CharField(max_length=16, default='issued')
        attempts = SmallIntegerField(default=1)
        report = TextField(default='')
        reported_at = DateTimeField(null=True)
        assessed_by = CharField(max_length=64, default='')
        assessed_at = DateTimeField(null=True)
        assessment_note = TextField(default='')
        overdue_at = DateTimeField(null=True)

        class Meta:
            table_name = "risk_notice"
            indexes = ((('region', 'kind', 'year', 'number'), True), (('state', 'rectification_due'), False))

    class Accountability(Base):
        region = ForeignKeyField(Region, backref="+", on_delete="RESTRICT")
        department = ForeignKeyField(Department, backref="+", null=True, on_delete="SET NULL")
        person = ForeignKeyField(Person, backref="+", null=True, on_delete="SET NULL")
        person_name = CharField(max_length=64)
        post = ForeignKeyField(Post, backref="+", null=True, on_delete="SET NULL")
        kind = CharField(max_length=16)
        measure = CharField(max_length=100)
        basis = TextField()
        decided_on = DateField()
        decided_by = CharField(max_length=100, default='')
        warning = ForeignKeyField(RiskWarning, backref="+", null=True, on_delete="SET NULL")
        source = CharField(max_length=32, default='manual')
        source_ref = CharField(max_length=120, null=True, unique=True)
        recorded_by = CharField(max_length=64)
        recorded_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            table_name = "risk_accountability"
            indexes = ((('region', 'decided_on'), False),)

    class Material(Base):
        region = ForeignKeyField(Region, backref="+", on_delete="RESTRICT")
        title = CharField(max_length=200)
        kind = CharField(max_length=16)
        body = TextField(default='')
        due_days = SmallIntegerField(default=10)
        pass_mark = SmallIntegerField(default=80)
        created_by = CharField(max_length=64, default='')
        created_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            table_name = "risk_material"

    class MaterialTarget(Base):
        material = ForeignKeyField(Material, backref="+", on_delete="CASCADE")
        post = ForeignKeyField(Post, backref="+", null=True, on_delete="CASCADE")
        risk_type = CharField(max_length=16, default='')
        max_level = SmallIntegerField(null=True)

        class Meta:
            table_name = "risk_material_target"

    class Question(Base):
        material = ForeignKeyField(Material, backref="+", on_delete="CASCADE")
        text = CharField(max_length=300)
        options = TextField()
        answer = SmallIntegerField()
        sort = IntegerField(default=0)

        class Meta:
            table_name = "risk_question"

    class EducationTask(Base):
        material = ForeignKeyField(Material, backref="+", on_delete="CASCADE")
        person = ForeignKeyField(Person, backref="+", on_delete="CASCADE")
        region = ForeignKeyField(Region, backref="+", index=False, on_delete="RESTRICT")
        department = ForeignKeyField(Department, backref="+", null=True, on_delete="SET NULL")
        post = ForeignKeyField(Post, backref="+", null=True, on_delete="SET NULL")
        assigned_on = DateField()
        due = DateField()
        opened_at = DateTimeField(null=True)
        acknowledged_at = DateTimeField(null=True)
        seconds = IntegerField(default=0)
        quiz_score = SmallIntegerField(null=True)
        completed_at = DateTimeField(null=True)
        overdue_at = DateTimeField(null=True)

        class Meta:
            table_name = "risk_education_task"
            indexes = ((('material', 'person'), True), (('person', 'completed_at'), False), (('region', 'assigned_on'), False))

    class EvaluationRun(Base):
        region = ForeignKeyField(Region, backref="+", on_delete="RESTRICT")
        period = CharField(max_length=7)
        version = IntegerField()
        weights = TextField()
        created_by = CharField(max_length=64)
        created_at = DateTimeField(default=datetime.datetime.utcnow)
        seconds = FloatField(default=0)

        class Meta:
            table_name = "risk_evaluation_run"
            indexes = ((('region', 'period', 'version'), True),)

    class EvaluationScore(Base):
        run = ForeignKeyField(EvaluationRun, backref="+", on_delete="CASCADE")
        level = CharField(max_length=16)
        region = ForeignKeyField(Region, backref="+", index=False, on_delete="RESTRICT")
        department = ForeignKeyField(Department, backref="+", null=True, index=False, on_delete="RESTRICT")
        label = CharField(max_length=100)
        posts = IntegerField()
        posts_covered = IntegerField()
        measures_due = IntegerField()
        measures_on_time = IntegerField()
        reviews_due = IntegerField()
        reviews_on_time = IntegerField()
        warnings_raised = IntegerField()
        warnings_handled = IntegerField()
        warnings_escalated = IntegerField()
        reminders = IntegerField()
        talks = IntegerField()
        accountability = IntegerField()
        education_due = IntegerField()
        education_done = IntegerField()
        score = FloatField()
        rank = IntegerField()

        class Meta:
            table_name = "risk_evaluation_score"
            indexes = ((('run', 'level', 'rank'), False),)

    Register.add_index(Register.department, unique=True, name="risk_register_one_working",
                       where=Register.state.in_(WORKING_STATES))
    Register.add_index(Register.department, unique=True, name="risk_register_one_in_force",
                       where=Register.state == "approved")
    tables = [Setting, Matrix, Register, Point, Measure, Review, Rule, RuleSearch, PointRule,
              MeasureRule, RuleDate, RiskWarning, Signal, Site, SitePost, Reminder, CheckIn,
              Talk, TalkSubmission, NoticeTemplate, Notice, Accountability, Material,
              MaterialTarget, Question, EducationTask, EvaluationRun, EvaluationScore]
    db.create_tables(tables)
    for statement in POSTGRES_SEARCH if isinstance(db, PostgresqlDatabase) else SQLITE_SEARCH:
        db.execute_sql(statement)
    Matrix.insert(version=1, definition=json.dumps(FIRST_MATRIX, ensure_ascii=False,
                                                  sort_keys=True), note="built-in",
                  created_by="migration").execute()
