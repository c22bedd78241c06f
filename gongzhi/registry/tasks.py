"""Huey tasks for the registry and field work: thin wrappers around the services (imports and exports run as
`core.Job`s; the jobs' sweep is `core.tasks.sweep_jobs`).

Imports run one at a time, whichever worker takes them: two files naming the same people must not race to
register them (the second would fail on the first's rows), and on SQLite one bulk writer at a time leaves the
others' short writes their turn. A job waiting for the lock stays queued (its page says so) and is tried again
every few seconds."""

from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task

from gongzhi.registry.excel import services
from gongzhi.registry.services import patrols

IMPORT_LOCK = "registry-import"


@db_task(retries=360, retry_delay=5)
def run_import(job_id: int) -> None:
    """Check an uploaded workbook and write it (or stop with its error list); also the 只导入无误的行 run."""
    with HUEY.lock_task(IMPORT_LOCK):  # raises TaskLockedException while another import runs: retried
        services.run_import(job_id)


@db_task()
def run_export(job_id: int) -> None:
    """Write an area's records as a workbook."""
    services.run_export(job_id)


@db_periodic_task(crontab(minute="*/15"))
def end_stale_patrols() -> int:
    """Every 15 minutes: patrols left open longer than 12 hours end at their last point. Idempotent."""
    return patrols.end_stale_patrols()
