"""The change history of registry records: one row per create, edit or import of a record, with who, when and
what changed. Personal numbers appear masked, as the record page shows them."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class RecordChange(models.Model):
    class Action(models.TextChoices):
        CREATED = "created", _("新增")
        UPDATED = "updated", _("修改")
        IMPORTED = "imported", _("导入")
        ENDED = "ended", _("注销")

    # The record's model name ("resident", "household", "address", "house", "establishment", "keyperson").
    record_type = models.CharField(_("记录类型"), max_length=20)
    record_id = models.BigIntegerField(_("记录编号"))
    action = models.CharField(_("操作"), max_length=10, choices=Action.choices)
    # {field verbose name: [old, new]}; old is "" for a new record.
    changes = models.JSONField(_("变更内容"), default=dict)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+", verbose_name=_("操作人"))
    # What the change came from besides the actor's form, e.g. an import job ("导入任务 #12").
    source = models.CharField(_("来源"), max_length=60, blank=True, default="")
    at = models.DateTimeField(_("时间"))

    class Meta:
        verbose_name = _("登记变更记录")
        verbose_name_plural = verbose_name
        indexes = [models.Index(fields=["record_type", "record_id", "at"], name="record_change_of_record")]

    def __str__(self) -> str:
        return f"{self.record_type}#{self.record_id} {self.action}"
