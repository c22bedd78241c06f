"""积分统计 (M20) and the other figures of the points administration: per village, item and shop for a period,
a unit's 积分榜, the households at each star level, the ledger checks.

Every table is one grouped query (GROUP BY village, item lineage, shop or account), whatever the number of
villages; Python only lays the grouped rows side by side and adds up the total row. A unit's figures are for
those who see the whole unit (`catalogue.statistics_open`); anyone else gets NotFound.

What counts in a period [start, end] (local dates, both days included):
- 申请 (applications): claims submitted in it; 通过 / 驳回: claims approved or rejected in it (by review time);
- 发放 (issued): points booked by awards in it that credited the household (`booked` > 0, corrections
  included); 扣减 (deducted): points booked away by awards in it (`booked` < 0, shown positive);
- 兑换 (redeemed): points of redemptions picked up (captured) in it, by the redeeming household's village;
- 余额 (balances): what the village's household accounts hold now, whatever the period.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, Sum
from django.utils import timezone

from gongzhi.accounts.models import User
from gongzhi.core.errors import NotFound
from gongzhi.core.models import Job
from gongzhi.org.models import Level, OrgUnit, UnitKind
from gongzhi.points import policies
from gongzhi.points.models import Account, Award, Claim, LedgerCheck, LedgerHead, Redemption, RuleItem, Shop, StarScale
from gongzhi.points.selectors.accounts import star_scale
from gongzhi.points.selectors.catalogue import statistics_open, township_of
from gongzhi.points.services.checks import LEDGER_CHECK_JOB
from gongzhi.registry.models import Household, Resident

BOARD_SIZE = 20
PERSONAL = (Account.Kind.HOUSEHOLD, Account.Kind.RESIDENT)


# The period --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    start: datetime.date
    end: datetime.date  # included
    kind: str = "custom"  # "month", "year" or "custom"

    @property
    def since(self) -> datetime.datetime:
        return timezone.make_aware(datetime.datetime.combine(self.start, datetime.time.min))

    @property
    def until(self) -> datetime.datetime:
        """The first moment after the period."""
        return timezone.make_aware(datetime.datetime.combine(self.end + datetime.timedelta(days=1),
                                                             datetime.time.min))

    def q(self, field_name: str) -> Q:
        return Q(**{f"{field_name}__gte": self.since, f"{field_name}__lt": self.until})


def this_month(today: datetime.date | None = None) -> Period:
    today = today or timezone.localdate()
    return Period(today.replace(day=1), today, "month")


def this_year(today: datetime.date | None = None) -> Period:
    today = today or timezone.localdate()
    return Period(today.replace(month=1, day=1), today, "year")


# The tables ----------------------------------------------------------------------------------------------------

@dataclass
class VillageRow:
    village: OrgUnit | None  # None for the total row
    applications: int = 0
    approvals: int = 0
    rejections: int = 0
    issued: int = 0
    deducted: int = 0
    redeemed: int = 0
    balance: int = 0

    def figures(self) -> list[int]:
        return [self.applications, self.approvals, self.rejections, self.issued, self.deducted, self.redeemed,
                self.balance]


@dataclass(frozen=True)
class ItemStat:
    name: str
    category: str
    points: int  # the item's points now (its latest version)
    awards: int
    total: int  # points given under it in the period (deductions negative)
    booked: int  # what the ledger moved (a deduction books no more than the balance)


@dataclass(frozen=True)
class ShopStat:
    shop: Shop
    redemptions: int
    points: int
    items: int  # pieces handed over


@dataclass(frozen=True)
class BoardRow:
    rank: int
    name: str
    number: str  # 户号 ("" for a resident without a household here)
    village: str
    earned: int
    stars: int


@dataclass(frozen=True)
class Board:
    basis: str
    year: int | None  # the year counted, for a yearly scale
    rows: list[BoardRow]


@dataclass(frozen=True)
class Statistics:
    unit: OrgUnit
    period: Period
    villages: list[VillageRow]
    total: VillageRow
    items: list[ItemStat]
    shops: list[ShopStat]
    board: Board


def _villages(unit: OrgUnit) -> list[OrgUnit]:
    if unit.level == Level.VILLAGE:
        return [unit]
    return list(OrgUnit.objects.filter(path__startswith=unit.path, level=Level.VILLAGE, kind=UnitKind.AREA)
                .order_by("path"))


def _by_key(rows: Any, key: str) -> dict[Any, dict[str, Any]]:
    return {row[key]: row for row in rows}


def village_table(unit: OrgUnit, period: Period) -> tuple[list[VillageRow], VillageRow]:
    """Per village of `unit` (four grouped queries), and the total."""
    under = unit.path
    claims = _by_key(Claim.objects.filter(path__startswith=under).filter(period.q("created_at")
                                                                       | period.q("reviewed_at"))
                     .values("village_id").annotate(
                         applications=Count("id", filter=period.q("created_at")),
                         approvals=Count("id", filter=Q(status=Claim.Status.APPROVED) & period.q("reviewed_at")),
                         rejections=Count("id", filter=Q(status=Claim.Status.REJECTED) & period.q("reviewed_at"))),
                     "village_id")
    awards = _by_key(Award.objects.filter(period.q("created_at"), path__startswith=under)
                     .values("village_id").annotate(issued=Sum("booked", filter=Q(booked__gt=0)),
                                                    deducted=Sum("booked", filter=Q(booked__lt=0))), "village_id")
    redeemed = _by_key(Redemption.objects.filter(period.q("ended_at"), status=Redemption.Status.CAPTURED,
                                                 account__path__startswith=under)
                       .values("account__unit_id").annotate(points=Sum("points")), "account__unit_id")
    balances = _by_key(Account.objects.filter(kind__in=PERSONAL, path__startswith=under)
                       .values("unit_id").annotate(balance=Sum("balance")), "unit_id")
    rows = []
    for village in _villages(unit):
        c, a = claims.get(village.pk, {}), awards.get(village.pk, {})
        rows.append(VillageRow(
            village, applications=c.get("applications", 0), approvals=c.get("approvals", 0),
            rejections=c.get("rejections", 0), issued=a.get("issued") or 0, deducted=-(a.get("deducted") or 0),
            redeemed=redeemed.get(village.pk, {}).get("points") or 0,
            balance=balances.get(village.pk, {}).get("balance") or 0))
    total = VillageRow(None)
    for row in rows:
        for name in ("applications", "approvals", "rejections", "issued", "deducted", "redeemed", "balance"):
            setattr(total, name, getattr(total, name) + getattr(row, name))
    return rows, total


def item_table(unit: OrgUnit, period: Period) -> list[ItemStat]:
    """Per catalogue item (all its versions together): the awards in the period, most given first."""
    grouped = list(Award.objects.filter(period.q("created_at"), path__startswith=unit.path)
                   .values("rule_item__lineage").annotate(awards=Count("id"), total=Sum("points"),
                                                          booked=Sum("booked"))
                   .order_by("-awards", "rule_item__lineage"))
    latest: dict[int, RuleItem] = {}
    for item in (RuleItem.objects.filter(lineage__in=[g["rule_item__lineage"] for g in grouped])
                 .select_related("category").order_by("lineage", "id")):
        latest[item.lineage or 0] = item  # the last version wins
    stats = []
    for g in grouped:
        item = latest[g["rule_item__lineage"]]
        stats.append(ItemStat(name=item.name, category=item.category.name, points=item.points, awards=g["awards"],
                              total=g["total"] or 0, booked=g["booked"] or 0))
    return stats


def shop_table(unit: OrgUnit, period: Period) -> list[ShopStat]:
    """Per shop: what the unit's households picked up there in the period; the unit's own shops (and for a
    village its township's) are listed even without any."""
    township = township_of(unit)
    grouped = _by_key(Redemption.objects.filter(period.q("ended_at"), status=Redemption.Status.CAPTURED,
                                                account__path__startswith=unit.path)
                      .values("shop_id").annotate(n=Count("id"), points=Sum("points"), items=Sum("quantity")),
                      "shop_id")
    own = Q(township=township) & (Q(village__isnull=True) | Q(village__path__startswith=unit.path))
    shops = Shop.objects.filter(own | Q(pk__in=list(grouped))).select_related("village").order_by(
        "village__path", "kind", "name", "id")
    stats = [ShopStat(shop, grouped.get(shop.pk, {}).get("n", 0), grouped.get(shop.pk, {}).get("points") or 0,
                      grouped.get(shop.pk, {}).get("items") or 0) for shop in shops]
    return sorted(stats, key=lambda s: (-s.points, s.shop.village_id or 0, s.shop.name))


def _earned(unit: OrgUnit, scale_basis: str, year: int) -> Any:
    """Earned points per personal account under `unit` by the scale's basis (a grouped query)."""
    awards = Award.objects.filter(path__startswith=unit.path)
    if scale_basis == StarScale.Basis.YEAR:
        start = timezone.make_aware(datetime.datetime(year, 1, 1))
        awards = awards.filter(created_at__gte=start, created_at__lt=timezone.make_aware(
            datetime.datetime(year + 1, 1, 1)))
    return awards.values("account_id").annotate(earned=Sum("points"))


def board(unit: OrgUnit, *, today: datetime.date | None = None) -> Board:
    """积分榜: the unit's top households by points earned (awards minus deductions, as the stars count them:
    this year or over all years, by the township's scale), with their stars. A household is named by its
    head and 户号."""
    scale = star_scale(unit)
    year = (today or timezone.localdate()).year
    top = list(_earned(unit, scale.basis, year).filter(earned__gt=0).order_by("-earned", "account_id")[:BOARD_SIZE])
    accounts = {a.pk: a for a in Account.objects.filter(pk__in=[t["account_id"] for t in top])
                .select_related("household", "resident", "unit")}
    heads: dict[int | None, str] = dict(Resident.objects.filter(
        household_id__in=[a.household_id for a in accounts.values() if a.household_id],
        relation=Resident.Relation.HEAD).values_list("household_id", "name"))
    rows = []
    for rank, entry in enumerate(top, start=1):
        account = accounts[entry["account_id"]]
        if account.household is not None:
            name, number = heads.get(account.household_id, ""), account.household.number
        else:
            name, number = account.resident.name if account.resident else "", ""
        rows.append(BoardRow(rank=rank, name=name, number=number, village=account.unit.name,
                             earned=entry["earned"], stars=scale.stars_for(entry["earned"])))
    return Board(basis=scale.basis, year=year if scale.basis == StarScale.Basis.YEAR else None, rows=rows)


def statistics(user: User, unit: OrgUnit, period: Period) -> Statistics:
    """All tables of the 积分统计 page (and its Excel file) for `unit` and `period`."""
    if not statistics_open(user, unit):
        raise NotFound()
    villages, total = village_table(unit, period)
    return Statistics(unit=unit, period=period, villages=villages, total=total, items=item_table(unit, period),
                      shops=shop_table(unit, period), board=board(unit))


# Stars -----------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class StarCounts:
    basis: str
    year: int | None
    # counts[n]: households (and residents with their own account) holding n stars now, n = 0 … 10.
    counts: list[int]
    thresholds: list[int] = field(default_factory=list)

    @property
    def households(self) -> int:
        return sum(self.counts)

    def rows(self) -> list[tuple[int, int | None, int]]:
        """(stars, points needed, households) from ten stars down to none."""
        return [(n, self.thresholds[n - 1] if n else None, self.counts[n]) for n in range(len(self.counts) - 1, -1, -1)]


def star_counts(user: User, unit: OrgUnit, *, today: datetime.date | None = None) -> StarCounts:
    """How many households of `unit` (a township or a village) hold each star level now, by its township's
    scale: one grouped query of earned points per account; households without any are at zero stars."""
    if not statistics_open(user, unit):
        raise NotFound()
    scale = star_scale(unit)
    year = (today or timezone.localdate()).year
    counts = [0] * (len(scale.thresholds) + 1)
    for earned in _earned(unit, scale.basis, year).values_list("earned", flat=True):
        counts[scale.stars_for(earned or 0)] += 1
    with_stars = sum(counts[1:])
    everyone = (Household.objects.filter(village__path__startswith=unit.path).count()
                + Account.objects.filter(kind=Account.Kind.RESIDENT, path__startswith=unit.path).count())
    counts[0] = max(everyone - with_stars, 0)
    return StarCounts(basis=scale.basis, year=year if scale.basis == StarScale.Basis.YEAR else None, counts=counts,
                      thresholds=list(scale.thresholds))


# Ledger checks -----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LedgerChecks:
    checks: list[LedgerCheck]
    entries: int  # entries in the ledger now (the chain's length)
    running: Job | None  # a check queued or running in the background


def ledger_checks(user: User, *, limit: int = 20) -> LedgerChecks:
    if not policies.may_check_ledger(user):
        raise NotFound()
    head = LedgerHead.objects.filter(pk=1).first()
    running = (Job.objects.filter(kind=LEDGER_CHECK_JOB, status__in=[Job.Status.QUEUED, Job.Status.RUNNING])
               .order_by("-created_at").first())
    return LedgerChecks(checks=list(LedgerCheck.objects.order_by("-started_at", "-id")[:limit]),
                        entries=head.last_seq if head else 0, running=running)
