"""A case's material may carry the file the applicant uploaded online (core file store)."""
from peewee import ForeignKeyField, Model


def up(migrator, db):
    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class StoredFile(Base):
        class Meta:
            table_name = "stored_file"

    migrator.migrate(migrator.add_column(
        "eservice_case_material", "file_id",
        ForeignKeyField(StoredFile, field=StoredFile.id, null=True, on_delete="SET NULL")))
