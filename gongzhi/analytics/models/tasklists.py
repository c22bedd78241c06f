"""Task lists (任务清单, 挂图作战; M16): a task a command centre or leadership level gives to a unit below it,
the owner unit's progress reports (with photos and PDF documents), and the task's append-only log.

- `Task`: what is to be done, by whom (the owner unit, optionally one of its staff), by when (a date), issued
  by which unit (a township or county, whose command-centre staff confirm, send back, cancel and extend it).
  The paths of both units are copied onto the row, so the tasks of a scope are a prefix filter without a join.
  A task may break down a task given to the issuing unit (`parent`: a county task split into township or
  village sub-tasks).
- `TaskReport`: a progress report (note, percent) by the owner unit's staff, with its `TaskAttachment`s.
- `TaskLog`: one row per change, never updated or deleted (who, when, what, with the figures of the change in
  `details`). The sweep's reminders are log rows too, unique per task × `step_key` (which names the deadline),
  so a doubled run writes nothing; a client key is unique per task, so a replayed form answers with the first
  result.

Status: 未开始 → 进行中 (the first progress report) → 待确认 (the owner submits it as done) → 已完成 (the issuer
confirms) or back to 进行中 (sent back, with a reason); 已撤销 (cancelled by the issuer) from any open state.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongzhi.org.models import OrgUnit

CLIENT_KEY_MAX_LENGTH = 64


class TaskStatus(models.TextChoices):
    NOT_STARTED = "not_started", _("未开始")
    IN_PROGRESS = "in_progress", _("进行中")
    SUBMITTED = "submitted", _("待确认")
    DONE = "done", _("已完成")
    CANCELLED = "cancelled", _("已撤销")


# The owner unit is still working on these; a deadline passing makes them overdue (已超期).
OPEN_TASK_STATES = frozenset({TaskStatus.NOT_STARTED, TaskStatus.IN_PROGRESS})


class TaskCategory(models.TextChoices):
    KEY_WORK = "key_work", _("重点工作")
    LIVELIHOOD = "livelihood", _("民生实事")
    SPECIAL = "special", _("专项整治")
    ROUTINE = "routine", _("日常工作")


class Task(models.Model):
    title = models.CharField(_("任务名称"), max_length=100)
    description = models.TextField(_("任务要求"), blank=True, default="")
    category = models.CharField(_("任务类别"), max_length=12, choices=TaskCategory.choices,
                                default=TaskCategory.KEY_WORK)
    issuing_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("下达单位"))
    issuer_path = models.CharField(max_length=400)
    owner_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("责任单位"))
    owner_path = models.CharField(max_length=400)
    owner_person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name=_("责任人"))
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="subtasks",
                               verbose_name=_("上级任务"))
    deadline = models.DateField(_("完成时限"))
    status = models.CharField(_("状态"), max_length=12, choices=TaskStatus.choices, default=TaskStatus.NOT_STARTED)
    progress = models.PositiveSmallIntegerField(_("进度"), default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("下达人"))
    # A retried create form answers with the task it made the first time (unique per creator).
    client_key = models.CharField(max_length=CLIENT_KEY_MAX_LENGTH, blank=True, default="")
    created_at = models.DateTimeField(_("下达时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)
    submitted_at = models.DateTimeField(_("提交完成时间"), null=True, blank=True)
    completed_at = models.DateTimeField(_("确认完成时间"), null=True, blank=True)
    # Set when the issuer confirms: submitted on or before the deadline then in force (按时完成).
    on_time = models.BooleanField(_("按时完成"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("任务")
        verbose_name_plural = _("任务清单")
        constraints = [
            models.UniqueConstraint(fields=["created_by", "client_key"], condition=~models.Q(client_key=""),
                                    name="task_unique_client_key"),
            models.CheckConstraint(condition=models.Q(progress__lte=100), name="task_progress_at_most_100"),
        ]
        indexes = [models.Index(fields=["owner_path", "status"], name="task_owner_path"),
                   models.Index(fields=["issuer_path", "status"], name="task_issuer_path"),
                   models.Index(fields=["status", "deadline"], name="task_status_deadline")]

    def __str__(self) -> str:
        return self.title


class TaskAction(models.TextChoices):
    CREATE = "create", _("下达任务")
    ASSIGN = "assign", _("指定责任人")
    REPORT = "report", _("报告进展")
    SUBMIT = "submit", _("提交完成")
    CONFIRM = "confirm", _("确认完成")
    SEND_BACK = "send_back", _("退回")
    CANCEL = "cancel", _("撤销")
    EXTEND = "extend", _("延长时限")
    DUE_SOON = "due_soon", _("即将到期提醒")
    OVERDUE = "overdue", _("超期提醒")


class TaskLog(models.Model):
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="logs")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+", verbose_name=_("操作人"))  # empty: the system (the sweep)
    action = models.CharField(_("操作"), max_length=12, choices=TaskAction.choices)
    note = models.TextField(_("说明"), blank=True, default="")
    # The figures of the change: {"percent"}, {"from", "to"} (a deadline), {"person"}, {"deadline"} …
    details = models.JSONField(default=dict)
    status = models.CharField(_("状态"), max_length=12, choices=TaskStatus.choices)  # the status after the step
    at = models.DateTimeField(_("时间"), default=timezone.now)
    step_key = models.CharField(max_length=40, blank=True, default="")
    client_key = models.CharField(max_length=CLIENT_KEY_MAX_LENGTH, blank=True, default="")

    class Meta:
        verbose_name = _("任务记录")
        verbose_name_plural = _("任务记录")
        constraints = [
            models.UniqueConstraint(fields=["task", "step_key"], condition=~models.Q(step_key=""),
                                    name="task_log_unique_step"),
            models.UniqueConstraint(fields=["task", "client_key"], condition=~models.Q(client_key=""),
                                    name="task_log_unique_client_key"),
        ]

    def __str__(self) -> str:
        return f"{self.task_id} {self.action} {self.at:%Y-%m-%d %H:%M}"


class TaskReport(models.Model):
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="reports")
    log = models.OneToOneField(TaskLog, on_delete=models.CASCADE, related_name="report")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("报告人"))
    note = models.TextField(_("进展情况"))
    percent = models.PositiveSmallIntegerField(_("完成进度"))
    created_at = models.DateTimeField(_("报告时间"), default=timezone.now)

    class Meta:
        verbose_name = _("进展报告")
        verbose_name_plural = _("进展报告")

    def __str__(self) -> str:
        return f"{self.task_id} {self.percent}%"


class TaskAttachment(models.Model):
    """A photo or PDF document with a progress report or a step, processed by `core.uploads` (photos
    re-encoded without EXIF, documents checked as PDF). Served only to those who see the task."""

    class Kind(models.TextChoices):
        PHOTO = "photo", _("照片")
        DOCUMENT = "document", _("文件")

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="attachments")
    log = models.ForeignKey(TaskLog, on_delete=models.CASCADE, related_name="attachments")
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    file = models.FileField(_("文件"), upload_to="tasks/%Y/%m/")
    thumbnail = models.FileField(_("缩略图"), upload_to="tasks/%Y/%m/thumbs/", blank=True, default="")
    name = models.CharField(_("文件名"), max_length=100, blank=True, default="")
    content_type = models.CharField(max_length=50)
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("任务附件")
        verbose_name_plural = _("任务附件")
        # A /media/ URL is answered by finding its file by stored name (selectors.stored_task_file).
        indexes = [models.Index(fields=["file"], name="task_attachment_file"),
                   models.Index(fields=["thumbnail"], name="task_attachment_thumbnail")]

    def __str__(self) -> str:
        return f"{self.task_id} {self.kind}"
