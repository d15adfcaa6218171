"""The applicant's rating of a case (好差评) is called a rating everywhere: the table
``eservice_evaluation`` becomes ``eservice_rating``, its ``rating`` column ``score``, and the
rectification's ``evaluation_id`` becomes ``rating_id`` — "evaluation" is e-supervision's
efficiency evaluation (效能评估) alone. Rows and ids stay as they are.

Indexes take the names the models create today: PostgreSQL renames them with ALTER INDEX,
along with the primary-key, foreign-key and check constraints (peewee renames the id
sequence with the table); SQLite cannot rename an index, so it drops and builds each one
again. SQLite's ALTER TABLE … RENAME rewrites the foreign keys pointing at the renamed
table and the CHECK constraint naming the renamed column (``legacy_alter_table`` off)."""
from peewee import SqliteDatabase
from playhouse.migrate import make_index_name

OLD, NEW = "eservice_evaluation", "eservice_rating"
RECT = "eservice_rectification"


def up(migrator, db):
    sqlite = isinstance(db, SqliteDatabase)
    if sqlite:
        db.execute_sql("PRAGMA legacy_alter_table = OFF")
    migrator.migrate(migrator.rename_table(OLD, NEW),
                     migrator.rename_column(NEW, "rating", "score"),
                     migrator.rename_column(RECT, "evaluation_id", "rating_id"))
    renamed = [(make_index_name(OLD, ["case_id"]), NEW, ["case_id"]),
               (make_index_name(RECT, ["evaluation_id"]), RECT, ["rating_id"])]
    for old_index, table, columns in renamed:
        new_index = make_index_name(table, columns)
        if sqlite:
            migrator.migrate(migrator.drop_index(table, old_index),
                             migrator.add_index(table, columns, True, name=new_index))
        else:
            db.execute_sql(f'ALTER INDEX "{old_index}" RENAME TO "{new_index}"')
    if not sqlite:
        for table, old, new in ((NEW, f"{OLD}_pkey", f"{NEW}_pkey"),
                                (NEW, f"{OLD}_case_id_fkey", f"{NEW}_case_id_fkey"),
                                (NEW, f"{OLD}_rating_check", f"{NEW}_score_check"),
                                (RECT, f"{RECT}_evaluation_id_fkey", f"{RECT}_rating_id_fkey")):
            db.execute_sql(f'ALTER TABLE "{table}" RENAME CONSTRAINT "{old}" TO "{new}"')
