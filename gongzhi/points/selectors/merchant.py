"""Reads for the merchant's pages (商户核销): the shops a user manages, a shop's pickups today, how many of its
redemptions wait for pickup. Every read is given the user; a shop they do not manage (another merchant's, an
inactive one, any shop for a resident or staff member without it) is NotFound, so shop ids cannot be probed.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from gongzhi.accounts import policies as account_policies
from gongzhi.accounts.models import Role, User
from gongzhi.core.errors import NotFound
from gongzhi.points import policies
from gongzhi.points.models import Redemption, Shop

PICKUPS_SHOWN = 20


@dataclass(frozen=True)
class Pickup:
    """A captured redemption as the merchant sees it: what went over the counter, to whom (masked)."""

    redemption_id: int
    item: str
    quantity: int
    points: int
    resident: str
    captured_at: datetime.datetime


@dataclass(frozen=True)
class ShopDesk:
    """A shop's 核销 page: the shop, its last pickups today (newest first) and how many there were today, the
    redemptions waiting."""

    shop: Shop
    pickups: list[Pickup]
    today: int
    waiting: int


def mask_name(name: str) -> str:
    """王秀兰 → 王*兰, 王兰 → 王*: enough for the merchant to match the person at the counter, no more."""
    name = (name or "").strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def is_merchant(user: User) -> bool:
    """A 商户 account, or anyone who manages an open shop: the resident portal sends them to their shop."""
    if not user.is_authenticated:
        return False
    return Role.MERCHANT in account_policies.roles_of(user) or Shop.objects.filter(
        policies.shops_managed_q(user)).exists()


def shops_managed(user: User) -> list[Shop]:
    """The open shops the user scans codes for, by name."""
    return list(Shop.objects.filter(policies.shops_managed_q(user)).select_related("township", "village")
                .distinct().order_by("name", "id"))


def managed_shop(user: User, shop_id: int) -> Shop:
    """One of the user's shops, or NotFound."""
    shop = (Shop.objects.filter(policies.shops_managed_q(user), pk=shop_id).select_related("township", "village")
            .distinct().first())
    if shop is None:
        raise NotFound()
    return shop


def _today_start() -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(timezone.localdate(), datetime.time.min))


# The register's name where the redeemer is linked to it, else the account's.
_PICKUP_COLUMNS = ("pk", "item__name", "quantity", "points", "redeemer__resident_record__name",
                   "redeemer__real_name", "ended_at")
_PickupRow = tuple[int, str, int, int, str | None, str, datetime.datetime]


def _as_pickup(row: _PickupRow) -> Pickup:
    pk, item, quantity, points, record_name, real_name, ended_at = row
    return Pickup(redemption_id=pk, item=item, quantity=quantity, points=points,
                  resident=mask_name(record_name or real_name), captured_at=ended_at)


def _captured(shop: Shop) -> QuerySet[Redemption]:
    return Redemption.objects.filter(shop=shop, status=Redemption.Status.CAPTURED)


def _captured_today(shop: Shop) -> QuerySet[Redemption]:
    return _captured(shop).filter(ended_at__gte=_today_start())


def _waiting(shop: Shop) -> int:
    return Redemption.objects.filter(shop=shop, status=Redemption.Status.HELD,
                                     expires_at__gt=timezone.now()).count()


def shop_desk(user: User, shop_id: int) -> ShopDesk:
    shop = managed_shop(user, shop_id)
    today = _captured_today(shop)
    pickups = [_as_pickup(row) for row in
               today.order_by("-ended_at", "-id").values_list(*_PICKUP_COLUMNS)[:PICKUPS_SHOWN]]
    count = len(pickups) if len(pickups) < PICKUPS_SHOWN else today.count()
    return ShopDesk(shop=shop, pickups=pickups, today=count, waiting=_waiting(shop))


def waiting_count(user: User, shop_id: int) -> int:
    """Redemptions of the shop held and not yet expired: what residents may still come to pick up."""
    return _waiting(managed_shop(user, shop_id))


def pickup(user: User, shop_id: int, redemption_id: int) -> Pickup | None:
    """A redemption captured at the user's shop, for the page that confirms the pickup; None for any other
    (waiting, ended otherwise, another shop's)."""
    row = _captured(managed_shop(user, shop_id)).filter(pk=redemption_id).values_list(*_PICKUP_COLUMNS).first()
    return _as_pickup(row) if row is not None else None
