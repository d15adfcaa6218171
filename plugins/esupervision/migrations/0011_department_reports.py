"""The supervised department's rectification reports (整改回告) carry files, and the
supervisor's review of a supervision case's report (accepted, or returned with a reason)
is kept; an accountability record names the person of the organisation held accountable
(older records keep only the name typed by hand)."""
import datetime

from peewee import CharField, DateTimeField, ForeignKeyField, Model, TextField
from playhouse.migrate import migrate


def up(migrator, db):
    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class Person(Base):
        class Meta:
            table_name = "person"

    class StoredFile(Base):
        class Meta:
            table_name = "stored_file"

    class SupervisionCase(Base):
        class Meta:
            table_name = "esupervision_supervision_case"

    class SuggestionLetter(Base):
        class Meta:
            table_name = "esupervision_suggestion_letter"

    class ReportFile(Base):
        supervision = ForeignKeyField(SupervisionCase, null=True, on_delete="RESTRICT")
        letter = ForeignKeyField(SuggestionLetter, null=True, on_delete="RESTRICT")
        file = ForeignKeyField(StoredFile, on_delete="RESTRICT")
        added_by = CharField(max_length=64)
        created_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            table_name = "esupervision_report_file"

    db.create_tables([ReportFile])
    migrate(migrator.add_column("esupervision_supervision_case", "review_note",
                                TextField(default="")),
            migrator.add_column("esupervision_supervision_case", "reviewed_by",
                                CharField(max_length=64, default="")),
            migrator.add_column("esupervision_supervision_case", "reviewed_at",
                                DateTimeField(null=True)),
            migrator.add_column("esupervision_accountability", "person_id",
                                ForeignKeyField(Person, null=True, on_delete="SET NULL",
                                                field=Person.id)))
