"""Risk warnings (风险预警): a row per warning raised by the periodic rules of `analytics.warnings`
(`services.refresh_warnings`): repeat disputes and 民转刑 risks (one per flagged dispute case), hotspots (a grid
whose cases of the last 7 days are well above its baseline), overdue clusters (a village or a lead
department with many overdue cases) and unvisited key persons (one per key person past the date their visit
plan owes a visit; seen only by the posts with key-person access, `policies.warnings_visible_to`).

A warning is open while its rule holds (`cleared_at` null) and is identified by its `key` (kind + the unit
or case it is about): a partial unique constraint keeps one open warning per key, so a periodic run never
raises the same warning twice while it stays true; once it is cleared and the rule holds again, a new
warning is raised. The acknowledgement (who, when, the note) is the log of who took it up: the project has
no generic audit table, and these fields are never changed once set."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from gongzhi.org.models import OrgUnit


class WarningKind(models.TextChoices):
    REPEAT_DISPUTE = "repeat_dispute", _("重复纠纷")
    MARRIAGE_FAMILY = "marriage_family", _("民转刑风险")
    HOTSPOT = "hotspot", _("事件高发")
    OVERDUE_CLUSTER = "overdue_cluster", _("超期积压")
    UNVISITED_KEY_PERSON = "unvisited_key_person", _("重点人员未按期走访")


class Warning(models.Model):
    kind = models.CharField(_("预警类型"), max_length=20, choices=WarningKind.choices)
    # What makes the warning the same one from run to run: "hotspot:<grid id>", "overdue_cluster:<unit id>",
    # "repeat_dispute:<case id>", "marriage_family:<case id>", "key_person:<registry.KeyPerson id>".
    key = models.CharField(max_length=80)
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("所属单位"))
    # The unit's path, copied so the warnings of a scope are one prefix filter without a join.
    path = models.CharField(_("路径"), max_length=400)
    case_ids = models.JSONField(_("相关事件"), default=list)
    # Figures for the page: hotspot {"k", "baseline", "weeks", "p"}; overdue cluster {"red"}; disputes {};
    # unvisited key person {"key_person" (id), "due" (ISO date), "days_overdue", "risk_level"}: never the name,
    # which the page looks up for viewers with key-person access only.
    details = models.JSONField(_("详情"), default=dict)
    raised_at = models.DateTimeField(_("预警时间"))
    updated_at = models.DateTimeField(_("更新时间"))
    cleared_at = models.DateTimeField(_("解除时间"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                        related_name="+", verbose_name=_("签收人"))
    acknowledged_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    acknowledgement_note = models.TextField(_("签收说明"), blank=True, default="")

    class Meta:
        verbose_name = _("风险预警")
        verbose_name_plural = _("风险预警")
        constraints = [models.UniqueConstraint(fields=["key"], condition=models.Q(cleared_at__isnull=True),
                                               name="warning_one_open_per_key")]
        indexes = [models.Index(fields=["path"], condition=models.Q(cleared_at__isnull=True),
                                name="warning_open_path")]

    def __str__(self) -> str:
        return f"{self.key} {self.raised_at:%Y-%m-%d %H:%M}"
