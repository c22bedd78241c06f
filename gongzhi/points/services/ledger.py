"""The one writer of ledger entries: `post` a movement from one account to another.

Called inside the caller's transaction (an approval, a capture …), so the movement and what caused it commit
together. It locks the chain's head first: postings are serialised (a few per second at most, even at
county scale), each entry's place follows commit order, and the hash chain has no gaps.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.accounts.models import User
from gongzhi.core.errors import DomainError
from gongzhi.org.models import Level, OrgUnit
from gongzhi.points.models import Account, LedgerEntry, LedgerHead, Shop, entry_hash
from gongzhi.registry.models import Household, Resident


class InsufficientPoints(DomainError):
    code = "insufficient_points"


def _head() -> LedgerHead:
    head = LedgerHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        LedgerHead.objects.get_or_create(pk=1)
        head = LedgerHead.objects.select_for_update().get(pk=1)
    return head


def post(*, source_type: str, source_id: int, debit: Account, credit: Account, amount: int, memo: str,
         actor: User | None, at: datetime.datetime | None = None) -> bool:
    """Move `amount` points from `debit` to `credit`, once per (source_type, source_id).

    Returns False (and writes nothing) when this source has already been posted: a replay credits nothing
    twice. Raises InsufficientPoints when `debit` may not go below zero and holds too few points; the caller's
    transaction then rolls back whatever it wrote.
    """
    if amount <= 0:
        raise ValueError("a movement moves a positive amount")
    if debit.pk == credit.pk:
        raise ValueError("a movement needs two accounts")
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("post() runs inside the caller's transaction")
    head = _head()
    if LedgerEntry.objects.filter(source_type=source_type, source_id=source_id).exists():
        return False
    balance = Account.objects.filter(pk=debit.pk).values_list("balance", flat=True).get()
    if debit.kind != Account.Kind.ISSUE and balance < amount:
        raise InsufficientPoints(_("积分不足：现有%(have)d分，需要%(need)d分。") % {"have": balance, "need": amount})
    now = at or timezone.now()
    memo = memo[:200]
    actor_id = actor.pk if actor is not None else None
    prev = head.last_hash
    rows = []
    for offset, (account, signed) in enumerate(((debit, -amount), (credit, amount)), start=1):
        seq = head.last_seq + offset
        digest = entry_hash(prev_hash=prev, seq=seq, account_id=account.pk, amount=signed, source_type=source_type,
                            source_id=source_id, memo=memo, actor_id=actor_id, created_at=now)
        rows.append(LedgerEntry(seq=seq, account_id=account.pk, amount=signed, source_type=source_type,
                                source_id=source_id, memo=memo, actor_id=actor_id, created_at=now,
                                prev_hash=prev, hash=digest))
        prev = digest
    LedgerEntry.objects.bulk_create(rows)
    Account.objects.filter(pk=debit.pk).update(balance=F("balance") - amount)
    Account.objects.filter(pk=credit.pk).update(balance=F("balance") + amount)
    LedgerHead.objects.filter(pk=head.pk).update(last_seq=head.last_seq + 2, last_hash=prev)
    balances = dict(Account.objects.filter(pk__in=[debit.pk, credit.pk]).values_list("pk", "balance"))
    debit.balance, credit.balance = balances[debit.pk], balances[credit.pk]
    return True


# Accounts -------------------------------------------------------------------------------------------------

def village_of(unit: OrgUnit) -> OrgUnit:
    """The village a grid (or the village itself) belongs to."""
    if unit.level == Level.VILLAGE:
        return unit
    found = OrgUnit.objects.filter(path__in=unit.ancestor_paths(), level=Level.VILLAGE).first()
    if found is None:
        raise DomainError(_("该网格不属于任何村(社区)。"), code="no_village")
    return found


def township_of(unit: OrgUnit) -> OrgUnit:
    if unit.level == Level.TOWNSHIP:
        return unit
    found = OrgUnit.objects.filter(path__in=unit.ancestor_paths(), level=Level.TOWNSHIP).first()
    if found is None:
        raise DomainError(_("该单位不属于任何乡镇(街道)。"), code="no_township")
    return found


def account_for_resident(resident: Resident) -> Account:
    """The account a resident's points go to: their household's (以户为单元), or their own without one."""
    if resident.household is not None:
        return account_for_household(resident.household)
    account = Account.objects.filter(resident=resident).first()
    if account is None:
        account, _created = Account.objects.get_or_create(
            resident=resident, defaults={"kind": Account.Kind.RESIDENT, "unit": village_of(resident.grid)})
    return account


def account_for_household(household: Household) -> Account:
    account = Account.objects.filter(household=household).first()
    if account is None:
        account, _created = Account.objects.get_or_create(
            household=household, defaults={"kind": Account.Kind.HOUSEHOLD, "unit": household.village})
    return account


def issue_account(village: OrgUnit) -> Account:
    account, _created = Account.objects.get_or_create(kind=Account.Kind.ISSUE, unit=village)
    return account


def hold_account(township: OrgUnit) -> Account:
    account, _created = Account.objects.get_or_create(kind=Account.Kind.HOLD, unit=township)
    return account


def shop_account(shop: Shop) -> Account:
    account = Account.objects.filter(shop=shop).first()
    if account is None:
        unit = shop.village or shop.township
        account, _created = Account.objects.get_or_create(shop=shop, defaults={"kind": Account.Kind.SHOP,
                                                                               "unit": unit})
    return account
