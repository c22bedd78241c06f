"""The ledger (道德储蓄银行, DESIGN.md §5): accounts and their append-only, hash-chained double entries.

Every movement is two `LedgerEntry` rows with the same source (type, id), one taking points from an account
and one giving them to another; the pair sums to zero. The source plus the account is unique, so posting
the same movement again credits nothing twice. Only `points.services.ledger.post` writes entries.

Each entry also has its place in one chain (`seq` 1, 2, 3 …) and a hash over its content and the previous
entry's hash; `LedgerHead` keeps the last place and hash. Posting locks the head, so places are given in
commit order. `points.selectors.integrity.verify_ledger` recomputes the chain, the pairs and the cached
balances, and names the first entry that does not match (an edit made in the database).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from gongzhi.org.models import OrgUnit

GENESIS_HASH = "0" * 64


class Account(models.Model):
    """Where points are: a household's (or a resident's without a household here), a village's issuing
    account (its balance is minus what it has issued, net), a township's hold for pending redemptions, a
    shop's takings."""

    class Kind(models.TextChoices):
        HOUSEHOLD = "household", _("户积分账户")
        RESIDENT = "resident", _("个人积分账户")
        ISSUE = "issue", _("村积分发放账户")
        HOLD = "hold", _("兑换冻结账户")
        SHOP = "shop", _("商铺收兑账户")

    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    # The village of a household, resident or issuing account; the township of a hold; the shop's unit.
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("单位"))
    path = models.CharField(max_length=255, db_index=True, editable=False)
    household = models.OneToOneField("registry.Household", on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="points_account", verbose_name=_("户"))
    resident = models.OneToOneField("registry.Resident", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="points_account", verbose_name=_("居民"))
    shop = models.OneToOneField("points.Shop", on_delete=models.PROTECT, null=True, blank=True,
                                related_name="account", verbose_name=_("商铺"))
    # The sum of the account's entries, kept in the same transaction; `verify_ledger` proves it.
    balance = models.BigIntegerField(_("余额"), default=0)

    class Meta:
        verbose_name = _("积分账户")
        verbose_name_plural = verbose_name
        constraints = [
            # Only an issuing account goes below zero (it is where points come from).
            models.CheckConstraint(condition=models.Q(balance__gte=0) | models.Q(kind="issue"),
                                   name="points_account_balance_not_negative"),
            models.UniqueConstraint(fields=["kind", "unit"], condition=models.Q(kind__in=["issue", "hold"]),
                                    name="points_account_one_issue_or_hold_per_unit"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    def save(self, *args: object, **kwargs: object) -> None:
        self.path = self.unit.path
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class SourceType(models.TextChoices):
    """What a movement comes from; with the source's id and the account, the entry's idempotency key."""

    AWARD = "award", _("积分给予/扣减")
    HOLD = "hold", _("兑换冻结")
    CAPTURE = "capture", _("兑换领取")
    RELEASE = "release", _("兑换释放")


class LedgerEntry(models.Model):
    """One side of a movement. Never updated or deleted; a correction is a new movement."""

    seq = models.PositiveBigIntegerField(_("序号"), unique=True)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries", verbose_name=_("账户"))
    amount = models.BigIntegerField(_("积分"))
    source_type = models.CharField(_("来源"), max_length=10, choices=SourceType.choices)
    source_id = models.PositiveBigIntegerField(_("来源编号"))
    memo = models.CharField(_("摘要"), max_length=200)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+", verbose_name=_("操作人"))
    created_at = models.DateTimeField(_("时间"))
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("积分流水")
        verbose_name_plural = verbose_name
        constraints = [
            models.UniqueConstraint(fields=["source_type", "source_id", "account"], name="points_entry_idempotency"),
            models.CheckConstraint(condition=~models.Q(amount=0), name="points_entry_amount_nonzero"),
        ]
        indexes = [models.Index(fields=["account", "seq"], name="points_entry_account_seq")]

    def __str__(self) -> str:
        return f"{self.seq} {self.account_id} {self.amount:+d}"


def entry_hash(*, prev_hash: str, seq: int, account_id: int, amount: int, source_type: str, source_id: int,
               memo: str, actor_id: int | None, created_at: datetime) -> str:
    """The chain hash of an entry: SHA-256 over its fields and the previous entry's hash, in a fixed text form
    (the time in UTC to the microsecond, as both databases store it)."""
    moment = created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    text = "\x1f".join([prev_hash, str(seq), str(account_id), str(amount), source_type, str(source_id), memo,
                        "" if actor_id is None else str(actor_id), moment])
    return hashlib.sha256(text.encode()).hexdigest()


class LedgerHead(models.Model):
    """The chain's end (one row): the last entry's place and hash. Locked by every posting."""

    last_seq = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default=GENESIS_HASH)

    class Meta:
        verbose_name = _("积分流水链")
        verbose_name_plural = verbose_name

    def __str__(self) -> str:
        return f"{self.last_seq} {self.last_hash[:12]}"


class LedgerCheck(models.Model):
    """The result of a full check of the ledger (the command, or the nightly task)."""

    started_at = models.DateTimeField(_("开始时间"))
    seconds = models.FloatField(_("用时(秒)"))
    entries = models.PositiveBigIntegerField(_("流水条数"))
    ok = models.BooleanField(_("结果正常"))
    problems = models.JSONField(_("发现的问题"), default=list)

    class Meta:
        verbose_name = _("账本核验记录")
        verbose_name_plural = verbose_name
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} {'ok' if self.ok else 'broken'}"
