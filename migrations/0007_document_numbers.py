"""Document numbers per series, region and year (core.numbering)."""
from peewee import CharField, ForeignKeyField, IntegerField, Model


def up(migrator, db):
    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class Region(Base):
        class Meta:
            table_name = "region"

    class DocumentSequence(Base):
        series = CharField(max_length=64)
        region = ForeignKeyField(Region, on_delete="CASCADE")
        year = IntegerField()
        last = IntegerField(default=0)

        class Meta:
            table_name = "document_sequence"
            indexes = ((("series", "region", "year"), True),)

    db.create_tables([DocumentSequence])
