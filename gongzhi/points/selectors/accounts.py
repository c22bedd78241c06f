"""Reads about accounts: a resident's own account, what an account has earned, its stars (十星等级)."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import QuerySet, Sum
from django.utils import timezone

from gongzhi.accounts.models import User
from gongzhi.accounts.selectors import registry_record
from gongzhi.org.models import Level, OrgUnit
from gongzhi.points.models import Account, Award, LedgerEntry, Redemption, StarScale
from gongzhi.points.presets import PRESET_STAR_THRESHOLDS
from gongzhi.points.services import ledger


@dataclass(frozen=True)
class Standing:
    """An account's standing: what it holds now, what it has earned (by the scale's basis), its stars."""

    balance: int
    held: int
    earned: int
    stars: int
    basis: str
    # Points still needed for the next star (None at ten stars).
    to_next_star: int | None


def own_account(user: User) -> Account | None:
    """The account the signed-in resident's points go to (their household's), or None if unverified.
    Opened on first sight: every verified resident has one."""
    resident = registry_record(user)
    if resident is None:
        return None
    return ledger.account_for_resident(resident)


def star_scale(unit: OrgUnit) -> StarScale:
    """The scale of the unit's township (the preset one when the township has set none)."""
    township = unit if unit.level == Level.TOWNSHIP else OrgUnit.objects.filter(
        path__in=unit.ancestor_paths(), level=Level.TOWNSHIP).first()
    scale = StarScale.objects.filter(township=township).first() if township is not None else None
    return scale or StarScale(basis=StarScale.Basis.YEAR, thresholds=PRESET_STAR_THRESHOLDS)


def _year_start(year: int) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime(year, 1, 1))


def earned_by_account(account_ids: Iterable[int], *, basis: str, year: int | None = None) -> dict[int, int]:
    """Points earned (awards minus deductions, corrections included; redemptions do not count) per account,
    this calendar year or over all years."""
    awards = Award.objects.filter(account_id__in=list(account_ids))
    if basis == StarScale.Basis.YEAR:
        year = year or timezone.localdate().year
        awards = awards.filter(created_at__gte=_year_start(year), created_at__lt=_year_start(year + 1))
    return dict(awards.values("account_id").annotate(total=Sum("points")).values_list("account_id", "total"))


def standing(account: Account) -> Standing:
    scale = star_scale(account.unit)
    earned = earned_by_account([account.pk], basis=scale.basis).get(account.pk, 0)
    stars = scale.stars_for(earned)
    held = Redemption.objects.filter(account=account, status=Redemption.Status.HELD).aggregate(
        s=Sum("points"))["s"] or 0
    return Standing(balance=account.balance, held=held, earned=earned, stars=stars,
                    basis=scale.basis,
                    to_next_star=None if stars >= len(scale.thresholds) else scale.thresholds[stars] - earned)


def history(account: Account) -> QuerySet[LedgerEntry]:
    """The account's entries, newest first (the caller pages them)."""
    return LedgerEntry.objects.filter(account=account).order_by("-seq")
