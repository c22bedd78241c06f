"""红黑榜 (boards) and 建言献策 (suggestions): the tables these two kinds need beyond the publishing core.

A board is a `Publication` of kind "board" (one per period, e.g. 小山村2026年第四季度红黑榜) with a `Board` row
(the period it judges and how much the black list shows) and its `BoardEntry` rows on the red list (红榜) or
the black list (黑榜), each under a `BoardCriterion` of the village or the township. Residents may appeal
(申诉) an entry while the board is shown (`BoardAppeal`); an upheld appeal takes the entry off the board.

A suggestion is a `Publication` of kind "suggestion" written by a resident (status in_review until the village
publishes it or keeps it private) with a `Suggestion` row (its author, whether it may be made public, the
village's reply) and one `SuggestionSupport` per resident who supports it.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongzhi.org.models import OrgUnit
from gongzhi.publications.models.core import Publication


class BoardList(models.TextChoices):
    RED = "red", _("红榜")
    BLACK = "black", _("黑榜")


class BlackDisplay(models.TextChoices):
    """How much of a person the black list shows: what the villagers' meeting (村民会议) decided."""

    FULL = "full", _("公开姓名")
    SURNAME = "surname", _("仅显示姓氏（王某某）")
    HOUSEHOLD = "household", _("仅显示户号")
    COUNTS = "counts", _("仅公开各项人数")


class BoardCriterion(models.Model):
    """A 创评标准 of a village (or of a township, for all its villages): on which list, its name, what it means."""

    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("单位"))
    list = models.CharField(_("榜单"), max_length=5, choices=BoardList.choices)
    name = models.CharField(_("名称"), max_length=30)
    description = models.CharField(_("说明"), max_length=200, blank=True, default="")
    order = models.PositiveSmallIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("红黑榜标准")
        verbose_name_plural = _("红黑榜标准")
        ordering = ["list", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["unit", "list", "name"], name="board_criterion_unique")]

    def __str__(self) -> str:
        return f"{self.get_list_display()}·{self.name}"


class Board(models.Model):
    """A board's own settings (one per board publication, made with its first entry or setting)."""

    publication = models.OneToOneField(Publication, on_delete=models.CASCADE, related_name="board",
                                       verbose_name=_("红黑榜"))
    period_start = models.DateField(_("评选期开始"), null=True, blank=True)
    period_end = models.DateField(_("评选期结束"), null=True, blank=True)
    black_display = models.CharField(_("黑榜公开方式"), max_length=10, choices=BlackDisplay.choices,
                                     default=BlackDisplay.SURNAME)

    class Meta:
        verbose_name = _("红黑榜设置")
        verbose_name_plural = _("红黑榜设置")

    def __str__(self) -> str:
        return f"#{self.publication_id}"


class BoardEntry(models.Model):
    """One person or household on a board's red or black list, under a criterion, with the reason."""

    class Source(models.TextChoices):
        STAFF = "staff", _("村里提名")
        POINTS = "points", _("积分排名")
        CASE = "case", _("事件办理")

    publication = models.ForeignKey(Publication, on_delete=models.CASCADE, related_name="board_entries",
                                    verbose_name=_("红黑榜"))
    list = models.CharField(_("榜单"), max_length=5, choices=BoardList.choices)
    criterion = models.ForeignKey(BoardCriterion, on_delete=models.PROTECT, related_name="entries",
                                  verbose_name=_("标准"))
    # The name as written by the village (a person, or a household: 王秀兰家); masked on the black list.
    name = models.CharField(_("姓名/户名"), max_length=30)
    household = models.ForeignKey("registry.Household", on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="+", verbose_name=_("户"))
    household_number = models.CharField(_("户号"), max_length=30, blank=True, default="")
    reason = models.CharField(_("事由"), max_length=300)
    source = models.CharField(_("来源"), max_length=6, choices=Source.choices, default=Source.STAFF)
    # The nomination's origin: a points account or a case id ("" for the village's own).
    source_ref = models.CharField(max_length=40, blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("添加人"))
    created_at = models.DateTimeField(_("添加时间"), default=timezone.now)
    client_key = models.CharField(max_length=64, blank=True, default="")
    # Taken off (an appeal upheld, or removed from a draft is a delete): kept for the record, never shown.
    removed_at = models.DateTimeField(_("撤下时间"), null=True, blank=True)
    removed_reason = models.CharField(_("撤下原因"), max_length=300, blank=True, default="")

    class Meta:
        verbose_name = _("红黑榜条目")
        verbose_name_plural = _("红黑榜条目")
        ordering = ["list", "criterion__order", "criterion_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["publication", "client_key"], condition=~Q(client_key=""),
                                    name="board_entry_client_key"),
            models.UniqueConstraint(fields=["publication", "source", "source_ref"], condition=~Q(source_ref=""),
                                    name="board_entry_nominated_once"),
        ]

    def __str__(self) -> str:
        return f"{self.get_list_display()}·{self.name}"


class BoardAppeal(models.Model):
    """A resident's 申诉 against an entry, decided by the village: upheld (the entry comes off) or rejected."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待处理")
        UPHELD = "upheld", _("申诉成立")
        REJECTED = "rejected", _("申诉不成立")

    entry = models.ForeignKey(BoardEntry, on_delete=models.CASCADE, related_name="appeals", verbose_name=_("条目"))
    publication = models.ForeignKey(Publication, on_delete=models.CASCADE, related_name="+",
                                    verbose_name=_("红黑榜"))
    appellant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("申诉人"))
    reason = models.CharField(_("申诉理由"), max_length=500)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    decision = models.CharField(_("处理意见"), max_length=300, blank=True, default="")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("处理人"))
    decided_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("申诉时间"), default=timezone.now)

    class Meta:
        verbose_name = _("红黑榜申诉")
        verbose_name_plural = _("红黑榜申诉")
        ordering = ["created_at", "id"]
        constraints = [
            # One open appeal per resident and entry: a form sent twice files one.
            models.UniqueConstraint(fields=["entry", "appellant"], condition=Q(status="pending"),
                                    name="board_appeal_one_open"),
        ]

    def __str__(self) -> str:
        return f"#{self.entry_id} {self.status}"


class Suggestion(models.Model):
    """A resident's 建言献策: the publication holds its title and text; this row who wrote it, whether they
    allow it to be made public, and the village's reply."""

    class State(models.TextChoices):
        NEW = "new", _("待答复")
        REPLIED = "replied", _("已答复")

    publication = models.OneToOneField(Publication, on_delete=models.CASCADE, related_name="suggestion",
                                       verbose_name=_("建议"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("建议人"))
    village = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("村(社区)"))
    may_publish = models.BooleanField(_("可公开"), default=False)
    # The village decided to keep it private (only its staff and the author see it).
    kept_private = models.BooleanField(_("不公开"), default=False)
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.NEW)
    reply = models.TextField(_("答复"), blank=True, default="")
    replied_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("答复人"))
    replied_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    support_count = models.PositiveIntegerField(_("支持数"), default=0)

    class Meta:
        verbose_name = _("建言献策")
        verbose_name_plural = _("建言献策")

    def __str__(self) -> str:
        return f"#{self.publication_id}"


class SuggestionSupport(models.Model):
    """A resident supports (支持) a public suggestion, once."""

    publication = models.ForeignKey(Publication, on_delete=models.CASCADE, related_name="+",
                                    verbose_name=_("建议"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
                             verbose_name=_("支持人"))
    at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("建议支持")
        verbose_name_plural = _("建议支持")
        constraints = [models.UniqueConstraint(fields=["publication", "user"], name="suggestion_support_once")]

    def __str__(self) -> str:
        return f"{self.user_id} → #{self.publication_id}"
