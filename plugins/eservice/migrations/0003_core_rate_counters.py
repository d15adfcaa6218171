"""The public lookup and online filing count on the core's rate counters (``rate_counter``,
core migration 0010): the service hall's own counter table goes. Its rows are minute
windows, long expired by the time a release is deployed."""


def up(migrator, db):
    db.execute_sql("DROP TABLE IF EXISTS eservice_lookup_counter")
