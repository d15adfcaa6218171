"""Drop two indexes that composite indexes already cover (``clock.case_id`` by the unique
(case_id, kind, step_seq), ``signal.region_id`` by (region_id, raised_at)): every clock
and signal written, above all the first sweep over a backlog, maintained them for nothing."""
from playhouse.migrate import migrate


def up(migrator, db):
    migrate(migrator.drop_index("clock", "clock_case_id"),
            migrator.drop_index("signal", "signal_region_id"))
