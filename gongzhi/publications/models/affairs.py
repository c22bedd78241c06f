"""三务公开 (disclosures) and 村民说事 (meetings): each kind's own tables beside its `Publication`.

A disclosure (kind "disclosure") has a category (党务/村务/财务) and a period (a month or a quarter of a year);
a 财务 one carries its income and expense lines (amounts in fen, whole numbers; the totals are sums, never
stored), any disclosure may carry village projects (村级项目) with their milestones.

A meeting (kind "meeting") is one matter through five stages, 说 → 议 → 办 → 督 → 评, each published to
residents in turn (`published_stage`); the Publication itself goes live with the first (说).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongzhi.publications.models.core import Publication


class DisclosureCategory(models.TextChoices):
    PARTY = "party", _("党务公开")
    VILLAGE = "village", _("村务公开")
    FINANCE = "finance", _("财务公开")


class PeriodType(models.TextChoices):
    MONTH = "month", _("月度")
    QUARTER = "quarter", _("季度")


class Disclosure(models.Model):
    publication = models.OneToOneField(Publication, on_delete=models.CASCADE, related_name="disclosure",
                                       verbose_name=_("公开事项"))
    category = models.CharField(_("公开类别"), max_length=10, choices=DisclosureCategory.choices)
    year = models.PositiveSmallIntegerField(_("年度"))
    period_type = models.CharField(_("公开周期"), max_length=8, choices=PeriodType.choices,
                                   default=PeriodType.MONTH)
    # The month (1–12) or the quarter (1–4) of `year`.
    period = models.PositiveSmallIntegerField(_("期次"))

    class Meta:
        verbose_name = _("三务公开")
        verbose_name_plural = _("三务公开")
        constraints = [
            models.CheckConstraint(
                condition=(Q(period_type="month", period__gte=1, period__lte=12)
                           | Q(period_type="quarter", period__gte=1, period__lte=4)),
                name="disclosure_period_valid"),
        ]
        indexes = [models.Index(fields=["category", "year", "period_type", "period"], name="disclosure_period_idx")]

    def __str__(self) -> str:
        return f"{self.get_category_display()} {self.period_label}"

    @property
    def period_label(self) -> str:
        if self.period_type == PeriodType.QUARTER:
            return str(_("%(y)d年第%(q)d季度") % {"y": self.year, "q": self.period})
        return str(_("%(y)d年%(m)d月") % {"y": self.year, "m": self.period})


class FinanceLine(models.Model):
    class Direction(models.TextChoices):
        INCOME = "income", _("收入")
        EXPENSE = "expense", _("支出")

    disclosure = models.ForeignKey(Disclosure, on_delete=models.CASCADE, related_name="lines",
                                   verbose_name=_("三务公开"))
    direction = models.CharField(_("收支"), max_length=8, choices=Direction.choices)
    date = models.DateField(_("日期"))
    item = models.CharField(_("摘要"), max_length=100)
    category = models.CharField(_("科目"), max_length=40, blank=True, default="")
    amount_fen = models.PositiveBigIntegerField(_("金额（分）"))
    voucher_no = models.CharField(_("凭证号"), max_length=30, blank=True, default="")
    note = models.CharField(_("备注"), max_length=200, blank=True, default="")
    position = models.PositiveIntegerField(_("顺序"), default=0)
    # A line form sent twice (a double tap, a retry) adds one line.
    client_key = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        verbose_name = _("收支明细")
        verbose_name_plural = _("收支明细")
        ordering = ["date", "position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="finance_line_amount_positive"),
            models.UniqueConstraint(fields=["disclosure", "client_key"], condition=~Q(client_key=""),
                                    name="finance_line_client_key"),
        ]

    def __str__(self) -> str:
        return self.item


class Project(models.Model):
    """A village project (村级项目) shown with its progress on a disclosure."""

    disclosure = models.ForeignKey(Disclosure, on_delete=models.CASCADE, related_name="projects",
                                   verbose_name=_("三务公开"))
    name = models.CharField(_("项目名称"), max_length=100)
    budget_fen = models.PositiveBigIntegerField(_("预算（分）"), default=0)
    contractor = models.CharField(_("承建单位"), max_length=100, blank=True, default="")
    note = models.CharField(_("说明"), max_length=500, blank=True, default="")
    # A form sent twice (a double tap, a retry) adds one row.
    client_key = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        verbose_name = _("村级项目")
        verbose_name_plural = _("村级项目")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["disclosure", "client_key"], condition=~Q(client_key=""),
                                    name="project_client_key"),
        ]

    def __str__(self) -> str:
        return self.name


class Milestone(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="milestones",
                                verbose_name=_("村级项目"))
    name = models.CharField(_("节点"), max_length=60)
    planned_on = models.DateField(_("计划日期"))
    done_on = models.DateField(_("完成日期"), null=True, blank=True)
    note = models.CharField(_("备注"), max_length=200, blank=True, default="")
    # A form sent twice (a double tap, a retry) adds one row.
    client_key = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        verbose_name = _("项目节点")
        verbose_name_plural = _("项目节点")
        ordering = ["planned_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "client_key"], condition=~Q(client_key=""),
                                    name="milestone_client_key"),
        ]

    def __str__(self) -> str:
        return self.name


# 村民说事 -------------------------------------------------------------------------------------------------

class Stage(models.IntegerChoices):
    NONE = 0, _("未公开")
    SAY = 1, _("说")
    DISCUSS = 2, _("议")
    DO = 3, _("办")
    SUPERVISE = 4, _("督")
    EVALUATE = 5, _("评")


class Meeting(models.Model):
    publication = models.OneToOneField(Publication, on_delete=models.CASCADE, related_name="meeting",
                                       verbose_name=_("公开事项"))
    # 说: who raised the matter, when, what.
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="+", verbose_name=_("说事人账号"))
    raised_by_name = models.CharField(_("说事人"), max_length=40, blank=True, default="")
    raised_on = models.DateField(_("说事日期"), null=True, blank=True)
    matter = models.TextField(_("说事内容"), blank=True, default="")
    case = models.ForeignKey("cases.Case", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                             verbose_name=_("关联事件"))
    # 议
    discussed_on = models.DateField(_("议事日期"), null=True, blank=True)
    participants = models.CharField(_("参加人员"), max_length=500, blank=True, default="")
    discussion = models.TextField(_("议事经过"), blank=True, default="")
    decision = models.TextField(_("议事结果"), blank=True, default="")
    published_stage = models.PositiveSmallIntegerField(_("已公开环节"), choices=Stage.choices, default=Stage.NONE)

    class Meta:
        verbose_name = _("村民说事")
        verbose_name_plural = _("村民说事")

    def __str__(self) -> str:
        return f"#{self.publication_id}"


class MeetingAction(models.Model):
    """One thing to do (办): what, by whom, by when, and when it was done."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="actions",
                                verbose_name=_("村民说事"))
    title = models.CharField(_("事项"), max_length=100)
    assignee = models.CharField(_("责任人"), max_length=60)
    due_on = models.DateField(_("完成时限"))
    done_on = models.DateField(_("完成日期"), null=True, blank=True)
    # A form sent twice (a double tap, a retry) adds one row.
    client_key = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        verbose_name = _("办理事项")
        verbose_name_plural = _("办理事项")
        ordering = ["due_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "client_key"], condition=~Q(client_key=""),
                                    name="meeting_action_client_key"),
        ]

    def __str__(self) -> str:
        return self.title


class SupervisionNote(models.Model):
    """督: a supervisor's note on the progress."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="notes",
                                verbose_name=_("村民说事"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("督办人"))
    body = models.CharField(_("督办情况"), max_length=500)
    at = models.DateTimeField(_("时间"), default=timezone.now)
    # A form sent twice (a double tap, a retry) adds one row.
    client_key = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        verbose_name = _("督办记录")
        verbose_name_plural = _("督办记录")
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "client_key"], condition=~Q(client_key=""),
                                    name="supervision_note_client_key"),
        ]

    def __str__(self) -> str:
        return self.body[:20]


class Rating(models.TextChoices):
    SATISFIED = "satisfied", _("满意")
    FAIR = "fair", _("基本满意")
    UNSATISFIED = "unsatisfied", _("不满意")


class MeetingEvaluation(models.Model):
    """评: a verified resident of the area rates the outcome, once."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="evaluations",
                                verbose_name=_("村民说事"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
                             verbose_name=_("评价人"))
    rating = models.CharField(_("评价"), max_length=12, choices=Rating.choices)
    comment = models.CharField(_("意见"), max_length=300, blank=True, default="")
    at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("群众评价")
        verbose_name_plural = _("群众评价")
        constraints = [models.UniqueConstraint(fields=["meeting", "user"], name="meeting_evaluation_once")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.rating}"
