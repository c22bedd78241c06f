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


class Job(models.Model):
    """A long piece of work a person started from a page (an import, an export), run by the task worker. The
    page shows `done` of `total` as a progress bar and, at the end, the result file and the error file.

    `needs_choice` is a checked import whose file has errors: nothing was written, and the person either fixes
    the file or asks for the clean rows to be imported (`params["clean_rows_only"]`)."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("进行中")
        NEEDS_CHOICE = "needs_choice", _("待处理")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")

    kind = models.CharField(_("类型"), max_length=60)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                              verbose_name=_("发起人"))
    status = models.CharField(_("状态"), max_length=15, choices=Status.choices, default=Status.QUEUED)
    phase = models.CharField(_("阶段"), max_length=40, blank=True, default="")
    done = models.PositiveIntegerField(_("已处理"), default=0)
    total = models.PositiveIntegerField(_("总数"), null=True, blank=True)
    params = models.JSONField(_("参数"), default=dict)
    summary = models.JSONField(_("结果"), default=dict)
    message = models.CharField(_("说明"), max_length=300, blank=True, default="")
    input_file = models.FileField(_("上传文件"), upload_to="jobs/%Y/%m/", blank=True, default="")
    # The original name of the uploaded file, offered back in downloads.
    input_name = models.CharField(_("文件名"), max_length=100, blank=True, default="")
    result_file = models.FileField(_("结果文件"), upload_to="jobs/%Y/%m/", blank=True, default="")
    error_file = models.FileField(_("错误清单"), upload_to="jobs/%Y/%m/", blank=True, default="")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    # The last progress written; a running job silent for long lost its worker (`core.jobs.sweep`).
    progressed_at = models.DateTimeField(_("最近进展"), null=True, blank=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("后台任务")
        verbose_name_plural = verbose_name
        indexes = [models.Index(fields=["owner", "created_at"], name="job_owner_created")]

    def __str__(self) -> str:
        return f"{self.kind}#{self.pk} {self.status}"

    @property
    def percent(self) -> int | None:
        return min(100, self.done * 100 // self.total) if self.total else None

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED, self.Status.NEEDS_CHOICE)
