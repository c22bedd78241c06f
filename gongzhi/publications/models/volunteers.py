"""Volunteers (志愿服务 "8+X", 管闲事, M26): a village's teams and their members, activities published as
`volunteer_activity` items with their place, time and slots, and each participant's sign-up, attendance and
hours.

A resident applies to join a team and the village reviews the application. Signing up for an activity is open
to every verified resident of its area (or only to approved members of its teams, when the activity says so);
slots are counted under a lock on the activity, so they are never oversubscribed. Staff mark attendance and
hours after the activity; hours may award points by the township's catalogue (`award` keeps what was given,
so recording hours again never gives twice).
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongzhi.org.models import OrgUnit
from gongzhi.publications.models.core import Publication


class VolunteerTeam(models.Model):
    class Kind(models.TextChoices):
        FIXED = "fixed", _("“8”支常设服务队")
        VILLAGE = "village", _("“X”村特色服务队")
        BUSYBODY = "busybody", _("管闲事志愿者")

    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("所属村(社区)"))
    path = models.CharField(max_length=400, db_index=True, editable=False)
    name = models.CharField(_("队伍名称"), max_length=40)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices, default=Kind.FIXED)
    description = models.CharField(_("服务内容"), max_length=500, blank=True, default="")
    leader = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                               related_name="+", verbose_name=_("队长"))
    leader_name = models.CharField(_("队长姓名"), max_length=30, blank=True, default="")
    is_active = models.BooleanField(_("启用"), default=True)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("志愿服务队")
        verbose_name_plural = _("志愿服务队")
        ordering = ["order", "id"]
        constraints = [models.UniqueConstraint(fields=["unit", "name"], name="volunteer_team_unique_name")]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        if self.unit_id is not None and not self.path:
            self.path = OrgUnit.objects.values_list("path", flat=True).get(pk=self.unit_id)
        super().save(*args, **kwargs)


class TeamMember(models.Model):
    """A resident's application to a team and, once approved, their membership."""

    class Status(models.TextChoices):
        APPLIED = "applied", _("待审核")
        APPROVED = "approved", _("已加入")
        REJECTED = "rejected", _("未通过")
        LEFT = "left", _("已退出")

    team = models.ForeignKey(VolunteerTeam, on_delete=models.CASCADE, related_name="members",
                             verbose_name=_("志愿服务队"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("志愿者"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.APPLIED)
    note = models.CharField(_("申请说明"), max_length=200, blank=True, default="")
    review_note = models.CharField(_("审核意见"), max_length=200, blank=True, default="")
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("审核人"))
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("申请时间"), default=timezone.now)

    class Meta:
        verbose_name = _("志愿服务队成员")
        verbose_name_plural = _("志愿服务队成员")
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["team", "user"], name="volunteer_member_once")]

    def __str__(self) -> str:
        return f"{self.team_id}:{self.user_id}"


class VolunteerActivity(models.Model):
    """A `volunteer_activity` publication's place, time, slots and teams."""

    publication = models.OneToOneField(Publication, on_delete=models.CASCADE, related_name="volunteer_activity",
                                       verbose_name=_("公开事项"))
    place = models.CharField(_("活动地点"), max_length=100)
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    slots = models.PositiveSmallIntegerField(_("招募人数"))
    teams = models.ManyToManyField(VolunteerTeam, blank=True, related_name="activities", verbose_name=_("服务队"))
    members_only = models.BooleanField(_("仅限服务队成员报名"), default=False)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)

    class Meta:
        verbose_name = _("志愿活动")
        verbose_name_plural = _("志愿活动")
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="volunteer_activity_order"),
            models.CheckConstraint(condition=Q(slots__gt=0), name="volunteer_activity_slots"),
        ]

    def __str__(self) -> str:
        return self.place

    @property
    def duration_hours(self) -> Decimal:
        seconds = (self.ends_at - self.starts_at).total_seconds()
        # Whole half-hours, as the hours are recorded.
        return Decimal(int(seconds // 1800)) / 2


class Participation(models.Model):
    """A resident's slot in an activity; after it, whether they came and their hours."""

    class Status(models.TextChoices):
        SIGNED_UP = "signed_up", _("已报名")
        CANCELLED = "cancelled", _("已取消")

    activity = models.ForeignKey(VolunteerActivity, on_delete=models.CASCADE, related_name="participants",
                                 verbose_name=_("志愿活动"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("志愿者"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.SIGNED_UP)
    attended = models.BooleanField(_("已签到"), null=True, blank=True)
    hours = models.DecimalField(_("服务时长(小时)"), max_digits=4, decimal_places=1, null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("记录人"))
    recorded_at = models.DateTimeField(_("记录时间"), null=True, blank=True)
    award = models.ForeignKey("points.Award", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                              verbose_name=_("积分记录"))
    created_at = models.DateTimeField(_("报名时间"), default=timezone.now)

    class Meta:
        verbose_name = _("志愿活动报名")
        verbose_name_plural = _("志愿活动报名")
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["activity", "user"], name="volunteer_participation_once")]

    def __str__(self) -> str:
        return f"{self.activity_id}:{self.user_id}"
