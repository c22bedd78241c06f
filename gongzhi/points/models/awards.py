"""Claims (积分申请, M18) and awards: every change of a household's earned points is one `Award`.

An award comes from an approved claim, from an administrator directly (给予 or 扣分, with a reason and
evidence), from an event elsewhere (a resident's report closed), or reverses an earlier award (a correction).
Its ledger movement is sourced ("award", award.id). A deduction larger than the balance books what there is
(`booked`), since balances never go negative; `points` keeps the rule's full value, which the stars count.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from gongzhi.core.models import TimeStampedModel
from gongzhi.org.models import OrgUnit
from gongzhi.points.models.ledger import Account
from gongzhi.points.models.rules import RuleItem


class Claim(TimeStampedModel):
    """A resident's application for a catalogue item, with a note and photos, reviewed in their village."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("待审核")
        MORE_NEEDED = "more_needed", _("待补充材料")
        APPROVED = "approved", _("已通过")
        REJECTED = "rejected", _("未通过")
        WITHDRAWN = "withdrawn", _("已撤回")

    claimant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("申请人"))
    resident = models.ForeignKey("registry.Resident", on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("居民"))
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="claims", verbose_name=_("积分账户"))
    village = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("村(社区)"))
    path = models.CharField(max_length=255, db_index=True, editable=False)
    rule_item = models.ForeignKey(RuleItem, on_delete=models.PROTECT, related_name="claims",
                                  verbose_name=_("积分事项"))
    note = models.CharField(_("事迹说明"), max_length=500)
    status = models.CharField(_("状态"), max_length=15, choices=Status.choices, default=Status.SUBMITTED)
    review_note = models.CharField(_("审核意见"), max_length=200, blank=True, default="")
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("审核人"))
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    # The form's one-time key: the same application sent twice is answered with the first.
    client_key = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        verbose_name = _("积分申请")
        verbose_name_plural = verbose_name
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["claimant", "client_key"], condition=~models.Q(client_key=""),
                                    name="points_claim_client_key"),
        ]
        indexes = [models.Index(fields=["status", "path"], name="points_claim_status_path")]

    def __str__(self) -> str:
        return f"{self.rule_item} #{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in {self.Status.SUBMITTED, self.Status.MORE_NEEDED}


class Award(models.Model):
    """Points given to (or taken from) an account under a rule, once; see the module text."""

    class Origin(models.TextChoices):
        CLAIM = "claim", _("群众申请")
        DIRECT = "direct", _("管理员给予")
        EVENT = "event", _("自动给予")
        CORRECTION = "correction", _("更正")

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="awards", verbose_name=_("积分账户"))
    village = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("村(社区)"))
    path = models.CharField(max_length=255, db_index=True, editable=False)
    rule_item = models.ForeignKey(RuleItem, on_delete=models.PROTECT, related_name="awards",
                                  verbose_name=_("积分事项"))
    origin = models.CharField(_("来源"), max_length=10, choices=Origin.choices)
    points = models.IntegerField(_("分值"))
    booked = models.IntegerField(_("实际记账"))
    reason = models.CharField(_("事由"), max_length=200)
    claim = models.OneToOneField(Claim, on_delete=models.PROTECT, null=True, blank=True, related_name="award",
                                 verbose_name=_("申请"))
    reverses = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="reversed_by", verbose_name=_("更正的记录"))
    # What gave it, once: "case:12" for an event, "direct:<user>:<form key>" for an administrator's form.
    source_key = models.CharField(max_length=80, null=True, blank=True, unique=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+", verbose_name=_("操作人"))
    created_at = models.DateTimeField(_("时间"), db_index=True)

    class Meta:
        verbose_name = _("积分记录")
        verbose_name_plural = verbose_name
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["account", "created_at"], name="points_award_account_time")]

    def __str__(self) -> str:
        return f"{self.rule_item} {self.points:+d}"


class EvidencePhoto(models.Model):
    """A photo of a claim (the resident's) or of a direct award (the administrator's evidence)."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, null=True, blank=True, related_name="photos")
    award = models.ForeignKey(Award, on_delete=models.CASCADE, null=True, blank=True, related_name="photos")
    file = models.FileField(_("文件"), upload_to="points/%Y/%m/")
    thumbnail = models.FileField(_("缩略图"), upload_to="points/%Y/%m/thumbs/", blank=True, default="")
    content_type = models.CharField(max_length=50)
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("积分佐证照片")
        verbose_name_plural = verbose_name
        indexes = [models.Index(fields=["file"], name="points_photo_file")]
        constraints = [
            models.CheckConstraint(condition=models.Q(claim__isnull=False) | models.Q(award__isnull=False),
                                   name="points_photo_has_owner"),
        ]

    def __str__(self) -> str:
        return str(self.file)
