"""Huey tasks for cases: thin wrappers around the services."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from gongzhi.cases import services, sweep


@db_periodic_task(crontab(minute="*/5"))
def sweep_case_limits() -> dict[str, int]:
    """Every 5 minutes: reminders, overdue marks, escalations and 督办 limits. Idempotent (see cases.sweep)."""
    return sweep.run_sweep().as_dict()


# Huey's crontab is in UTC (its default): 19:17 UTC is 03:17 in China, when nobody reports.
@db_periodic_task(crontab(hour="19", minute="17"))
def anonymise_closed_cases() -> int:
    """Nightly: residents' personal data out of cases closed longer than
    CASE_PERSONAL_DATA_RETENTION_DAYS. Idempotent, in batches (see cases.services.anonymise)."""
    return services.anonymise_closed_cases()


@db_periodic_task(crontab(minute="17"))
def expire_pending_uploads() -> int:
    """Hourly: photos uploaded for a report that was never sent go after PENDING_UPLOAD_HOURS, files too."""
    return services.expire_pending_uploads()
