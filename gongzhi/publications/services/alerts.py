"""Urgent alerts' text messages: queued in batches by a background task, sent by the worker, counted.

When an alert is published (`publications.alerts`, a hook inside the core's transaction) it has an
`AlertDelivery` row and, once the publication commits, the task `queue_alert_sms` is on the queue. Residents
see the alert in their inbox and on their pages at once: those read live area items by query, nothing here.

`queue_sms` (the task's body) walks the area's residents who have a phone, by user id, BATCH at a time: each
batch, in one transaction, writes one `AlertSms` per resident (unique per alert and recipient, so a second run
or a race writes nothing twice), moves the delivery's cursor past it and, on commit, queues one
`send_alert_sms` task for the batch's rows. A task that dies half-way is resumed from the cursor
(`resume_stale`, every few minutes).

`send_batch` is like `notifications.services.deliver`, for many rows at once: it claims the batch's queued
rows with one conditional UPDATE (committed on its own, so two workers cannot both send a row), sends each
through the notification interface's SMS channel (`notifications.channels`, the configured SMS backend),
then records the outcomes and adds them to the delivery's counts. Not atomic, and never inside an outer
transaction: a provider is called. An alert withdrawn (or ended) before its texts went out cancels those
still waiting.
"""

from __future__ import annotations

import datetime
import functools
import logging
import uuid
from collections import defaultdict

from django.db import transaction
from django.db.models import Count, F, Max, Min, Q
from django.utils import timezone

from gongzhi.accounts.models import Membership, Role, User
from gongzhi.notifications.channels import DeliveryError, get_channel
from gongzhi.notifications.models import Notification
from gongzhi.org.models import OrgUnit
from gongzhi.publications.models import AlertDelivery, AlertSms, Publication, Status

logger = logging.getLogger(__name__)

KIND = "alert"
# Residents queued per transaction (and texts per sending task).
BATCH = 1000
# The first try and the retries of one sending task; a text still failing then is marked failed.
MAX_ATTEMPTS = 4
# A worker's hold on the rows it is sending.
CLAIM_FOR = datetime.timedelta(minutes=10)
# A queueing task silent this long, or texts queued this long, were lost (the worker was down).
STALE_AFTER = datetime.timedelta(minutes=15)
NOTICE_KIND = "publication.alert"


class RetryLater(Exception):
    """Some texts of a batch failed in a way a retry may cure; the task is retried."""


def _enqueue_queueing(publication_id: int, *, eta: datetime.datetime | None = None) -> None:
    from gongzhi.publications.tasks import queue_alert_sms  # tasks.py imports this module

    if eta is not None and eta > timezone.now():
        transaction.on_commit(functools.partial(queue_alert_sms.schedule, args=(publication_id,), eta=eta),
                              robust=True)
    else:
        transaction.on_commit(functools.partial(queue_alert_sms, publication_id), robust=True)


def _enqueue_sending(publication_id: int, first_id: int, last_id: int) -> None:
    from gongzhi.publications.tasks import send_alert_sms

    transaction.on_commit(functools.partial(send_alert_sms, publication_id, first_id, last_id), robust=True)


def _still_on(publication: Publication, now: datetime.datetime) -> bool:
    """Published and not ended: its texts may go (one whose period has not begun is queued for then)."""
    return publication.status == Status.PUBLISHED and (publication.publish_until is None
                                                       or publication.publish_until > now)


# Called by the kind's hooks, inside the core's transaction ---------------------------------------------------

def start(publication: Publication) -> AlertDelivery:
    """The alert was published: its delivery row, and its texts queued by the worker once this commits (at
    the start of its period, when that lies ahead)."""
    delivery, created = AlertDelivery.objects.get_or_create(publication=publication)
    if created or delivery.state == AlertDelivery.State.QUEUING:
        _enqueue_queueing(publication.pk, eta=publication.publish_from)
    return delivery


def cancel(publication: Publication) -> int:
    """The alert was withdrawn: texts not yet sent (nor being sent) stay unsent; returns how many."""
    now = timezone.now()
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lte=now)
    n = AlertSms.objects.filter(free, publication=publication, status=AlertSms.Status.QUEUED).update(
        status=AlertSms.Status.CANCELLED, last_error="withdrawn", claim="", claimed_until=None)
    AlertDelivery.objects.filter(publication=publication).update(cancelled=F("cancelled") + n, updated_at=now)
    _finish_if_settled(publication.pk)
    return n


# The area's residents -----------------------------------------------------------------------------------------

def _resident_posts(publication: Publication):  # type: ignore[no-untyped-def]
    """Active resident posts (verified residents) in the alert's audience subtree, of active accounts."""
    units = list(OrgUnit.objects.filter(path__startswith=publication.audience_path, is_active=True)
                 .values_list("pk", flat=True))
    return Membership.objects.filter(unit_id__in=units, role=Role.RESIDENT, is_active=True,
                                     user__is_active=True, user__kind=User.Kind.RESIDENT)


def recipient_count(publication: Publication) -> int:
    """How many residents the alert reaches (in their inbox; by SMS those with a phone)."""
    return int(_resident_posts(publication).values("user_id").distinct().count())


# The queueing task ---------------------------------------------------------------------------------------------

def queue_sms(*, publication_id: int, batch: int = BATCH) -> AlertDelivery | None:
    """Queue one text per resident of the alert's area with a phone, `batch` residents per transaction,
    resuming after the delivery's cursor. Running it again (a retry, a doubled enqueue) queues nobody twice.
    Returns the delivery (None for an unknown or non-alert publication)."""
    publication = Publication.objects.filter(pk=publication_id, kind=KIND).first()
    if publication is None:
        return None
    delivery, _created = AlertDelivery.objects.get_or_create(publication=publication)
    if delivery.state != AlertDelivery.State.QUEUING:
        return delivery
    now = timezone.now()
    if not _still_on(publication, now):
        AlertDelivery.objects.filter(pk=delivery.pk).update(state=AlertDelivery.State.DONE, queued_at=now,
                                                            finished_at=now, updated_at=now)
        delivery.refresh_from_db()
        return delivery
    posts = _resident_posts(publication)
    if delivery.cursor == 0:
        AlertDelivery.objects.filter(pk=delivery.pk).update(recipients=recipient_count(publication),
                                                            updated_at=now)
    # The recipients' ids, read once (a few bytes each: a county's half a million fit easily), then queued
    # BATCH at a time, each batch with the cursor in one transaction.
    pending = list(posts.filter(user__phone_hash__isnull=False, user_id__gt=delivery.cursor).order_by("user_id")
                   .values_list("user_id", flat=True).distinct())
    chunks = [pending[start:start + batch] for start in range(0, len(pending), batch)]
    for chunk in [*chunks, []]:  # the empty one at the end: all are queued
        with transaction.atomic():
            delivery = AlertDelivery.objects.select_for_update().get(pk=delivery.pk)
            if delivery.state != AlertDelivery.State.QUEUING:
                break
            now = timezone.now()
            if not chunk:
                delivery.state = AlertDelivery.State.SENDING
                delivery.queued_at = delivery.updated_at = now
                delivery.save(update_fields=["state", "queued_at", "updated_at"])
                break
            ids = [pk for pk in chunk if pk > delivery.cursor]  # a concurrent run may have queued these
            if not ids:
                continue
            rows = AlertSms.objects.filter(publication=publication, recipient_id__in=ids)
            before = rows.count()  # none, unless an earlier run was cut off (texts are never queued twice)
            AlertSms.objects.bulk_create([AlertSms(publication=publication, recipient_id=pk, queued_at=now)
                                          for pk in ids], ignore_conflicts=True)
            span = rows.aggregate(first=Min("id"), last=Max("id"), n=Count("id"))
            delivery.cursor = ids[-1]
            delivery.queued += span["n"] - before
            delivery.updated_at = now
            delivery.save(update_fields=["cursor", "queued", "updated_at"])
            _enqueue_sending(publication.pk, span["first"], span["last"])
    _finish_if_settled(publication.pk)
    delivery.refresh_from_db()
    return delivery


# The sending task ----------------------------------------------------------------------------------------------

def _text_for(publication: Publication, recipient: User) -> Notification:
    """An unsaved notification carrying the alert's text, for the SMS channel (which takes a notification)."""
    return Notification(recipient=recipient, kind=NOTICE_KIND, title=publication.title, body=publication.body,
                        target_type="publication", target_id=publication.pk)


def send_batch(*, publication_id: int, first_id: int, last_id: int) -> dict[str, int]:
    """Send the alert's queued texts with ids first_id..last_id that no other worker holds. Returns the counts
    of this run; raises RetryLater (after recording everything) when some failed in a way a retry may cure."""
    now = timezone.now()
    publication = Publication.objects.filter(pk=publication_id).first()
    rows = AlertSms.objects.filter(publication_id=publication_id, id__gte=first_id, id__lte=last_id,
                                   status=AlertSms.Status.QUEUED)
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lte=now)
    outcome = {"sent": 0, "failed": 0, "cancelled": 0, "retry": 0}
    if publication is None:
        return outcome
    if not _still_on(publication, now):
        outcome["cancelled"] = rows.filter(free).update(status=AlertSms.Status.CANCELLED, last_error="withdrawn",
                                                        claim="", claimed_until=None)
        _count(publication_id, outcome)
        return outcome
    token = uuid.uuid4().hex
    if not rows.filter(free).update(claim=token, claimed_until=now + CLAIM_FOR, attempts=F("attempts") + 1):
        return outcome
    claimed = list(AlertSms.objects.filter(publication_id=publication_id, id__gte=first_id, id__lte=last_id,
                                           claim=token, status=AlertSms.Status.QUEUED)
                   .select_related("recipient").order_by("id"))
    channel = get_channel("sms")
    sent: list[int] = []
    failed: dict[str, list[int]] = defaultdict(list)
    retry: list[int] = []
    for row in claimed:
        try:
            if channel is None:
                raise DeliveryError("channel_not_configured", retryable=False)
            if not row.recipient.is_active:
                raise DeliveryError("recipient_inactive", retryable=False)
            channel.deliver(_text_for(publication, row.recipient))
        except DeliveryError as exc:
            if exc.retryable and row.attempts < MAX_ATTEMPTS:
                retry.append(row.pk)
            else:
                failed[exc.code].append(row.pk)
        except Exception as exc:  # a backend bug must not leave the rows claimed; no provider text kept
            logger.error("alert %s sms %s: unexpected %s", publication_id, row.pk, type(exc).__name__)
            failed[f"error:{type(exc).__name__}"[:100]].append(row.pk)
        else:
            sent.append(row.pk)
    mine = AlertSms.objects.filter(claim=token, status=AlertSms.Status.QUEUED)
    done = timezone.now()
    for start in range(0, len(sent), 500):
        outcome["sent"] += mine.filter(pk__in=sent[start:start + 500]).update(
            status=AlertSms.Status.SENT, sent_at=done, claimed_until=None, last_error="")
    for code, ids in failed.items():
        for start in range(0, len(ids), 500):
            outcome["failed"] += mine.filter(pk__in=ids[start:start + 500]).update(
                status=AlertSms.Status.FAILED, claimed_until=None, last_error=code)
    for start in range(0, len(retry), 500):
        outcome["retry"] += mine.filter(pk__in=retry[start:start + 500]).update(
            claim="", claimed_until=None, last_error="sms_send_failed", queued_at=done)
    _count(publication_id, outcome)
    if outcome["retry"]:
        logger.warning("alert %s: %d texts failed, retrying", publication_id, outcome["retry"])
        raise RetryLater(f"{outcome['retry']} texts to retry")
    return outcome


def _count(publication_id: int, outcome: dict[str, int]) -> None:
    if outcome["sent"] or outcome["failed"] or outcome["cancelled"]:
        AlertDelivery.objects.filter(publication_id=publication_id).update(
            sent=F("sent") + outcome["sent"], failed=F("failed") + outcome["failed"],
            cancelled=F("cancelled") + outcome["cancelled"], updated_at=timezone.now())
    _finish_if_settled(publication_id)


def _finish_if_settled(publication_id: int) -> None:
    """Sending → done once no text of the alert waits any more."""
    if AlertSms.objects.filter(publication_id=publication_id, status=AlertSms.Status.QUEUED).exists():
        return
    now = timezone.now()
    AlertDelivery.objects.filter(publication_id=publication_id, state=AlertDelivery.State.SENDING).update(
        state=AlertDelivery.State.DONE, finished_at=now, updated_at=now)


# The sweep -----------------------------------------------------------------------------------------------------

def resume_stale(*, limit: int = 100_000) -> dict[str, int]:
    """Queue again what a lost worker left: alerts whose queueing stopped half-way (silent for STALE_AFTER), and
    texts queued long ago and held by nobody. Idempotent: every step it queues skips what is done."""
    now = timezone.now()
    resumed = 0
    stale = AlertDelivery.objects.filter(state=AlertDelivery.State.QUEUING, updated_at__lte=now - STALE_AFTER)
    for delivery in stale.select_related("publication")[:100]:
        AlertDelivery.objects.filter(pk=delivery.pk).update(updated_at=now)
        with transaction.atomic():
            _enqueue_queueing(delivery.publication_id, eta=delivery.publication.publish_from)
        resumed += 1
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lte=now)
    lost = (AlertSms.objects.filter(free, status=AlertSms.Status.QUEUED, queued_at__lte=now - STALE_AFTER)
            .order_by("publication_id", "id").values_list("publication_id", "id")[:limit])
    spans: dict[int, list[int]] = defaultdict(list)
    for publication_id, pk in lost:
        spans[publication_id].append(pk)
    requeued = 0
    with transaction.atomic():
        for publication_id, ids in spans.items():
            for start in range(0, len(ids), BATCH):
                chunk = ids[start:start + BATCH]
                AlertSms.objects.filter(pk__in=chunk, status=AlertSms.Status.QUEUED).update(queued_at=now)
                _enqueue_sending(publication_id, chunk[0], chunk[-1])
                requeued += len(chunk)
    return {"alerts": resumed, "texts": requeued}
