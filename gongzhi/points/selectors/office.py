"""Reads of the points office (积分审核, 村积分台账): the claims a village administrator or a township dispatcher
reviews, a claim with what the reviewer needs beside it, a village's households with their points and stars, a
household's awards and ledger; the items an administrator may give or deduct there.

Every function is given the user and filters with `points.policies` (`viewable_q` for seeing, `reviewable_q` and
`award_paths` for acting), so a list and the checks of the services cannot drift apart. Anything outside the
user's view answers NotFound, never Forbidden, so ids cannot be probed.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from gongzhi.accounts.models import User
from gongzhi.core.errors import NotFound
from gongzhi.org.models import Level, OrgUnit, UnitKind
from gongzhi.points import policies
from gongzhi.points.models import Account, Award, Awarder, Claim, LedgerEntry, RuleItem, StarScale
from gongzhi.points.selectors import accounts
from gongzhi.points.services import awards as award_services
from gongzhi.registry.models import Household, Resident

# The statuses the queue filters by (a withdrawn claim is the resident's own business).
QUEUE_STATUSES = (Claim.Status.SUBMITTED, Claim.Status.MORE_NEEDED, Claim.Status.APPROVED, Claim.Status.REJECTED)
OPEN_STATUSES = (Claim.Status.SUBMITTED, Claim.Status.MORE_NEEDED)
SORTS = ("number", "stars", "balance")


# The review queue ----------------------------------------------------------------------------------------------

def may_review_anything(user: User) -> bool:
    return policies.may_award_anywhere(user)


def pending_review_count(user: User) -> int:
    """Claims waiting for the user's decision (待审核): the number on the portal's 积分审核 link (0 without a
    query for someone who reviews nothing: the filter is empty)."""
    return Claim.objects.filter(status=Claim.Status.SUBMITTED).filter(policies.reviewable_q(user)).count()


def office_villages(user: User) -> list[OrgUnit]:
    """The villages whose claims and accounts the user sees, in tree order."""
    return list(OrgUnit.objects.filter(level=Level.VILLAGE, kind=UnitKind.AREA, is_active=True)
                .filter(policies.viewable_q(user)).select_related("parent").order_by("path"))


def village_for(user: User, village_id: int) -> OrgUnit:
    village = OrgUnit.objects.filter(pk=village_id, level=Level.VILLAGE, kind=UnitKind.AREA).first()
    if village is None or not policies.can_view_village(user, village):
        raise NotFound()
    return village


def claim_queue(user: User, *, status: str = Claim.Status.SUBMITTED, village: OrgUnit | None = None,
                mine: bool = True) -> QuerySet[Claim]:
    """The claims of `status` the user may review (`mine`), or all they may see; open ones oldest first (the
    order they came in), decided ones the latest decision first."""
    claims = Claim.objects.filter(policies.viewable_q(user))
    if mine:
        claims = claims.filter(policies.reviewable_q(user))
    if status in QUEUE_STATUSES:
        claims = claims.filter(status=status)
    else:
        claims = claims.filter(status__in=QUEUE_STATUSES)
    if village is not None:
        claims = claims.filter(village=village)
    order = ["created_at", "id"] if status in OPEN_STATUSES else ["-reviewed_at", "-id"]
    return (claims.select_related("resident", "resident__household", "village", "rule_item",
                                  "rule_item__category", "reviewed_by")
            .annotate(photo_count=Count("photos")).order_by(*order))


# A claim -------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ClaimPage:
    claim: Claim
    photos: list[Any]
    standing: accounts.Standing
    # Earlier awards of the same item (any version) to the same account, newest first.
    earlier: list[Award]
    # Awards of the item counted against its cap in the current period (what approving would add to).
    cap_used: int
    may_review: bool


def claim_for(user: User, claim_id: int) -> Claim:
    claim = (Claim.objects.filter(policies.viewable_q(user)).filter(pk=claim_id)
             .select_related("resident", "resident__household", "resident__grid", "account", "village",
                             "rule_item", "rule_item__category", "reviewed_by", "claimant").first())
    if claim is None:
        raise NotFound()
    return claim


def claim_page(user: User, claim_id: int) -> ClaimPage:
    claim = claim_for(user, claim_id)
    earlier = list(Award.objects.filter(account=claim.account, rule_item__lineage=claim.rule_item.lineage)
                   .exclude(claim=claim).select_related("rule_item", "actor", "reversed_by", "reverses")
                   .order_by("-created_at", "-id")[:20])
    return ClaimPage(
        claim=claim, photos=list(claim.photos.order_by("id")), standing=accounts.standing(claim.account),
        earlier=earlier,
        cap_used=award_services._counted_awards(claim.account, claim.rule_item, timezone.now()),
        may_review=policies.can_review(user, claim) and claim.status == Claim.Status.SUBMITTED)


# A village's ledger (村积分台账) ---------------------------------------------------------------------------------

def _earned_since(basis: str) -> datetime.datetime | None:
    if basis != StarScale.Basis.YEAR:
        return None
    return timezone.make_aware(datetime.datetime(timezone.localdate().year, 1, 1))


def _earned_subquery(account_ref: str, since: datetime.datetime | None) -> Coalesce:
    awards = Award.objects.filter(account=OuterRef(account_ref))
    if since is not None:
        awards = awards.filter(created_at__gte=since)
    total = awards.order_by().values("account").annotate(s=Sum("points")).values("s")
    return Coalesce(Subquery(total, output_field=IntegerField()), Value(0))


def village_ledger(user: User, village: OrgUnit, *, q: str = "", sort: str = "number") -> QuerySet[Any]:
    """Every household of the village, and every personal account there (a resident without a household here),
    as rows of values: h_id, r_id, a_id, hh_number, person, pts_balance (and pts_earned when sorted by stars).
    `q` finds a 户号 or the head's (the person's) name; sorted by 户号, by stars (points earned) or by balance,
    the largest first. One query however long; `ledger_rows` turns a page of it into rows."""
    if not policies.can_view_village(user, village):
        raise NotFound()
    head = (Resident.objects.filter(household=OuterRef("pk"), relation=Resident.Relation.HEAD)
            .order_by("pk").values("name")[:1])
    homes = (Household.objects.filter(village=village)
             .annotate(h_id=F("pk"),
                       r_id=Value(None, output_field=IntegerField()),
                       a_id=F("points_account__id"),
                       hh_number=F("number"), person=Coalesce(Subquery(head), Value("")),
                       pts_balance=Coalesce("points_account__balance", Value(0))))
    people = (Account.objects.filter(kind=Account.Kind.RESIDENT, unit=village)
              .annotate(h_id=Value(None, output_field=IntegerField()), r_id=F("resident_id"),
                        a_id=F("pk"), hh_number=Value(""),
                        person=Coalesce("resident__name", Value("")), pts_balance=F("balance")))
    if q := q.strip():
        homes = homes.filter(Q(number__icontains=q) | Q(person__contains=q))
        people = people.filter(resident__name__contains=q)
    columns = ["h_id", "r_id", "a_id", "hh_number", "person", "pts_balance"]
    if sort == "stars":
        since = _earned_since(accounts.star_scale(village).basis)
        homes = homes.annotate(pts_earned=_earned_subquery("points_account__id", since))
        people = people.annotate(pts_earned=_earned_subquery("pk", since))
        columns.append("pts_earned")
    order = {"stars": ["-pts_earned", "hh_number", "person"], "balance": ["-pts_balance", "hh_number", "person"]}
    return (homes.values(*columns).union(people.values(*columns), all=True)
            .order_by(*order.get(sort, ["hh_number", "person"])))


@dataclass(frozen=True)
class LedgerRow:
    household_id: int | None
    resident_id: int | None
    account_id: int | None
    number: str
    name: str
    balance: int
    earned: int
    stars: int


def ledger_rows(village: OrgUnit, rows: list[dict[str, Any]]) -> list[LedgerRow]:
    """A page of `village_ledger` with each row's points earned and stars by the township's scale (one query for
    the page)."""
    scale = accounts.star_scale(village)
    earned = accounts.earned_by_account([r["a_id"] for r in rows if r["a_id"]], basis=scale.basis)
    result = []
    for r in rows:
        points = earned.get(r["a_id"], 0) if r["a_id"] else 0
        result.append(LedgerRow(household_id=r["h_id"], resident_id=r["r_id"], account_id=r["a_id"],
                                number=r["hh_number"], name=r["person"], balance=r["pts_balance"], earned=points,
                                stars=scale.stars_for(points)))
    return result


def star_basis(village: OrgUnit) -> str:
    return accounts.star_scale(village).basis


# A household's (or a person's) account -------------------------------------------------------------------------

@dataclass
class AccountPage:
    village: OrgUnit
    household: Household | None
    resident: Resident | None  # the person of a personal account
    members: list[Resident]
    # Whom an award made here goes through (the head, else a member; the person): None when nobody is registered.
    recipient: Resident | None
    account: Account | None  # None until the first points arrive
    standing: accounts.Standing
    may_award: bool
    items: list[RuleItem] = field(default_factory=list)
    # The awarder levels whose items the user may give, deduct and correct here.
    awarders: list[str] = field(default_factory=list)

    @property
    def gives(self) -> list[RuleItem]:
        return [i for i in self.items if i.points > 0]

    @property
    def deductions(self) -> list[RuleItem]:
        return [i for i in self.items if i.points < 0]


def _empty_standing(village: OrgUnit) -> accounts.Standing:
    scale = accounts.star_scale(village)
    return accounts.Standing(balance=0, held=0, earned=0, stars=0, basis=scale.basis,
                             to_next_star=scale.thresholds[0] if scale.thresholds else None)


def _account_page(user: User, village: OrgUnit, household: Household | None, resident: Resident | None,
                  members: list[Resident], recipient: Resident | None, account: Account | None) -> AccountPage:
    if not policies.can_view_village(user, village):
        raise NotFound()
    awarders = _awarders(user, village)
    items = award_items(user, village, awarders=awarders)
    return AccountPage(village=village, household=household, resident=resident, members=members,
                       recipient=recipient, account=account,
                       standing=accounts.standing(account) if account is not None else _empty_standing(village),
                       may_award=bool(items) and recipient is not None, items=items, awarders=awarders)


def household_page(user: User, household_id: int) -> AccountPage:
    household = Household.objects.filter(pk=household_id).select_related("village", "grid").first()
    if household is None:
        raise NotFound()
    members = list(Resident.objects.filter(household=household).order_by("pk"))
    living = [m for m in members if m.status == Resident.Status.ACTIVE]
    recipient = next((m for m in living if m.is_head), None) or next(iter(living), None)
    account = Account.objects.filter(household=household).select_related("unit").first()
    members.sort(key=lambda m: (not m.is_head, m.pk))
    return _account_page(user, household.village, household, None, members, recipient, account)


def person_page(user: User, resident_id: int) -> AccountPage:
    """A personal account: a resident without a household here (a tenant, a lodger) who has points."""
    account = (Account.objects.filter(kind=Account.Kind.RESIDENT, resident_id=resident_id)
               .select_related("unit", "resident").first())
    if account is None or account.resident is None:
        raise NotFound()
    return _account_page(user, account.unit, None, account.resident, [account.resident], account.resident, account)


def account_awards(account: Account | None) -> QuerySet[Award]:
    """The account's awards, newest first, with their item, actor, photos and correction (the caller pages)."""
    if account is None:
        return Award.objects.none()
    return (Award.objects.filter(account=account)
            .select_related("rule_item", "rule_item__category", "village", "actor", "claim", "reversed_by",
                            "reverses")
            .prefetch_related("photos").order_by("-created_at", "-id"))


def account_entries(account: Account | None) -> QuerySet[LedgerEntry]:
    """The account's ledger entries (账户流水), newest first (the caller pages)."""
    if account is None:
        return LedgerEntry.objects.none()
    return accounts.history(account).select_related("actor")


def _awarders(user: User, village: OrgUnit) -> list[str]:
    """The awarder levels (Awarder) whose items the user may give, deduct and correct in the village
    (`policies.can_award`, asked once per level rather than once per item)."""
    return [a for a in Awarder.values if any(village.path.startswith(p) for p in policies.award_paths(user, a))]


def award_items(user: User, village: OrgUnit, *, awarders: list[str] | None = None) -> list[RuleItem]:
    """The live catalogue items applicable to the village (its township's and its own) that the user may give or
    deduct there, in catalogue order (`awarders`: `_awarders(user, village)` when the caller has it)."""
    awarders = _awarders(user, village) if awarders is None else awarders
    if not awarders:
        return []
    township = OrgUnit.objects.filter(path__in=village.ancestor_paths(), level=Level.TOWNSHIP).first()
    if township is None:
        return []
    return list(RuleItem.objects.filter(retired_at__isnull=True, category__is_active=True, awarder__in=awarders)
                .filter(Q(category__village=village) | Q(category__village__isnull=True, category__township=township))
                .select_related("category").order_by("category__village", "category__order", "order", "id"))


def award_for(user: User, award_id: int) -> Award:
    award = (Award.objects.filter(policies.viewable_q(user)).filter(pk=award_id)
             .select_related("rule_item", "account", "account__household", "account__resident", "village", "actor",
                             "reversed_by").first())
    if award is None:
        raise NotFound()
    return award


def _correctable(award: Award) -> bool:
    return award.origin != Award.Origin.CORRECTION and not hasattr(award, "reversed_by")


def may_reverse(user: User, award: Award) -> bool:
    """Whether 更正 is offered for this award: it is no correction, has not been corrected, and the user may award
    its item there."""
    return _correctable(award) and policies.can_award(user, award.village, award.rule_item)


def reversible(page: AccountPage, awards: Iterable[Award]) -> set[int]:
    """The ids of those of the account's `awards` (a page of them) that the page's user may correct."""
    return {a.pk for a in awards if _correctable(a) and a.rule_item.awarder in page.awarders}
