"""Huey tasks for notifications: thin wrappers around services."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from gongzhi.notifications import services


@db_task(retries=services.MAX_ATTEMPTS - 1, retry_delay=60)  # 3 retries, a minute apart
def send_delivery(delivery_id: int) -> str:
    """Send one outgoing message. services.deliver raises while a retry may still help (Huey then retries
    in a minute, up to 3 times) and marks the delivery failed on the last attempt."""
    return services.deliver(delivery_id=delivery_id)


@db_periodic_task(crontab(minute="*/10"))
def requeue_stale_deliveries() -> int:
    """Every 10 minutes: queue again deliveries lost while the worker was down. Idempotent."""
    return services.requeue_stale_deliveries()
