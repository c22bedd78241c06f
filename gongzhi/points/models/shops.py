"""Shops (M19): the village 爱心超市, the township's alliance merchants (积分兑换联盟) and online 换购商铺; their
items with point prices and stock; redemptions.

A redemption holds the points (household → the township's hold account) and one unit of stock
(`reserved`), and is shown as a signed QR code and a 6-digit code. The merchant's scan captures it once: the
points go to the shop's account and the stock leaves the shelf. A cancel or the expiry releases both.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from gongzhi.core.models import TimeStampedModel
from gongzhi.org.models import OrgUnit
from gongzhi.points.models.ledger import Account


class Shop(TimeStampedModel):
    class Kind(models.TextChoices):
        LOVE_SUPERMARKET = "supermarket", _("爱心超市")
        ALLIANCE = "alliance", _("积分兑换联盟商家")
        ONLINE = "online", _("线上换购商铺")

    township = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("乡镇(街道)"))
    # A village's own shop (its 爱心超市); empty for a merchant serving the whole township.
    village = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                verbose_name=_("村(社区)"))
    path = models.CharField(max_length=255, db_index=True, editable=False)
    kind = models.CharField(_("类型"), max_length=15, choices=Kind.choices)
    name = models.CharField(_("商铺名称"), max_length=60)
    address = models.CharField(_("地址"), max_length=200, blank=True, default="")
    phone = models.CharField(_("联系电话"), max_length=20, blank=True, default="")
    hours = models.CharField(_("营业时间"), max_length=60, blank=True, default="")
    # 商铺管理员: the merchant accounts that scan and confirm pickups here.
    managers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="managed_shops",
                                      verbose_name=_("商铺管理员"))
    is_active = models.BooleanField(_("营业中"), default=True)

    class Meta:
        verbose_name = _("积分商铺")
        verbose_name_plural = verbose_name
        ordering = ["kind", "name", "id"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.path = (self.village or self.township).path
        super().save(*args, **kwargs)


class ShopItem(TimeStampedModel):
    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="items", verbose_name=_("商铺"))
    name = models.CharField(_("商品名称"), max_length=60)
    description = models.CharField(_("说明"), max_length=200, blank=True, default="")
    price = models.PositiveIntegerField(_("所需积分"))
    # On the shelf; `reserved` of them are held for redemptions not yet picked up.
    stock = models.PositiveIntegerField(_("库存"))
    reserved = models.PositiveIntegerField(_("已预留"), default=0, editable=False)
    is_active = models.BooleanField(_("上架"), default=True)

    class Meta:
        verbose_name = _("兑换商品")
        verbose_name_plural = verbose_name
        ordering = ["price", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(reserved__lte=models.F("stock")),
                                   name="points_item_reserved_within_stock"),
            models.CheckConstraint(condition=models.Q(price__gt=0), name="points_item_price_positive"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def available(self) -> int:
        return self.stock - self.reserved


class Redemption(TimeStampedModel):
    class Status(models.TextChoices):
        HELD = "held", _("待领取")
        CAPTURED = "captured", _("已领取")
        CANCELLED = "cancelled", _("已取消")
        EXPIRED = "expired", _("已过期")

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="redemptions",
                                verbose_name=_("积分账户"))
    redeemer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("兑换人"))
    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="redemptions", verbose_name=_("商铺"))
    item = models.ForeignKey(ShopItem, on_delete=models.PROTECT, related_name="redemptions",
                             verbose_name=_("商品"))
    quantity = models.PositiveSmallIntegerField(_("数量"), default=1)
    points = models.PositiveIntegerField(_("积分"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.HELD)
    # In the signed token: a new redemption of the same id cannot exist, but a token must name this one.
    nonce = models.CharField(max_length=32, editable=False)
    # The 6-digit fallback code, unique among the shop's redemptions waiting for pickup.
    code = models.CharField(_("兑换码"), max_length=6)
    expires_at = models.DateTimeField(_("有效期至"))
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    captured_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("核销人"))
    client_key = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        verbose_name = _("积分兑换")
        verbose_name_plural = verbose_name
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "code"], condition=models.Q(status="held"),
                                    name="points_redemption_code_unique_while_held"),
            models.UniqueConstraint(fields=["redeemer", "client_key"], condition=~models.Q(client_key=""),
                                    name="points_redemption_client_key"),
        ]
        indexes = [models.Index(fields=["status", "expires_at"], name="points_redemption_expiry")]

    def __str__(self) -> str:
        return f"{self.item} × {self.quantity}"
