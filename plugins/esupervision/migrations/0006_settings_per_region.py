"""Detector settings and yellow thresholds per region: a NULL region is the city default
(every existing row stays one), a county's row overrides it for the county's cases.

Uniqueness is per (region, setting) for overrides and per setting among the city rows (a
partial unique index, since NULLs are distinct in a unique index)."""
from peewee import ForeignKeyField, Model
from playhouse.migrate import migrate


def up(migrator, db):
    class Region(Model):
        class Meta:
            database = db
            table_name = "region"

    def region_column():
        return ForeignKeyField(Region, field=Region.id, null=True, index=False,
                               on_delete="CASCADE")

    migrate(
        migrator.add_column("detector_setting", "region_id", region_column()),
        migrator.drop_index("detector_setting", "detector_setting_code"),
        migrator.add_index("detector_setting", ("region_id", "code"), True),
        migrator.add_column("threshold", "region_id", region_column()),
        migrator.drop_index("threshold", "threshold_scope_key"),
        migrator.add_index("threshold", ("region_id", "scope", "key"), True),
    )
    db.execute_sql('CREATE UNIQUE INDEX "detector_setting_code" ON "detector_setting" '
                   '("code") WHERE "region_id" IS NULL')
    db.execute_sql('CREATE UNIQUE INDEX "threshold_scope_key" ON "threshold" '
                   '("scope", "key") WHERE "region_id" IS NULL')
