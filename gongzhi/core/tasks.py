"""Task-worker plumbing shared by all apps: the heartbeat that tells /healthz a worker is alive, and the hourly
sweep of long-running jobs (core.jobs)."""

import logging
import os
import threading

from django.db import DatabaseError, connection
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from gongzhi.core import jobs
from gongzhi.core.models import ServiceHeartbeat

logger = logging.getLogger(__name__)


def record_heartbeat(*, name: str) -> ServiceHeartbeat:
    """Mark the named background process as alive now."""
    beat, _created = ServiceHeartbeat.objects.update_or_create(
        name=name, defaults={"last_seen": timezone.now(), "detail": f"pid {os.getpid()}"}
    )
    return beat


def start_heartbeat(*, name: str, interval: float) -> threading.Event:
    """Beat every `interval` seconds from a daemon thread until the returned event is set.

    A thread rather than a Huey periodic task: periodic tasks run once a minute at best, and a
    busy queue would delay them, making a healthy worker look dead.
    """
    stop = threading.Event()

    def run() -> None:
        while not stop.is_set():
            try:
                record_heartbeat(name=name)
            except DatabaseError:
                # A locked or restarting database must not kill the beat; the next one will tell.
                logger.warning("heartbeat %s could not be written", name, exc_info=True)
            finally:
                # This thread's own connection; closing it lets a restarted database be reached again.
                connection.close()
            stop.wait(interval)

    threading.Thread(target=run, name=f"heartbeat-{name}", daemon=True).start()
    return stop


@db_periodic_task(crontab(minute="7"))
def sweep_jobs() -> dict[str, int]:
    """Hourly: remove the files of jobs older than a week and fail jobs whose worker died (core.jobs.sweep)."""
    result = jobs.sweep()
    return {"files_removed": result.files_removed, "stale_failed": result.stale_failed}
