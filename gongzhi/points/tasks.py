"""Thin wrappers: the points economy's periodic sweeps."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from gongzhi.points.services import checks, redemptions


@db_periodic_task(crontab(minute="*/10"))
def expire_redemptions() -> int:
    """Every 10 minutes: holds past their expiry give their points and stock back. Idempotent."""
    return redemptions.expire_due()


@db_periodic_task(crontab(minute="30", hour="2"))
def check_ledger() -> bool:
    """Nightly at 02:30: the full ledger check; a failure notifies the system administrators."""
    report, _check = checks.run_check()
    return report.ok


@db_task()
def run_ledger_check(job_id: int) -> None:
    """A ledger check started from the page (立即核验) on a long ledger."""
    checks.run_check_job(job_id)
