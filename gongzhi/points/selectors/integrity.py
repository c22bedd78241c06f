"""The ledger check (`gongzhi check-ledger`, the nightly task): recompute everything the ledger promises.

- The hash chain: places 1, 2, 3 … without gaps, each entry's `prev_hash` the previous entry's hash and its own
  hash what its content gives; the head names the last entry. The first entry that fails is reported: an
  edit, insertion or deletion made in the database shows there.
- The pairs: each movement is two consecutive entries with the same source, summing to zero.
- The balances: each account's cached balance equals the sum of its entries, and none but an issuing account
  is below zero.
- The holds: each township's hold account holds exactly the points of its redemptions waiting for pickup.

One pass over the entries in chain order, read in batches by a raw cursor (a million entries take a few
seconds), then two grouped queries.
"""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.points.models import GENESIS_HASH, Account, LedgerEntry, LedgerHead, Redemption, entry_hash

BATCH = 20_000
MAX_REPORTED = 20


@dataclass
class LedgerReport:
    entries: int = 0
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)
    # The chain position of the first entry that does not match (None when the chain is intact).
    first_broken_seq: int | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, problem: str) -> None:
        if len(self.problems) < MAX_REPORTED:
            self.problems.append(problem)


def _as_datetime(value: datetime.datetime | str) -> datetime.datetime:
    """A stored time as an aware datetime: PostgreSQL's driver gives one; SQLite's raw rows give UTC text."""
    if isinstance(value, str):
        return datetime.datetime.fromisoformat(value).replace(tzinfo=datetime.UTC)
    return value if timezone.is_aware(value) else value.replace(tzinfo=datetime.UTC)


def verify_ledger() -> LedgerReport:
    started = time.perf_counter()
    report = LedgerReport()
    sums: dict[int, int] = {}
    table = LedgerEntry._meta.db_table
    previous_hash = GENESIS_HASH
    expected_seq = 1
    pending: tuple[int, str, int, int] | None = None  # the first half of a movement: seq, type, id, amount
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT seq, account_id, amount, source_type, source_id, memo, actor_id, created_at, "
                       f"prev_hash, hash FROM {table} ORDER BY seq")
        while rows := cursor.fetchmany(BATCH):
            for seq, account_id, amount, source_type, source_id, memo, actor_id, created_at, prev, digest in rows:
                report.entries += 1
                sums[account_id] = sums.get(account_id, 0) + amount
                if report.first_broken_seq is None:
                    problem = None
                    if seq != expected_seq:
                        problem = _("流水序号不连续：应为第%(want)d条，实为第%(seq)d条（有流水被删除或插入）") % {
                            "want": expected_seq, "seq": seq}
                    elif prev != previous_hash:
                        problem = _("第%(seq)d条流水的前序哈希与上一条的哈希不符（链被改动）") % {"seq": seq}
                    elif digest != entry_hash(prev_hash=prev, seq=seq, account_id=account_id, amount=amount,
                                              source_type=source_type, source_id=source_id, memo=memo,
                                              actor_id=actor_id, created_at=_as_datetime(created_at)):
                        problem = _("第%(seq)d条流水的内容与其哈希不符（被直接修改）") % {"seq": seq}
                    if problem:
                        report.first_broken_seq = seq
                        report.add(problem)
                previous_hash = digest
                expected_seq = seq + 1
                if pending is None:
                    pending = (seq, source_type, source_id, amount)
                else:
                    first_seq, first_type, first_id, first_amount = pending
                    if (first_type, first_id) != (source_type, source_id) or first_amount + amount != 0:
                        report.add(_("第%(a)d、%(b)d条流水不成对（来源不同或借贷不平）") % {"a": first_seq, "b": seq})
                        if (first_type, first_id) != (source_type, source_id):
                            # Out of step (an entry missing or added): this one may begin the next movement.
                            pending = (seq, source_type, source_id, amount)
                            continue
                    pending = None
    if pending is not None:
        report.add(_("第%(seq)d条流水没有对应的另一方") % {"seq": pending[0]})
    head = LedgerHead.objects.filter(pk=1).first()
    last_seq, last_hash = (head.last_seq, head.last_hash) if head else (0, GENESIS_HASH)
    if (last_seq, last_hash) != (expected_seq - 1, previous_hash):
        report.add(_("链尾记录为第%(head)d条，实际最后一条为第%(last)d条（末尾流水被删除或改动）") % {
            "head": last_seq, "last": expected_seq - 1})
        if report.first_broken_seq is None:
            report.first_broken_seq = min(last_seq, expected_seq - 1) + 1
    for pk, kind, balance in Account.objects.values_list("pk", "kind", "balance").iterator(chunk_size=BATCH):
        summed = sums.get(pk, 0)
        if balance != summed:
            report.add(_("账户#%(pk)d的余额%(balance)d与流水合计%(sum)d不符") % {
                "pk": pk, "balance": balance, "sum": summed})
        if summed < 0 and kind != Account.Kind.ISSUE:
            report.add(_("账户#%(pk)d的积分为负（%(sum)d）") % {"pk": pk, "sum": summed})
    held = dict(Redemption.objects.filter(status=Redemption.Status.HELD).values("shop__township_id")
                .annotate(points=Sum("points")).values_list("shop__township_id", "points"))
    for pk, unit_id, balance in Account.objects.filter(kind=Account.Kind.HOLD).values_list("pk", "unit_id",
                                                                                           "balance"):
        if balance != held.get(unit_id, 0):
            report.add(_("冻结账户#%(pk)d的余额%(balance)d与待领取兑换合计%(held)d不符") % {
                "pk": pk, "balance": balance, "held": held.get(unit_id, 0)})
    report.seconds = time.perf_counter() - started
    return report
