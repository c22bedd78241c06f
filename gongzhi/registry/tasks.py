"""Huey tasks for the registry: thin wrappers around `registry.excel.services` (imports and exports run as
`core.Job`s; the jobs' sweep is `core.tasks.sweep_jobs`)."""

from huey.contrib.djhuey import db_task

from gongzhi.registry.excel import services


@db_task()
def run_import(job_id: int) -> None:
    """Check an uploaded workbook and write it (or stop with its error list); also the 只导入无误的行 run."""
    services.run_import(job_id)


@db_task()
def run_export(job_id: int) -> None:
    """Write an area's records as a workbook."""
    services.run_export(job_id)
