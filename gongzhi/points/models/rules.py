"""The rule catalogue (积分细则, M17): categories and items per township, with a village's own additions.

An item is versioned: changing its points, evidence, cap or awarders writes a new `RuleItem` row (`previous`
points at the old one, which is retired), so an award keeps pointing at the rule as it was when given.
All versions of one item share its `lineage` (the first version's id), which is what caps count by.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from gongzhi.org.models import OrgUnit


class RuleCategory(models.Model):
    """A category (文化振兴, 产业振兴 …) of a township's catalogue, or of one village's own items."""

    township = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("乡镇(街道)"))
    village = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                verbose_name=_("村(社区)"), help_text=_("为空表示全乡镇适用"))
    name = models.CharField(_("类别名称"), max_length=30)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("积分类别")
        verbose_name_plural = verbose_name
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["township", "name"], condition=models.Q(village__isnull=True),
                                    name="points_category_unique_township"),
            models.UniqueConstraint(fields=["village", "name"], condition=models.Q(village__isnull=False),
                                    name="points_category_unique_village"),
        ]

    def __str__(self) -> str:
        return self.name


class CapPeriod(models.TextChoices):
    EVER = "ever", _("累计")
    DAY = "day", _("每天")
    MONTH = "month", _("每月")
    YEAR = "year", _("每年")


class Awarder(models.TextChoices):
    """Who reviews claims for an item and may award it directly."""

    VILLAGE = "village", _("村级管理员")
    TOWNSHIP = "township", _("乡镇(街道)管理员")


class Trigger(models.TextChoices):
    """An event elsewhere that awards the item by itself (an explicit call from that app's service)."""

    NONE = "", _("无")
    REPORT_CLOSED = "report_closed", _("群众上报的事件办结")
    # Points per hour of volunteer service recorded (publications.services.volunteers), once per activity.
    VOLUNTEER_HOURS = "volunteer_hours", _("志愿服务时长（分值为每小时）")


class RuleItem(models.Model):
    """One version of a catalogue item: its points (negative for a deduction), evidence, cap and awarders."""

    category = models.ForeignKey(RuleCategory, on_delete=models.PROTECT, related_name="items",
                                 verbose_name=_("类别"))
    lineage = models.PositiveBigIntegerField(_("条目编号"), null=True, blank=True, db_index=True, editable=False)
    previous = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="next_version", verbose_name=_("上一版本"))
    name = models.CharField(_("积分事项"), max_length=100)
    points = models.IntegerField(_("分值"), help_text=_("负数表示扣分"))
    evidence = models.CharField(_("所需佐证"), max_length=200, blank=True, default="")
    photo_required = models.BooleanField(_("须上传照片"), default=False)
    claimable = models.BooleanField(_("群众可申请"), default=True)
    cap_count = models.PositiveSmallIntegerField(_("次数上限"), null=True, blank=True,
                                                 help_text=_("为空表示不限次数"))
    cap_period = models.CharField(_("上限周期"), max_length=10, choices=CapPeriod.choices, default=CapPeriod.YEAR)
    awarder = models.CharField(_("审核给予"), max_length=10, choices=Awarder.choices, default=Awarder.VILLAGE)
    trigger = models.CharField(_("自动给予"), max_length=20, choices=Trigger.choices, blank=True,
                               default=Trigger.NONE)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)
    retired_at = models.DateTimeField(_("停用时间"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("创建人"))
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("积分事项")
        verbose_name_plural = verbose_name
        ordering = ["category__order", "order", "id"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(points=0), name="points_rule_item_points_nonzero"),
            # A deduction is never something residents apply for.
            models.CheckConstraint(condition=models.Q(points__gt=0) | models.Q(claimable=False),
                                   name="points_rule_item_deduction_not_claimable"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        if self.lineage is None:
            self.lineage = self.previous.lineage if self.previous is not None else self.pk
            RuleItem.objects.filter(pk=self.pk).update(lineage=self.lineage)

    @property
    def is_deduction(self) -> bool:
        return self.points < 0


class StarScale(models.Model):
    """十星等级: how many points make each star, per township; counted per calendar year or over a lifetime."""

    class Basis(models.TextChoices):
        YEAR = "year", _("按自然年累计")
        LIFETIME = "lifetime", _("历年累计")

    township = models.OneToOneField(OrgUnit, on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("乡镇(街道)"))
    basis = models.CharField(_("计星方式"), max_length=10, choices=Basis.choices, default=Basis.YEAR)
    # Ten ascending thresholds: the points earned (awards minus deductions; spending does not lower them)
    # needed for one star, two stars, … ten stars.
    thresholds = models.JSONField(_("各星级所需积分"))

    class Meta:
        verbose_name = _("十星等级标准")
        verbose_name_plural = verbose_name

    def __str__(self) -> str:
        return f"{self.township_id} {self.basis}"

    def stars_for(self, earned: int) -> int:
        return sum(1 for threshold in self.thresholds if earned >= threshold)
