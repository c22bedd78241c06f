"""Huey tasks for publications: thin wrappers around services (urgent alerts' text messages)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from gongzhi.publications.services import alerts


@db_task(retries=2, retry_delay=30)
def queue_alert_sms(publication_id: int) -> int:
    """Queue one text per resident of an alert's area, in batches (each batch queues its own sending task).
    Resumes after what an earlier run queued; returns how many texts the alert has queued."""
    delivery = alerts.queue_sms(publication_id=publication_id)
    return delivery.queued if delivery else 0


@db_task(retries=alerts.MAX_ATTEMPTS - 1, retry_delay=60)
def send_alert_sms(publication_id: int, first_id: int, last_id: int) -> dict[str, int]:
    """Send one batch of an alert's texts; retried a minute later (3 times) for texts whose provider failed."""
    return alerts.send_batch(publication_id=publication_id, first_id=first_id, last_id=last_id)


@db_periodic_task(crontab(minute="*/5"))
def resume_stale_alerts() -> dict[str, int]:
    """Every 5 minutes: carry on with alerts whose worker was lost. Idempotent."""
    return alerts.resume_stale()
