from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        abstract = True


class PiiAccessLog(models.Model):
    """One row per unmasking of a person's ID or phone number: who, whose, which field, why."""

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                              verbose_name=_("查看人"))
    subject_type = models.CharField(_("对象类型"), max_length=50)
    subject_id = models.BigIntegerField(_("对象编号"))
    field = models.CharField(_("字段"), max_length=30)
    reason = models.CharField(_("事由"), max_length=200)
    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("个人信息查看记录")
        verbose_name_plural = verbose_name
        ordering = ["-at"]
        indexes = [models.Index(fields=["subject_type", "subject_id"])]

    def __str__(self) -> str:
        return f"{self.actor_id} {self.subject_type}#{self.subject_id}.{self.field}"


class ServiceHeartbeat(models.Model):
    """Last sign of life of a background process (the task worker), read by /healthz."""

    name = models.CharField(max_length=50, unique=True)
    last_seen = models.DateTimeField()
    detail = models.CharField(max_length=200, blank=True, default="")

    def __str__(self) -> str:
        return self.name


class CalendarDay(models.Model):
    """An official day that differs from the built-in calendar: a holiday, or a make-up workday (调休).

    The chinese-calendar package knows the State Council's schedule only up to the year it was released;
    for later years an administrator enters each year's notice here. Entries here always win.
    """

    date = models.DateField(_("日期"), unique=True)
    is_workday = models.BooleanField(_("是否工作日"), help_text=_("勾选表示调休上班；不勾选表示放假。"))
    name = models.CharField(_("名称"), max_length=50, blank=True, default="", help_text=_("如：春节、国庆节调休上班"))

    class Meta:
        verbose_name = _("节假日与调休")
        verbose_name_plural = verbose_name
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name}"


class CacheVersion(models.Model):
    """A random token per kind of reference data that every process caches (the grid index, the category
    tree), changed whenever that data changes.

    Each process keeps its cache together with the token it was built from and compares it with this row
    before answering, so a change made by any process is seen by all of them. Random rather than a counter,
    so a rolled-back change can never reproduce a token some process already built a cache for.
    """

    name = models.CharField(max_length=40, primary_key=True)
    token = models.CharField(max_length=32)
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("缓存版本")
        verbose_name_plural = verbose_name

    def __str__(self) -> str:
        return f"{self.name}: {self.token}"


class Throttle(models.Model):
    """One abuse-limit counter (see core.throttle); times are Unix seconds, so raw upserts stay portable."""

    bucket = models.CharField(max_length=150, primary_key=True)
    hits = models.PositiveIntegerField(default=0)
    window_ends = models.FloatField()
    blocked_until = models.FloatField(default=0)

    def __str__(self) -> str:
        return f"{self.bucket}: {self.hits}"
