"""Huey tasks for analytics: thin wrappers around the services."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from gongzhi.analytics import services


@db_periodic_task(crontab(minute="*"))
def refresh_grid_states() -> dict[str, int]:
    """Every minute: the map's grid colours and figures (the page shows when they were computed)."""
    result = services.refresh_grid_states()
    return {"grids": result.grids, "changed": result.changed, "took_ms": result.took_ms}
