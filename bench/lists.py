"""The command centre's case lists at city scale: the first page of 全部事件 and 超期事件 over a million open
cases, for a county and a township dispatcher, against a bare signed-in page in the same run.

    .venv/bin/python bench/lists.py [--cases 1000000] [--requests 40] [--seed 1]

A child process migrates a temporary database (SQLite in a temporary GONGZHI_VAR_DIR; with DATABASE_URL set,
a temporary database created on that PostgreSQL server and dropped after) and fills it as bench/sweep.py does
(`sweep.build`: the small test tree, a dispatcher at each command centre, `--cases` open cases by raw INSERTs
spread over three grids of 八里镇 and one of 城关镇, a third as many archived ones and a few lately finished).
The county dispatcher (安定区) has every open case in scope, the township one (八里镇) three quarters of them.
It then runs a supervision sweep, as production has (reminder and overdue rows), signs both in with Django's
test client and asks each page `--requests` times after two warm-up requests, the pages in alternation so a
change in the machine's load touches all alike; it prints p50 / p95 per page in ms. The baseline is
/command/messages/ with an empty inbox: the same session, user and page chrome, no case query. Beside the
two targets it shows, for information, a few filtered pages, the new-case poll and the pager's later pages.

Target (issue 11): the first page of 全部事件 and of 超期事件, for both dispatchers, p95 under 150 ms (it was
1.5–1.9 s: the pager counted every row and the order was a computed flag no index serves).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from generate import fresh_database

ROOT = Path(__file__).resolve().parent.parent
TARGET_MS = 150.0
TARGETS = ("county 全部事件", "county 超期事件", "township 全部事件", "township 超期事件")


def pages(category_id: int, town_id: int, village_id: int, newest: int) -> list[tuple[str, str, str]]:
    """(label, dispatcher, URL) of every page measured."""
    return [
        ("baseline (empty inbox)", "county", "/command/messages/"),
        ("county 全部事件", "county", "/command/cases/"),
        ("county 超期事件", "county", "/command/cases/overdue/"),
        ("township 全部事件", "town", "/command/cases/"),
        ("township 超期事件", "town", "/command/cases/overdue/"),
        ("county 全部事件 page 5", "county", "/command/cases/?page=5"),
        ("county 超期事件 page 5", "county", "/command/cases/overdue/?page=5"),
        ("county 全部事件 red", "county", "/command/cases/?flag=red"),
        ("county 全部事件 yellow", "county", "/command/cases/?flag=yellow"),
        ("county 全部事件 one township", "county", f"/command/cases/?unit={town_id}"),
        ("township 全部事件 one village", "town", f"/command/cases/?unit={village_id}"),
        ("county 全部事件 one category", "county", f"/command/cases/?category={category_id}"),
        ("county 全部事件 last 7 days", "county", "/command/cases/?reported_from=" + _days_ago(7)),
        ("county 全部事件 keyword (none match)", "county", "/command/cases/?q=%E6%B2%A1%E6%9C%89%E8%BF%99%E4%B8%AA"),
        ("county new-case poll (nothing new)", "county", f"/command/cases/poll/?since={newest}"),
    ]


def _days_ago(days: int) -> str:
    import datetime

    return (datetime.date.today() - datetime.timedelta(days=days)).isoformat()


def child(cases: int, seed: int, requests: int) -> dict:
    """Runs in the child process, against the temporary database named by the environment."""
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client, override_settings
    from django.utils import timezone
    from sweep import build

    from gongzhi.accounts.models import User
    from gongzhi.cases.models import Case
    from gongzhi.cases.sweep import run_sweep
    from gongzhi.org.models import OrgUnit

    # Static files by their source names: production's hashed names need a collectstatic first.
    override_settings(STORAGES={**settings.STORAGES, "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}).enable()
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    build(cases, seed=seed, archived=cases // 3)
    build_seconds = time.perf_counter() - started
    run_sweep(now=timezone.now())
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # autovacuum would, minutes after a bulk load
    clients = {}
    for name in ("county", "town"):
        client = Client()
        client.force_login(User.objects.get(username=f"bench-{name}"))
        clients[name] = client
    town = OrgUnit.objects.get(name="八里镇")
    village = OrgUnit.objects.get(name="小山村")
    category_id = Case.objects.order_by("pk").values_list("category_id", flat=True)[0]
    newest = Case.objects.order_by("-pk").values_list("pk", flat=True)[0]
    measured = pages(category_id, town.pk, village.pk, newest)
    timings: dict[str, list[float]] = {label: [] for label, _user, _url in measured}
    statuses: dict[str, set[int]] = {label: set() for label, _user, _url in measured}
    for round_number in range(requests + 2):
        for label, user, url in measured:
            started = time.perf_counter()
            response = clients[user].get(url)
            seconds = time.perf_counter() - started
            statuses[label].add(response.status_code)
            if round_number >= 2:  # warm-up: imports, caches, the database's pages
                timings[label].append(seconds)
    return {"cases": cases, "build_seconds": build_seconds, "vendor": connection.vendor,
            "timings": timings, "statuses": {k: sorted(v) for k, v in statuses.items()}}


def percentile(values: list[float], p: int) -> float:
    return 1000 * statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.cases, args.seed, max(args.requests, 2))))
        return {}
    with tempfile.TemporaryDirectory(prefix="gongzhi-bench-lists-") as tmp, \
            fresh_database(Path(tmp), "lists") as env:
        env.pop("REDIS_URL", None)
        print(f"building {args.cases:,} open cases in a temporary database …", file=sys.stderr, flush=True)
        done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", "--cases",
                               str(args.cases), "--seed", str(args.seed), "--requests", str(args.requests)],
                              env=env, cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True)
    figures: dict = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"{figures['vendor']}, {figures['cases']:,} open cases (built in {figures['build_seconds']:.0f} s), "
          f"{args.requests} requests a page through Django's test client")
    print(f"{'page':<40} {'p50 ms':>8} {'p95 ms':>8}  status")
    worst = 0.0
    for label, values in figures["timings"].items():
        p50, p95 = percentile(values, 50), percentile(values, 95)
        if label in TARGETS:
            worst = max(worst, p95)
        print(f"{label:<40} {p50:8.1f} {p95:8.1f}  {','.join(map(str, figures['statuses'][label]))}")
    print(f"target: first pages p95 < {TARGET_MS:g} ms — {'met' if worst < TARGET_MS else 'MISSED'} "
          f"(worst {worst:.0f} ms)")
    return figures


if __name__ == "__main__":
    main()
