"""What a resident reads of the points economy on their own pages: their standing, their ledger entries, the
catalogue of their village, their claims and redemptions, the shops they may use.

Every read is given the signed-in user and answers only with what is theirs: another resident's claim or
redemption is `NotFound`, as is a missing one, so ids cannot be probed. An unverified account (no registry
record) has no account and sees no catalogue; the pages explain how to get verified instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from gongzhi.accounts.models import User
from gongzhi.accounts.selectors import registry_record
from gongzhi.core.errors import NotFound
from gongzhi.org.models import OrgUnit
from gongzhi.points.models import (
    Account,
    Award,
    Claim,
    EvidencePhoto,
    LedgerEntry,
    Redemption,
    RuleCategory,
    RuleItem,
    Shop,
    ShopItem,
    SourceType,
)
from gongzhi.points.selectors import accounts
from gongzhi.points.services import ledger
from gongzhi.registry.models import Resident

STAR_COUNT = 10


@dataclass(frozen=True)
class Member:
    """Who the signed-in resident is in the points economy: their registry record, the village whose
    catalogue and 爱心超市 are theirs, and the account their points go to (the household's)."""

    resident: Resident
    village: OrgUnit
    account: Account

    @property
    def may_act(self) -> bool:
        """Only residents on the register (在册) apply for points and redeem them (as the services require)."""
        return self.resident.status == Resident.Status.ACTIVE


def member(user: User) -> Member | None:
    """The resident's place in the points economy, or None for an account not linked to the register."""
    if not user.is_authenticated:
        return None
    resident = registry_record(user)
    if resident is None:
        return None
    account = ledger.account_for_resident(resident)
    return Member(resident=resident, village=account.unit, account=account)


# 我的积分 --------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Overview:
    member: Member
    standing: accounts.Standing
    # Ten marks, True for each star earned (十星等级).
    stars: list[bool]
    open_claims: int
    held_redemptions: int


def overview(user: User, member: Member) -> Overview:
    standing = accounts.standing(member.account)
    return Overview(
        member=member, standing=standing,
        stars=[n < standing.stars for n in range(STAR_COUNT)],
        open_claims=Claim.objects.filter(claimant=user, status__in=[Claim.Status.SUBMITTED,
                                                                   Claim.Status.MORE_NEEDED]).count(),
        held_redemptions=Redemption.objects.filter(redeemer=user, status=Redemption.Status.HELD).count())


# 积分明细 --------------------------------------------------------------------------------------------------------

def history(member: Member) -> QuerySet[LedgerEntry]:
    """The entries of the resident's account, newest first (the caller pages them)."""
    return accounts.history(member.account)


def award_reasons(entries: Sequence[LedgerEntry]) -> dict[int, str]:
    """The reason (事由) of each award among `entries` (by entry id), read in one query for the page shown."""
    award_ids = {e.source_id: e.pk for e in entries if e.source_type == SourceType.AWARD}
    if not award_ids:
        return {}
    reasons = Award.objects.filter(pk__in=list(award_ids)).values_list("pk", "reason")
    by_award = dict(reasons)
    return {e.pk: by_award[e.source_id] for e in entries
            if e.source_type == SourceType.AWARD and by_award.get(e.source_id)}


# 积分细则 --------------------------------------------------------------------------------------------------------

@dataclass
class CatalogueGroup:
    category: RuleCategory
    items: list[RuleItem] = field(default_factory=list)


def _catalogue_q(village: OrgUnit) -> Q:
    """The live items of the village's catalogue: its township's (any item whose township lies above the
    village) and the village's own (as `services.awards._item_applies` decides)."""
    return (Q(retired_at__isnull=True, category__is_active=True)
            & (Q(category__village=village)
               | Q(category__village__isnull=True, category__township__path__in=village.ancestor_paths())))


def catalogue(member: Member) -> list[CatalogueGroup]:
    """积分细则 of the resident's village: the live version of every item, deductions too (they are rules
    residents should know), grouped by category: the township's categories first, then the village's own."""
    items = (RuleItem.objects.filter(_catalogue_q(member.village)).select_related("category")
             .order_by(F("category__village").asc(nulls_first=True), "category__order", "category_id", "order", "id"))
    groups: dict[int, CatalogueGroup] = {}
    for item in items:
        groups.setdefault(item.category_id, CatalogueGroup(category=item.category)).items.append(item)
    return list(groups.values())


def pending_lineages(member: Member) -> set[int]:
    """The items (by lineage) the household has an application for under review: applying again is refused."""
    return {lineage for lineage in Claim.objects.filter(
        account=member.account, status__in=[Claim.Status.SUBMITTED, Claim.Status.MORE_NEEDED],
    ).values_list("rule_item__lineage", flat=True) if lineage is not None}


def claimable_item(member: Member, item_id: int) -> RuleItem:
    """A live item of the village's catalogue that residents may apply for, else NotFound."""
    item = (RuleItem.objects.filter(_catalogue_q(member.village), claimable=True, points__gt=0, pk=item_id)
            .select_related("category").first())
    if item is None:
        raise NotFound()
    return item


# 我的申请 --------------------------------------------------------------------------------------------------------

def my_claims(user: User) -> QuerySet[Claim]:
    return (Claim.objects.filter(claimant=user).select_related("rule_item", "rule_item__category")
            .order_by("-created_at", "-id"))


def my_claim(user: User, claim_id: int) -> Claim:
    """The user's own claim; NotFound for a missing one and for anyone else's alike."""
    claim = my_claims(user).select_related("award").filter(pk=claim_id).first()
    if claim is None:
        raise NotFound()
    return claim


def claim_photos(claim: Claim) -> list[EvidencePhoto]:
    """The photos of a claim the caller has already read through `my_claim`."""
    return list(EvidencePhoto.objects.filter(claim=claim).order_by("id"))


# 积分商城 --------------------------------------------------------------------------------------------------------

def _may_buy_at(resident: Resident, shop: Shop) -> bool:
    """A village's 爱心超市 serves its own villagers; a township's merchants the whole township (the same rule
    as `services.redemptions._may_buy_at`, which the hold checks again)."""
    grid_path = resident.grid.path
    unit = shop.village if shop.village is not None else shop.township
    return grid_path.startswith(unit.path)


@dataclass
class ShopOffer:
    shop: Shop
    items: list[ShopItem] = field(default_factory=list)


def shops(member: Member) -> list[ShopOffer]:
    """The open shops the resident may use, each with its items on sale (those sold out too, marked by their
    `available`): the village's own first, then the township's."""
    grid = member.resident.grid
    candidates = (Shop.objects.filter(is_active=True, path__in=[*grid.ancestor_paths(), grid.path])
                  .select_related("village", "township")
                  .order_by(F("village").asc(nulls_last=True), "kind", "name", "id"))
    offers = {shop.pk: ShopOffer(shop=shop) for shop in candidates if _may_buy_at(member.resident, shop)}
    for item in ShopItem.objects.filter(shop_id__in=list(offers), is_active=True).order_by("price", "id"):
        offers[item.shop_id].items.append(item)
    return list(offers.values())


def shop_item(member: Member, item_id: int) -> ShopItem:
    """An item on sale in a shop the resident may use, else NotFound."""
    item = (ShopItem.objects.filter(pk=item_id, is_active=True, shop__is_active=True)
            .select_related("shop", "shop__village", "shop__township").first())
    if item is None or not _may_buy_at(member.resident, item.shop):
        raise NotFound()
    return item


# 我的兑换 --------------------------------------------------------------------------------------------------------

def my_redemptions(user: User) -> QuerySet[Redemption]:
    return (Redemption.objects.filter(redeemer=user).select_related("shop", "item")
            .order_by("-created_at", "-id"))


def my_redemption(user: User, redemption_id: int) -> Redemption:
    """The user's own redemption (only the redeemer sees its code); NotFound for anyone else's."""
    redemption = my_redemptions(user).filter(pk=redemption_id).first()
    if redemption is None:
        raise NotFound()
    return redemption


def is_waiting(redemption: Redemption) -> bool:
    """Held and not yet past its expiry (the sweep may not have released it yet): its code may be shown."""
    return redemption.status == Redemption.Status.HELD and redemption.expires_at > timezone.now()
