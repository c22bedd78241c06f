"""Notification writes: the inbox, outgoing deliveries, read marks.

Callers (the case workflow, later publications) call `notify` inside their own transaction; the inbox rows
commit with their change, and outgoing messages are queued only once it commits (`on_commit`), so a rolled
back change texts nobody.

Language: `title` and `body` arrive already translated. Build them in the recipient's language; for now
that is the site's default language, so a service running inside a request should build them under
`translation.override(settings.LANGUAGE_CODE)` rather than in the language of whoever clicked.

`deliver` is not `@transaction.atomic`: it talks to an SMS or WeChat provider, which must not happen while
the database is held. It claims the row with one conditional UPDATE (committed on its own), sends, then
records the outcome with another, so two workers (a retry and a sweep, or a doubled enqueue) cannot both
send, and a sent delivery is never sent again. It must not be called inside an outer transaction.
"""

from __future__ import annotations

import datetime
import functools
import logging
from collections.abc import Callable, Iterable, Sequence

from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.accounts.models import User
from gongzhi.core.errors import DomainError, NotFound
from gongzhi.core.text import clean_text
from gongzhi.notifications import policies, types
from gongzhi.notifications.channels import DeliveryError, configured_channels, get_channel
from gongzhi.notifications.models import Delivery, Notification

logger = logging.getLogger(__name__)

# The first try and the three retries of tasks.send_delivery; the last failure marks the delivery failed.
MAX_ATTEMPTS = 4
# A worker's claim on a delivery while it sends; longer than any provider call should take.
CLAIM_FOR = datetime.timedelta(minutes=5)
# A delivery still queued this long after it was (re)queued was lost (e.g. the worker was down).
STALE_AFTER = datetime.timedelta(minutes=15)
# Most ids one mark_read call accepts; the API documents the same limit.
MAX_READ_IDS = 200
# Recipients are written in chunks so `IN (...)` lists stay short on every database.
_CHUNK = 500


def _enqueue(delivery_ids: Sequence[int]) -> None:
    """Queue the sending of each delivery once the current transaction commits.

    robust: a queue that cannot be reached must not fail the caller's committed change; the sweep
    re-queues the rows later.
    """
    from gongzhi.notifications.tasks import send_delivery  # tasks.py imports this module

    for delivery_id in delivery_ids:
        transaction.on_commit(functools.partial(send_delivery, delivery_id), robust=True)


def _clean_text(value: str, *, field: str, max_length: int, required: bool) -> str:
    return clean_text(value, field=field, max_length=max_length,
                      required_message=_("通知内容不完整。") if required else None,
                      too_long_message=_("通知内容过长。"), code="notification_invalid")


def _clean_channels(channels: Sequence[str]) -> list[str]:
    """Known channel names, in order, without those this deployment has not configured."""
    unknown = [name for name in channels if name not in Delivery.Channel.values]
    if unknown:
        raise DomainError(_("未知的通知渠道。"), code="notification_invalid", field="channels")
    configured = configured_channels()
    names = list(dict.fromkeys(name for name in channels if name in configured))
    skipped = set(channels) - set(names)
    if skipped:
        logger.debug("notification channels not configured, skipped: %s", sorted(skipped))
    return names


@transaction.atomic
def notify(
    *,
    recipients: Iterable[User],
    kind: str,
    title: str,
    body: str,
    target_id: int | None = None,
    dedupe_key: str | None = None,
    channels: Sequence[str] = (),
) -> list[Notification]:
    """Put a notification in each active recipient's inbox and queue its copies on `channels`.

    - Inactive (or unsaved) users get nothing.
    - With a `dedupe_key`, a recipient who already has a notification with that key is skipped, so a retried
      or doubled call notifies nobody twice; use keys such as "case:123:accepted".
    - `channels` are names ("sms", "wechat"); those this deployment has not configured are skipped.
    - `kind` is a registered notice type (`notifications.types`); the message opens that type's target, the
      object with `target_id` (or a list, for a target without one).

    Returns the notifications written by this call (in a race with an identical call, possibly the other
    call's rows as well; their deliveries are still created and sent once). Raises DomainError for a
    unregistered kind, a malformed title, key or channel name, or a target the type does not have, and writes
    nothing then.
    """
    notice = types.get((kind or "").strip())
    if notice is None:
        raise DomainError(_("通知类型无效。"), code="notification_invalid", field="kind")
    if target_id is not None and not notice.target:
        raise DomainError(_("该类通知没有链接对象。"), code="notification_invalid", field="target_id")
    title = _clean_text(title, field="title", max_length=100, required=True)
    body = _clean_text(body, field="body", max_length=2000, required=False)
    key = _clean_text(dedupe_key or "", field="dedupe_key", max_length=150, required=False)
    channel_names = _clean_channels(channels)

    wanted = sorted({user.pk for user in recipients if user.pk is not None})
    written: list[Notification] = []
    now = timezone.now()
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start:start + _CHUNK]
        ids = set(User.objects.filter(pk__in=chunk, is_active=True).values_list("pk", flat=True))
        if key:
            ids -= set(Notification.objects.filter(recipient_id__in=ids, dedupe_key=key)
                       .values_list("recipient_id", flat=True))
        if not ids:
            continue
        rows = [Notification(recipient_id=pk, kind=notice.kind, title=title, body=body, target_type=notice.target,
                             target_id=target_id, dedupe_key=key, created_at=now) for pk in sorted(ids)]
        if key:
            # A concurrent identical call may have written some of them since: its rows win.
            Notification.objects.bulk_create(rows, ignore_conflicts=True)
            rows = list(Notification.objects.filter(recipient_id__in=ids, dedupe_key=key).order_by("id"))
        else:
            rows = Notification.objects.bulk_create(rows)
        written.extend(rows)
        if channel_names:
            Delivery.objects.bulk_create(
                [Delivery(notification=row, channel=name, created_at=now, queued_at=now)
                 for row in rows for name in channel_names],
                ignore_conflicts=True,
            )
            _enqueue(list(Delivery.objects.filter(notification__in=rows, channel__in=channel_names,
                                                  status=Delivery.Status.QUEUED)
                          .order_by("id").values_list("id", flat=True)))
    return written


def deliver(*, delivery_id: int) -> str:
    """Send one queued delivery unless it was sent already or another worker holds it; returns its status.

    A failure a retry may cure (provider down) raises DeliveryError while attempts remain, so the task is
    retried; the last attempt, or a failure no retry can cure (no phone number, inactive recipient, channel
    no longer configured), marks the delivery failed and returns normally. Not atomic: see the module note.
    """
    now = timezone.now()
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lte=now)
    claimed = (Delivery.objects.filter(free, pk=delivery_id, status=Delivery.Status.QUEUED)
               .update(claimed_until=now + CLAIM_FOR, attempts=F("attempts") + 1, last_attempt_at=now))
    if claimed != 1:
        status = Delivery.objects.filter(pk=delivery_id).values_list("status", flat=True).first()
        logger.info("delivery %s not sent now (status %s, or held by another worker)", delivery_id, status)
        return status or ""
    delivery = Delivery.objects.select_related("notification__recipient").get(pk=delivery_id)
    mine = Delivery.objects.filter(pk=delivery_id, status=Delivery.Status.QUEUED)
    try:
        if not delivery.notification.recipient.is_active:
            raise DeliveryError("recipient_inactive", retryable=False)
        channel = get_channel(delivery.channel)
        if channel is None:
            raise DeliveryError("channel_not_configured", retryable=False)
        channel.deliver(delivery.notification)
    except DeliveryError as exc:
        error = exc
    except Exception as exc:
        # A backend bug must not leave the row claimed. Only the class name is kept: provider messages may
        # echo a phone number.
        logger.error("delivery %s: unexpected %s", delivery_id, type(exc).__name__)
        error = DeliveryError(f"error:{type(exc).__name__}"[:100])
    else:
        mine.update(status=Delivery.Status.SENT, sent_at=timezone.now(), claimed_until=None, last_error="")
        return Delivery.Status.SENT
    if error.retryable and delivery.attempts < MAX_ATTEMPTS:
        mine.update(claimed_until=None, last_error=error.code, queued_at=timezone.now())
        logger.warning("delivery %s failed (%s), attempt %d of %d", delivery_id, error.code, delivery.attempts,
                       MAX_ATTEMPTS)
        raise error
    mine.update(status=Delivery.Status.FAILED, claimed_until=None, last_error=error.code)
    logger.warning("delivery %s failed for good (%s) after %d attempts", delivery_id, error.code,
                   delivery.attempts)
    return Delivery.Status.FAILED


@transaction.atomic
def requeue_stale_deliveries(*, limit: int = 1000) -> int:
    """Queue again deliveries left queued for longer than STALE_AFTER (the worker was down, the queue lost
    them, a worker died while sending); returns how many. Idempotent: the rows' `queued_at` is reset, so a
    second run finds nothing until they are stale again, and `deliver` sends each at most once anyway."""
    now = timezone.now()
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lte=now)
    stale = (Delivery.objects.filter(free, status=Delivery.Status.QUEUED, queued_at__lte=now - STALE_AFTER)
             .order_by("queued_at", "id"))
    ids = list(stale.values_list("id", flat=True)[:limit])
    if not ids:
        return 0
    Delivery.objects.filter(pk__in=ids, status=Delivery.Status.QUEUED).update(queued_at=now)
    _enqueue(ids)
    logger.info("re-queued %d stale deliveries", len(ids))
    return len(ids)


@transaction.atomic
def mark_read(*, user: User | AnonymousUser, notification_ids: Iterable[int]) -> int:
    """Mark some of the user's own notifications read; returns how many were unread.

    All or nothing: an id that is missing or someone else's raises NotFound (404, the two are
    indistinguishable) and marks none. Already read notifications keep their first read time.
    """
    ids = set(notification_ids)
    if not ids:
        return 0
    if len(ids) > MAX_READ_IDS:
        raise DomainError(_("一次最多标记%(n)d条通知。") % {"n": MAX_READ_IDS}, field="ids")
    mine = policies.notifications_visible_to(user).filter(pk__in=ids)
    if mine.count() != len(ids):
        raise NotFound()
    return mine.filter(read_at__isnull=True).update(read_at=timezone.now())


def mark_target_read(*, user: User | AnonymousUser, target_type: str, target_id: int) -> int:
    """Opening what messages point at reads them: mark the user's unread messages about this object read,
    so the badge does not keep counting a case the user has just looked at. Returns how many."""
    return (policies.notifications_visible_to(user)
            .filter(target_type=target_type, target_id=target_id, read_at__isnull=True)
            .update(read_at=timezone.now()))


@transaction.atomic
def mark_all_read(*, user: User | AnonymousUser) -> int:
    """Mark all of the user's notifications read; returns how many were unread."""
    return policies.notifications_visible_to(user).filter(read_at__isnull=True).update(read_at=timezone.now())


@transaction.atomic
def forget_target(*, target_type: str, target_id: int, recipient_ids: Iterable[int],
                  scrub: Callable[[str], str]) -> int:
    """For an object whose personal data is being removed (a case after its retention period): delete the
    messages about it sent to `recipient_ids` (with their deliveries) and pass every other message's body
    through `scrub` (staff's messages quote notes). Returns how many were deleted. A second call changes
    nothing more."""
    about = Notification.objects.filter(target_type=target_type, target_id=target_id)
    _total, per_model = about.filter(recipient_id__in=list(recipient_ids)).delete()
    for pk, body in about.exclude(body="").values_list("pk", "body"):
        if (clean := scrub(body)) != body:
            Notification.objects.filter(pk=pk).update(body=clean)
    return per_model.get(Notification._meta.label, 0)
