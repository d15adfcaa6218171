"""Integrity education (廉政教育): a material's assignments (its targets, with the day
they were made, the working days allowed, whether they are still open to people who
take up a post later), its attachments (stored files), and on each task the assignment
it came from and the quiz attempts."""
import datetime

from peewee import (
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    SmallIntegerField,
)
from playhouse.migrate import migrate


def up(migrator, db):
    class Base(Model):
        class Meta:
            database = db

    class StoredFile(Base):
        class Meta:
            table_name = "stored_file"

    class Material(Base):
        class Meta:
            table_name = "risk_material"

    class MaterialTarget(Base):
        class Meta:
            table_name = "risk_material_target"

    class MaterialFile(Base):
        material = ForeignKeyField(Material, backref="+", on_delete="CASCADE")
        file = ForeignKeyField(StoredFile, backref="+", on_delete="RESTRICT")
        sort = IntegerField(default=0)

        class Meta:
            table_name = "risk_material_file"

    db.create_tables([MaterialFile])
    migrate(
        migrator.add_column("risk_material_target", "assigned_on", DateField(null=True)),
        migrator.add_column("risk_material_target", "due_days",
                            SmallIntegerField(default=10)),
        migrator.add_column("risk_material_target", "open", BooleanField(default=True)),
        migrator.add_column("risk_material_target", "assigned_by",
                            CharField(max_length=64, default="")),
        migrator.add_column("risk_material_target", "assigned_at",
                            DateTimeField(default=datetime.datetime.utcnow)),
        migrator.add_column("risk_education_task", "target_id", ForeignKeyField(
            MaterialTarget, field=MaterialTarget.id, null=True, on_delete="SET NULL")),
        migrator.add_column("risk_education_task", "quiz_attempts",
                            SmallIntegerField(default=0)),
    )
