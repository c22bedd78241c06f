"""The ledger check (`gongzhi check-ledger`, issue 13) over a million entries: wall time of
`points.selectors.integrity.verify_ledger`, and that an entry edited in the database is named as the first
broken one. Target: < 10 s on SQLite.

    .venv/bin/python bench/points_ledger_check.py [--entries 1000000] [--households 5000] [--seed 1]
    DATABASE_URL=postgres://postgres@127.0.0.1:55432/gongzhi .venv/bin/python bench/points_ledger_check.py

Each step runs in its own child process against one temporary database (SQLite in a temporary GONGZHI_VAR_DIR;
with DATABASE_URL set, a temporary database created on that PostgreSQL server and dropped after, as
bench/generate.py does):
1. build: migrate; the small test tree; `--households` households of 小山村 and 大湾村 with their accounts, each
   village's issuing account, 八里镇's hold account and 9 shops' accounts; then `--entries` entries (half as many
   movements) written directly, not through `points.services.ledger.post` (which would take hours): a year of
   awards (issuing account → household, 2–30 points), deductions (household → issuing account) and
   redemptions (household → hold, then hold → shop), none taking an account below zero, each entry with its
   place, its predecessor's hash and its own (`points.models.entry_hash`), exactly as `post` writes them.
   SQLite: executemany in batches; PostgreSQL: COPY. Then the cached balances (the sums) and the chain's head.
2. check: `verify_ledger()` in a fresh process, timed (the figure); it must pass.
3. tamper: one raw SQL UPDATE of the amount of the entry in the middle (a household's credit raised by 100
   points, as someone with database access might).
4. check again: it must fail and name exactly that entry's place as the first broken one; its problems are printed.
"""

from __future__ import annotations

import argparse
import datetime
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import fresh_database  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 10.0
BATCH = 20_000
MEMOS = ("孝老敬亲，赡养老人事迹突出", "参加志愿服务活动（每次）", "门前三包落实到位，无乱堆乱放",
         "参加义务巡逻、群防群治", "按时参加村民（代表）大会、村民说事", "垃圾分类投放，定点倾倒", "无偿献血",
         "参与矛盾纠纷调解成功")
DEDUCTIONS = ("乱倒垃圾、乱排污水，经查实", "违反村规民约，经村民代表会议认定")
GOODS = ("小山村爱心超市 大米5斤×1", "八里惠民粮油店 挂面5斤×1", "八里便民日用品超市 洗衣液×1",
         "八里巧手理发店 理发一次×1")


# ------------------------------------------------------------------ the steps (child processes)


def build(entries: int, households: int, seed: int) -> dict:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from gongzhi.accounts.models import Membership, Role, User
    from gongzhi.org.factories import make_tree
    from gongzhi.points.models import GENESIS_HASH, Account, LedgerEntry, LedgerHead, Shop, entry_hash
    from gongzhi.registry.models import Household

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    rng = random.Random(seed)
    tree = make_tree()
    admin = User.objects.create_user(username="bench-cunguan", kind=User.Kind.STAFF, real_name="李村官")
    Membership.objects.create(user=admin, unit=tree["village"], role=Role.VILLAGE_ADMIN)
    villages = [tree["village"], tree["village2"]]
    grids = {tree["village"].pk: tree["grid"], tree["village2"].pk: tree["grid3"]}
    with transaction.atomic():
        homes = Household.objects.bulk_create([
            Household(village=villages[n % 2], grid=grids[villages[n % 2].pk], number=f"H-L{n:06d}",
                      address=f"{villages[n % 2].name}{n // 50 + 1}社{n % 50 + 1}号")
            for n in range(households)], batch_size=2000)
        accounts = Account.objects.bulk_create([
            Account(kind=Account.Kind.HOUSEHOLD, unit=h.village, path=h.village.path, household=h) for h in homes],
            batch_size=2000)
        issue = {v.pk: Account.objects.create(kind=Account.Kind.ISSUE, unit=v) for v in villages}
        hold = Account.objects.create(kind=Account.Kind.HOLD, unit=tree["town"])
        shops = []
        for n in range(9):
            shop = Shop.objects.create(township=tree["town"], kind=Shop.Kind.ALLIANCE, name=f"联盟商家{n + 1}")
            shops.append(Account.objects.create(kind=Account.Kind.SHOP, unit=tree["town"], shop=shop))
    household_ids = [a.pk for a in accounts]
    issue_of = {a.pk: issue[a.unit_id].pk for a in accounts}
    balance: dict[int, int] = dict.fromkeys([*household_ids, *(a.pk for a in issue.values()), hold.pk,
                                             *(a.pk for a in shops)], 0)
    adapt = connection.ops.adapt_datetimefield_value
    table = LedgerEntry._meta.db_table
    columns = ("seq", "account_id", "amount", "source_type", "source_id", "memo", "actor_id", "created_at",
               "prev_hash", "hash")
    moment = datetime.datetime(2025, 1, 1, 8, 0, tzinfo=datetime.UTC)
    step = datetime.timedelta(seconds=365 * 86400 / max(entries // 2, 1))
    prev, seq = GENESIS_HASH, 0
    sources = {"award": 0, "hold": 0, "capture": 0}
    rows: list[tuple] = []
    waiting: list[tuple[int, int, str]] = []  # holds not captured yet: (redemption id, points, memo)
    def movement(source_type: str, source_id: int, debit: int, credit: int, amount: int, memo: str,
                 actor: int | None) -> None:
        nonlocal prev, seq, moment
        moment += step
        at = moment.replace(microsecond=rng.randrange(1_000_000))
        for account, signed in ((debit, -amount), (credit, amount)):
            seq += 1
            digest = entry_hash(prev_hash=prev, seq=seq, account_id=account, amount=signed, source_type=source_type,
                                source_id=source_id, memo=memo, actor_id=actor, created_at=at)
            rows.append((seq, account, signed, source_type, source_id, memo, actor, adapt(at), prev, digest))
            balance[account] += signed
            prev = digest

    def flush() -> None:
        if not rows:
            return
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor, cursor.cursor.copy(  # type: ignore[attr-defined]
                    f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            with connection.cursor() as cursor:
                cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
                                   f"({', '.join(['%s'] * len(columns))})", rows)
        rows.clear()

    with transaction.atomic():
        # Each hold is captured later (two more entries): stop when what is written plus what is owed is all.
        while seq + 2 * len(waiting) < entries:
            roll = rng.random()
            household = rng.choice(household_ids)
            if waiting and roll < 0.12:
                redemption, points, memo = waiting.pop(rng.randrange(len(waiting)))
                movement("capture", redemption, hold.pk, rng.choice(shops).pk, points, memo, None)
            elif roll < 0.25 and balance[household] >= 5 and seq + 2 * len(waiting) + 4 <= entries:
                sources["hold"] += 1
                points = rng.randint(5, min(balance[household], 120))
                memo = rng.choice(GOODS)
                movement("hold", sources["hold"], household, hold.pk, points, memo, None)
                waiting.append((sources["hold"], points, memo))
            elif roll < 0.27 and balance[household] > 0:
                sources["award"] += 1
                movement("award", sources["award"], household, issue_of[household],
                         min(balance[household], rng.choice((5, 10, 20))), rng.choice(DEDUCTIONS), admin.pk)
            else:
                sources["award"] += 1
                movement("award", sources["award"], issue_of[household], household, rng.randint(2, 30),
                         rng.choice(MEMOS), admin.pk)
            if len(rows) >= BATCH:
                flush()
        for redemption, points, memo in waiting:  # picked up at last: the hold account is back to zero
            movement("capture", redemption, hold.pk, rng.choice(shops).pk, points, memo, None)
        flush()
        with connection.cursor() as cursor:
            cursor.executemany(f"UPDATE {Account._meta.db_table} SET balance = %s WHERE id = %s",
                               [(value, pk) for pk, value in balance.items()])
        LedgerHead.objects.update_or_create(pk=1, defaults={"last_seq": seq, "last_hash": prev})
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # autovacuum would, minutes after a bulk load
    return {"entries": seq, "accounts": len(balance), "households": households,
            "build_seconds": time.perf_counter() - started, "vendor": connection.vendor}


def check() -> dict:
    import django

    django.setup()
    from gongzhi.points.selectors.integrity import verify_ledger

    started = time.perf_counter()
    report = verify_ledger()
    return {"ok": report.ok, "entries": report.entries, "seconds": report.seconds,
            "wall": time.perf_counter() - started, "first_broken_seq": report.first_broken_seq,
            "problems": report.problems}


def tamper(seq: int) -> dict:
    """What someone with the database could do: raise the amount of one entry (a credit) in place."""
    import django

    django.setup()
    from django.db import connection

    from gongzhi.points.models import LedgerEntry

    table = LedgerEntry._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT amount, account_id FROM {table} WHERE seq = %s", [seq])
        amount, account = cursor.fetchone()
        cursor.execute(f"UPDATE {table} SET amount = amount + 100 WHERE seq = %s", [seq])
    return {"seq": seq, "amount_before": amount, "amount_after": amount + 100, "account": account}


def child(argv: list[str], env: dict[str, str]) -> dict:
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), *argv], env=env, cwd=ROOT, check=True,
                          stdout=subprocess.PIPE, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(*, entries: int, households: int, seed: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="gongzhi-bench-ledger-") as tmp, \
            fresh_database(Path(tmp), "ledger") as env:
        env.pop("REDIS_URL", None)
        print(f"building a ledger of {entries:,} entries …", file=sys.stderr, flush=True)
        built = child(["--build", "--entries", str(entries), "--households", str(households), "--seed", str(seed)],
                      env)
        print("checking it …", file=sys.stderr, flush=True)
        first = child(["--check"], env)
        # The middle entry, taken as its movement's second half: a credit (to a household, the hold or a shop).
        middle = built["entries"] // 2 + (built["entries"] // 2) % 2
        tampered = child(["--tamper", "--seq", str(middle)], env)
        print(f"changed entry {middle:,} in the database; checking again …", file=sys.stderr, flush=True)
        second = child(["--check"], env)
    return {**built, "check": first, "tampered": tampered, "after": second}


def verdicts(figures: dict) -> list[tuple[str, bool]]:
    first, second, seq = figures["check"], figures["after"], figures["tampered"]["seq"]
    return [
        (f"intact ledger passes: {'ok' if first['ok'] else first['problems']}", first["ok"]),
        (f"every entry read: {first['entries']:,} of {figures['entries']:,}", first["entries"] == figures["entries"]),
        (f"after the edit the check fails and names entry {second['first_broken_seq']} first (edited: {seq})",
         not second["ok"] and second["first_broken_seq"] == seq),
    ]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--households", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--build", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--check", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--tamper", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--seq", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.build:
        print(json.dumps(build(max(args.entries, 10), max(args.households, 2), args.seed)))
        return {}
    if args.check:
        print(json.dumps(check()))
        return {}
    if args.tamper:
        print(json.dumps(tamper(args.seq)))
        return {}
    figures = measure(entries=max(args.entries, 10), households=max(args.households, 2), seed=args.seed)
    first, second = figures["check"], figures["after"]
    print(f"{figures['vendor']}: {figures['entries']:,} entries over {figures['accounts']:,} accounts, built in "
          f"{figures['build_seconds']:.1f} s")
    print(f"verify_ledger, intact:   {first['seconds']:.2f} s ({first['entries'] / first['seconds']:,.0f} entries/s; "
          f"process wall {first['wall']:.2f} s)  {'ok' if first['ok'] else 'BROKEN'}")
    print(f"verify_ledger, tampered: {second['seconds']:.2f} s  first broken entry: {second['first_broken_seq']}")
    tampered = figures["tampered"]
    print(f"  (UPDATE … SET amount = {tampered['amount_after']} WHERE seq = {tampered['seq']}; "
          f"it was {tampered['amount_before']}, account #{tampered['account']})")
    for problem in second["problems"]:
        print(f"  - {problem}")
    passed = True
    for text, ok in verdicts(figures):
        print(f"{'OK  ' if ok else 'FAIL'} {text}")
        passed &= ok
    if figures["vendor"] == "sqlite":
        within = first["seconds"] < TARGET_SECONDS
        print(f"target: check < {TARGET_SECONDS:g} s on SQLite — {'met' if within else 'MISSED'} "
              f"({first['seconds']:.2f} s)")
    figures["passed"] = passed
    return figures


if __name__ == "__main__":
    sys.exit(0 if main().get("passed", True) else 1)
