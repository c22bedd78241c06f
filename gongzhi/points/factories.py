"""Test and demo helpers: a township with the preset catalogue, a verified household, a village
administrator, a merchant with a shop and its items (used by the tests of every layer and by bench/)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from gongzhi.accounts.models import Membership, Role, User
from gongzhi.org.models import OrgUnit
from gongzhi.points.models import Account, RuleItem, Shop, ShopItem
from gongzhi.points.services import ledger, rules, shops
from gongzhi.registry.models import Household, Resident


@dataclass
class PointsWorld:
    town: OrgUnit
    village: OrgUnit
    household: Household
    head: Resident
    # The head's resident account (signed in by ID number + SMS code in the portal).
    resident_user: User
    account: Account
    village_admin: User
    dispatcher: User
    merchant: User
    shop: Shop
    item: ShopItem

    def rule(self, name_part: str) -> RuleItem:
        return RuleItem.objects.get(category__township=self.town, retired_at__isnull=True,
                                    name__contains=name_part)


def make_verified_resident(*, grid: OrgUnit, household: Household | None, username: str, name: str,
                           id_number: str, head: bool = True) -> tuple[Resident, User]:
    user = User.objects.create_user(username=username, kind=User.Kind.RESIDENT, real_name=name,
                                    id_number=id_number, phone="13900000000",
                                    confirmed_at=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC))
    Membership.objects.create(user=user, unit=grid, role=Role.RESIDENT)
    resident = Resident.objects.create(
        grid=grid, household=household, name=name, id_number=id_number, gender="F",
        birth_date=datetime.date(1968, 4, 12), user=user,
        relation=Resident.Relation.HEAD if head else Resident.Relation.SPOUSE)
    return resident, user


def make_points_world(tree: dict[str, OrgUnit], *, stock: int = 5, price: int = 10) -> PointsWorld:
    """On the org tree of `org.factories.make_tree`: 八里镇's preset catalogue, household H-P01 in
    小山村第1网格 headed by 王秀兰 (a verified resident account "wxl"), 小山村's administrator "cunguan",
    八里镇's dispatcher "zhen_disp", merchant "shanghu" managing 小山村爱心超市 with one item (大米5斤)."""
    town, village, grid = tree["town"], tree["village"], tree["grid"]
    rules.install_preset(actor=None, township=town)
    household = Household.objects.create(village=village, grid=grid, number="H-P01", address="小山村一社8号")
    head, resident_user = make_verified_resident(grid=grid, household=household, username="wxl", name="王秀兰",
                                                 id_number="621102196804123826")
    village_admin = _staff("cunguan", "李村官", village, Role.VILLAGE_ADMIN)
    dispatcher = _staff("zhen_disp", "张调度", town, Role.DISPATCHER)
    merchant = _staff("shanghu", "刘商户", town, Role.MERCHANT)
    shop = shops.create_shop(actor=None, unit=village, fields=shops.ShopFields(
        name="小山村爱心超市", kind=Shop.Kind.LOVE_SUPERMARKET, address="小山村村委会", hours="周一至周五 9:00-17:00"))
    shop.managers.set([merchant])
    item = shops.add_item(actor=None, shop=shop, fields=shops.ItemFields(name="大米5斤", price=price, stock=stock))
    return PointsWorld(town=town, village=village, household=household, head=head, resident_user=resident_user,
                       account=ledger.account_for_household(household), village_admin=village_admin,
                       dispatcher=dispatcher, merchant=merchant, shop=shop, item=item)


def _staff(username: str, name: str, unit: OrgUnit, role: str) -> User:
    user = User.objects.create_user(username=username, password="Gongzhi#2026", real_name=name,
                                    kind=User.Kind.STAFF)
    Membership.objects.create(user=user, unit=unit, role=role)
    return user
