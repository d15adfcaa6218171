"""Every table of the plugin takes the plugin's name as a prefix (``clock`` becomes
``esupervision_clock``), so plugins enabled side by side in one database never collide (a
``cases`` plugin's ``case_event``). Rows, ids and foreign keys stay as they are.

Each index is renamed to what the models create today (``esupervision_clock_…``): on
PostgreSQL with ALTER INDEX, along with the primary-key and foreign-key constraints and the
id sequence (``esupervision_clock_id_seq``); SQLite cannot rename an index, so it drops each
one and builds it again under its new name. SQLite's ALTER TABLE … RENAME rewrites the
foreign keys of the other tables that point at the renamed one (unless
``legacy_alter_table`` is on, so it is switched off first); PostgreSQL's constraints point
at the table itself, not its name. The plugin has no triggers or views."""
from peewee import SQL, SqliteDatabase
from playhouse.migrate import make_index_name

PREFIX = "esupervision_"
CITY_ROW = SQL('"region_id" IS NULL')

# table: (its indexes as migration 0007 left them: (columns, unique, partial condition),
#         its foreign-key columns)
TABLES = {
    "source_token": ([(("source",), True, None)], ()),
    "monitored_case": ([(("region_id",), False, None), (("department_id",), False, None),
                        (("source", "serial"), True, None),
                        (("region_id", "status"), False, None)],
                       ("region_id", "department_id")),
    "case_event": ([(("case_id",), False, None), (("source", "event_id"), True, None),
                    (("case_id", "occurred_at"), False, None)],
                   ("case_id",)),
    "clock": ([(("case_id", "kind", "step_seq"), True, None),
               (("ended_on", "due", "red_at"), False, None),
               (("ended_on", "yellow_on", "yellow_at"), False, None)],
              ("case_id",)),
    "signal": ([(("case_id",), False, None), (("dedupe_key",), True, None),
                (("clock_id",), False, None), (("alerted_at",), False, None),
                (("region_id", "raised_at"), False, None)],
               ("case_id", "region_id", "clock_id")),
    "detector_setting": ([(("region_id", "code"), True, None), (("code",), True, CITY_ROW)],
                         ("region_id",)),
    "threshold": ([(("region_id", "scope", "key"), True, None),
                   (("scope", "key"), True, CITY_ROW)],
                  ("region_id",)),
    "supervision_case": ([(("signal_id",), True, None), (("case_id",), False, None),
                          (("region_id",), False, None), (("department_id",), False, None),
                          (("state", "rectification_due"), False, None),
                          (("region_id", "state"), False, None)],
                         ("signal_id", "case_id", "region_id", "department_id")),
    "accountability": ([(("supervision_id",), False, None), (("region_id",), False, None)],
                       ("supervision_id", "region_id")),
    "inspection_finding": ([(("region_id",), False, None), (("department_id",), False, None),
                            (("department_id", "day"), False, None)],
                           ("region_id", "department_id")),
    "evaluation_config": ([], ()),
    "evaluation_run": ([(("month", "version"), True, None)], ()),
    "evaluation_score": ([(("run_id",), False, None), (("region_id",), False, None),
                          (("department_id",), False, None),
                          (("run_id", "level", "rank"), False, None),
                          (("department_id", "run_id"), False, None)],
                         ("run_id", "region_id", "department_id")),
}


def up(migrator, db):
    sqlite = isinstance(db, SqliteDatabase)
    if sqlite:
        db.execute_sql("PRAGMA legacy_alter_table = OFF")
    for table, (indexes, foreign_keys) in TABLES.items():
        new = PREFIX + table
        migrator.migrate(migrator.rename_table(table, new))  # PostgreSQL: its sequence too
        for columns, unique, where in indexes:
            old_index, new_index = make_index_name(table, columns), make_index_name(new, columns)
            if sqlite:
                migrator.migrate(migrator.drop_index(new, old_index),
                                 migrator.add_index(new, columns, unique, where=where,
                                                    name=new_index))
            else:
                db.execute_sql(f'ALTER INDEX "{old_index}" RENAME TO "{new_index}"')
        if not sqlite:
            for suffix in ("pkey", *(f"{column}_fkey" for column in foreign_keys)):
                db.execute_sql(f'ALTER TABLE "{new}" RENAME CONSTRAINT "{table}_{suffix}" '
                               f'TO "{new}_{suffix}"')
