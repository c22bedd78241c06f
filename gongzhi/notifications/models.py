"""In-app notifications (the inbox, always on) and their outgoing copies on other channels (SMS, WeChat).

A `Notification` is one message to one user. `dedupe_key` makes a retried or doubled call harmless: the
partial unique constraint (recipient, dedupe_key) where the key is not empty holds on SQLite and
PostgreSQL alike, and `services.notify` skips recipients who already have the key.

A `Delivery` is one outgoing copy of a notification on one channel; (notification, channel) is unique, so a
retried task or a doubled enqueue can never create a second copy, and `services.deliver` claims the row with
a conditional UPDATE before sending, so two workers cannot both send it.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                  related_name="notifications", verbose_name=_("接收人"))
    # A short dotted slug naming what happened, e.g. "case.accepted"; inbox pages may pick an icon by it.
    kind = models.CharField(_("类型"), max_length=50)
    title = models.CharField(_("标题"), max_length=100)
    body = models.TextField(_("内容"), blank=True, default="")
    # What the message opens: the kind of object (its notice type's `target`, e.g. "case") and its id. Each
    # portal turns them into its own page when the message is opened (gongzhi.web.targets).
    target_type = models.CharField(_("对象类型"), max_length=40, blank=True, default="")
    target_id = models.PositiveBigIntegerField(_("对象编号"), null=True, blank=True)
    # Empty means "no deduplication"; otherwise unique per recipient.
    dedupe_key = models.CharField(_("去重键"), max_length=150, blank=True, default="")
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "dedupe_key"], condition=~Q(dedupe_key=""),
                                    name="notification_unique_dedupe_key"),
        ]
        indexes = [
            models.Index(fields=["recipient", "-created_at", "-id"], name="notification_inbox_idx"),
            models.Index(fields=["recipient", "read_at"], name="notification_unread_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.title}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class Delivery(models.Model):
    """One outgoing (non-inbox) copy of a notification. `last_error` holds a reason code, never personal
    data (no phone numbers, no provider messages)."""

    class Channel(models.TextChoices):
        SMS = "sms", _("短信")
        WECHAT = "wechat", _("微信")

    class Status(models.TextChoices):
        QUEUED = "queued", _("待发送")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="deliveries",
                                     verbose_name=_("通知"))
    channel = models.CharField(_("渠道"), max_length=20, choices=Channel.choices)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    last_error = models.CharField(_("失败原因"), max_length=100, blank=True, default="")
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    # When last put on the task queue (created, retried or re-queued by the sweep); the sweep re-queues
    # rows that have sat queued for too long after this.
    queued_at = models.DateTimeField(_("入队时间"), default=timezone.now)
    last_attempt_at = models.DateTimeField(_("最后尝试时间"), null=True, blank=True)
    # A worker's claim while it sends: no other worker may send the row before this time.
    claimed_until = models.DateTimeField(_("发送锁定至"), null=True, blank=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("外发消息")
        verbose_name_plural = _("外发消息")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["notification", "channel"], name="delivery_unique_channel"),
        ]
        indexes = [models.Index(fields=["status", "queued_at"], name="delivery_queue_idx")]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} #{self.notification_id} {self.get_status_display()}"


class DevWeChatMessage(models.Model):
    """A message the development WeChat backend "sent", kept like the development SMS texts."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
                                  verbose_name=_("接收人"))
    title = models.CharField(_("标题"), max_length=100)
    body = models.TextField(_("内容"), blank=True, default="")
    link = models.CharField(_("链接"), max_length=300, blank=True, default="")
    sent_at = models.DateTimeField(_("发送时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("开发微信消息")
        verbose_name_plural = _("开发微信消息")
        ordering = ["-sent_at", "-id"]

    def __str__(self) -> str:
        return f"#{self.recipient_id} {self.title}"
