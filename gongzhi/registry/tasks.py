"""Huey tasks for the registry and field work: thin wrappers around the services."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from gongzhi.registry.services import patrols

# Patrols (巡查) ---------------------------------------------------------------------------------------------

@db_periodic_task(crontab(minute="*/15"))
def end_stale_patrols() -> int:
    """Every 15 minutes: patrols left open longer than 12 hours end at their last point. Idempotent."""
    return patrols.end_stale_patrols()
