"""Huey tasks for analytics: thin wrappers around the services."""

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from gongzhi.analytics import rollups, services

logger = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="*"))
def refresh_grid_states() -> dict[str, int]:
    """Every minute: the map's grid colours and figures (the page shows when they were computed)."""
    result = services.refresh_grid_states()
    return {"grids": result.grids, "changed": result.changed, "took_ms": result.took_ms}


@db_periodic_task(crontab(minute="*/10"))
@lock_task("analytics-refresh-warnings")
def refresh_warnings() -> dict[str, int]:
    """Every 10 minutes: raise, update and clear the risk warnings (风险预警); the page shows when each was
    raised, so it lags its rule by up to 10 minutes."""
    result = services.refresh_warnings()
    return {"raised": result.raised, "updated": result.updated, "cleared": result.cleared, "open": result.open}


@db_periodic_task(crontab(minute="*"))
@lock_task("analytics-fold-case-log")
def fold_case_log() -> dict[str, int]:
    """Every minute: the KPI counts take the case log rows and ratings written since the last run (see
    analytics.rollups; the counts lag by ROLLUP_SETTLE_SECONDS plus up to a minute). One run at a time, for
    at most 20 s: catching up from a large backlog goes on in the next runs and leaves the worker's other
    thread to the messages."""
    progress = rollups.catch_up(budget_seconds=20.0)
    return {"logs": progress.logs, "ratings": progress.ratings}


# Huey's crontab is in UTC: 19:47 UTC is 03:47 in China.
@db_periodic_task(crontab(hour="19", minute="47"))
def check_rollups() -> bool:
    """Nightly: should a log row have been committed behind the cursor after all, fold everything again."""
    if rollups.check():
        return True
    logger.warning("KPI rollups missed a case log row; rebuilding them")
    rollups.rebuild()
    return False


@db_periodic_task(crontab(minute="*/5"))
@lock_task("analytics-sweep-tasks")
def sweep_task_deadlines() -> dict[str, int]:
    """Every 5 minutes, beside the case sweep (`cases.tasks.sweep_case_limits`): the task lists' reminders —
    即将到期 and 已超期, once per task × deadline (see `services.sweep_tasks`; a doubled run writes nothing). The
    flags themselves are computed from the date on every page, so they never lag."""
    result = services.sweep_tasks()
    return {"due_soon": result.due_soon, "overdue": result.overdue}
