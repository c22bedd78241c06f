"""Urgent alerts (紧急通知): how an alert's text messages went out.

An alert reaches its area's residents in their inbox by query (the inbox reads live area items; nothing is
written per resident for that). Its SMS do need one row each: `AlertSms` is one text to one resident, unique
per (alert, recipient), so a queueing task that runs twice (a retry, a lost worker) can never text anyone
twice, and a sending worker claims its rows with a conditional UPDATE before sending.

`AlertDelivery` (one per alert) holds the counts the sender watches: residents reached, texts queued, sent,
failed, and cancelled (left unsent because the alert was withdrawn or ended first), plus the queueing
task's cursor (the last recipient id queued), so a resumed task carries on where the last one stopped.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongzhi.publications.models.core import Publication


class AlertDelivery(models.Model):
    class State(models.TextChoices):
        QUEUING = "queuing", _("正在排队")
        SENDING = "sending", _("正在发送")
        DONE = "done", _("发送完成")

    publication = models.OneToOneField(Publication, on_delete=models.CASCADE, related_name="alert_delivery",
                                       verbose_name=_("紧急通知"))
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.QUEUING)
    recipients = models.PositiveIntegerField(_("覆盖居民"), default=0)
    queued = models.PositiveIntegerField(_("短信排队"), default=0)
    sent = models.PositiveIntegerField(_("短信已发"), default=0)
    failed = models.PositiveIntegerField(_("短信失败"), default=0)
    cancelled = models.PositiveIntegerField(_("短信取消"), default=0)
    # The last recipient (user id) whose text is queued: the queueing task resumes after it.
    cursor = models.PositiveBigIntegerField(default=0)
    started_at = models.DateTimeField(_("开始时间"), default=timezone.now)
    queued_at = models.DateTimeField(_("排队完成时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("发送完成时间"), null=True, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)

    class Meta:
        verbose_name = _("紧急通知发送情况")
        verbose_name_plural = _("紧急通知发送情况")
        indexes = [models.Index(fields=["state", "updated_at"], name="alert_delivery_state_idx")]

    def __str__(self) -> str:
        return f"#{self.publication_id} {self.state}"

    @property
    def is_finished(self) -> bool:
        return self.state == self.State.DONE

    @property
    def waiting(self) -> int:
        """Texts queued and not yet sent, failed or cancelled."""
        return max(self.queued - self.sent - self.failed - self.cancelled, 0)


class AlertSms(models.Model):
    """One alert text to one resident. `last_error` holds a reason code, never a phone number."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("待发送")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")
        CANCELLED = "cancelled", _("已取消")

    publication = models.ForeignKey(Publication, on_delete=models.CASCADE, related_name="+",
                                    verbose_name=_("紧急通知"))
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
                                  verbose_name=_("接收人"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    last_error = models.CharField(_("失败原因"), max_length=100, blank=True, default="")
    claim = models.CharField(max_length=32, blank=True, default="")
    claimed_until = models.DateTimeField(null=True, blank=True)
    queued_at = models.DateTimeField(_("入队时间"), default=timezone.now)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("紧急通知短信")
        verbose_name_plural = _("紧急通知短信")
        constraints = [models.UniqueConstraint(fields=["publication", "recipient"], name="alert_sms_once")]
        indexes = [models.Index(fields=["publication", "status", "id"], name="alert_sms_queue_idx")]

    def __str__(self) -> str:
        return f"#{self.publication_id} → {self.recipient_id} {self.status}"
