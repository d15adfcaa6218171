"""Jobs of risk prevention: the warning rules, reminders before holidays and on duty
start, and overdue self-analyses. Each job is idempotent: the rows it writes carry the
keys that make a second run find nothing new."""
from __future__ import annotations

from huey import crontab

from core.api import _l, periodic

WARNINGS_JOB = "risk.warnings"
REMINDERS_JOB = "risk.reminders"
EVALUATION_JOB = "risk.evaluation"


def register_periodic(huey):
    @periodic(crontab(minute="7"), name=WARNINGS_JOB,
              label=_l("Risk prevention: warnings of overdue measures, reviews and "
                       "rectifications"))
    def warnings_job():
        from plugins.risk import warnings
        return warnings.sweep()

    @periodic(crontab(hour="7", minute="30"), name=REMINDERS_JOB,
              label=_l("Risk prevention: reminders before holidays and on duty start, "
                       "study tasks of posts taken up, overdue self-analyses and study"))
    def reminders_job():
        from plugins.risk import education, reminders, talks
        return {"holiday": reminders.holiday_reminders(),
                "duty_start": reminders.duty_start_reminders(),
                "education_duty_start": education.duty_start_assignments(),
                "talks_overdue": talks.overdue_talks(),
                "education_overdue": education.overdue_tasks()}

    @periodic(crontab(hour="6", minute="15"), name=EVALUATION_JOB,
              label=_l("Risk prevention: effect evaluation of last month and quarter"))
    def evaluation_job():
        from core.api import today
        from plugins.risk import evaluation
        return [run.id for run in evaluation.scheduled(today())]
    return warnings_job
