"""Shops and their items: the village 爱心超市, alliance merchants and online shops; prices, stock, managers."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from gongzhi.accounts.models import Role, User
from gongzhi.core.errors import DomainError, Forbidden
from gongzhi.core.text import clean_text
from gongzhi.org.models import Level, OrgUnit
from gongzhi.points import policies
from gongzhi.points.models import Shop, ShopItem
from gongzhi.points.services import ledger

MAX_PRICE = 100_000
MAX_STOCK = 100_000


@dataclass(frozen=True)
class ShopFields:
    name: str
    kind: str
    address: str = ""
    phone: str = ""
    hours: str = ""
    is_active: bool = True


@dataclass(frozen=True)
class ItemFields:
    name: str
    price: int
    stock: int
    description: str = ""
    is_active: bool = True


def _clean_shop(fields: ShopFields) -> ShopFields:
    if fields.kind not in Shop.Kind.values:
        raise DomainError(_("请选择商铺类型。"), field="kind")
    return ShopFields(
        name=clean_text(fields.name, field="name", max_length=60, required_message=_("请填写商铺名称。")),
        kind=fields.kind, address=clean_text(fields.address, field="address", max_length=200),
        phone=clean_text(fields.phone, field="phone", max_length=20),
        hours=clean_text(fields.hours, field="hours", max_length=60), is_active=fields.is_active)


@transaction.atomic
def create_shop(*, actor: User | None, unit: OrgUnit, fields: ShopFields) -> Shop:
    """A shop of a township (alliance merchant, online shop) or of a village (its 爱心超市)."""
    if unit.level not in {Level.TOWNSHIP, Level.VILLAGE}:
        raise DomainError(_("商铺属于乡镇(街道)或村(社区)。"), field="unit")
    clean = _clean_shop(fields)
    village = unit if unit.level == Level.VILLAGE else None
    township = ledger.township_of(unit)
    shop = Shop(township=township, village=village, **clean.__dict__)
    if actor is not None and not policies.can_manage_shop(actor, shop):
        raise Forbidden(_("您不能在该单位开设商铺。"))
    same = Shop.objects.select_for_update().filter(township=township, village=village, name=clean.name).first()
    if same is not None:  # the same form sent again answers with the shop it opened
        if all(getattr(same, name) == value for name, value in clean.__dict__.items()):
            return same
        raise DomainError(_("已有同名商铺“%(name)s”。") % {"name": clean.name}, field="name", code="duplicate")
    shop.save()
    ledger.shop_account(shop)
    return shop


@transaction.atomic
def update_shop(*, actor: User | None, shop: Shop, fields: ShopFields) -> Shop:
    shop = Shop.objects.select_for_update().get(pk=shop.pk)
    if actor is not None and not policies.can_manage_shop(actor, shop):
        raise Forbidden(_("您不能修改该商铺。"))
    for name, value in _clean_shop(fields).__dict__.items():
        setattr(shop, name, value)
    shop.save()
    return shop


@transaction.atomic
def set_managers(*, actor: User | None, shop: Shop, managers: list[User]) -> Shop:
    """The shop's 商铺管理员: merchant accounts of its township (or staff of its village, for a 爱心超市)."""
    if actor is not None and not policies.can_manage_shop(actor, shop):
        raise Forbidden(_("您不能修改该商铺。"))
    for user in managers:
        posts = user.memberships.filter(is_active=True, unit__path__startswith=shop.township.path)
        if not posts.filter(role__in=[Role.MERCHANT, Role.VILLAGE_ADMIN, Role.VILLAGE_STATION]).exists():
            raise DomainError(_("“%(name)s”不是本乡镇的商户或村级管理员账号。") % {"name": str(user)},
                              field="managers")
    shop.managers.set(managers)
    return shop


def _clean_item(fields: ItemFields, *, reserved: int = 0) -> ItemFields:
    name = clean_text(fields.name, field="name", max_length=60, required_message=_("请填写商品名称。"))
    description = clean_text(fields.description, field="description", max_length=200)
    if not 1 <= fields.price <= MAX_PRICE:
        raise DomainError(_("所需积分须为1到%(n)d之间的整数。") % {"n": MAX_PRICE}, field="price")
    if not 0 <= fields.stock <= MAX_STOCK:
        raise DomainError(_("库存须为0到%(n)d之间的整数。") % {"n": MAX_STOCK}, field="stock")
    if fields.stock < reserved:
        raise DomainError(_("已有%(n)d件被兑换待领取，库存不能少于%(n)d。") % {"n": reserved}, field="stock")
    return ItemFields(name=name, price=fields.price, stock=fields.stock, description=description,
                      is_active=fields.is_active)


@transaction.atomic
def add_item(*, actor: User | None, shop: Shop, fields: ItemFields) -> ShopItem:
    if actor is not None and not policies.can_manage_shop(actor, shop):
        raise Forbidden(_("您不能修改该商铺。"))
    clean = _clean_item(fields)
    Shop.objects.select_for_update().filter(pk=shop.pk).first()  # one adding at a time
    same = ShopItem.objects.filter(shop=shop, name=clean.name).first()
    if same is not None:  # the same form sent again answers with the item it added
        if all(getattr(same, name) == value for name, value in clean.__dict__.items()):
            return same
        raise DomainError(_("本店已有商品“%(name)s”，请修改该商品。") % {"name": clean.name}, field="name",
                          code="duplicate")
    return ShopItem.objects.create(shop=shop, **clean.__dict__)


@transaction.atomic
def update_item(*, actor: User | None, item: ShopItem, fields: ItemFields) -> ShopItem:
    """Change an item; its price applies to new redemptions only (a held one keeps the points it held)."""
    item = ShopItem.objects.select_for_update().select_related("shop").get(pk=item.pk)
    if actor is not None and not policies.can_manage_shop(actor, item.shop):
        raise Forbidden(_("您不能修改该商铺。"))
    for name, value in _clean_item(fields, reserved=item.reserved).__dict__.items():
        setattr(item, name, value)
    item.save()
    return item
