"""Duplicate suggestions (issue 9, B4): how well the text measure tells one matter from another on the labelled
pairs, and what one suggestion query costs with many open cases in the township, against the old query.

    .venv/bin/python bench/duplicates.py [--open 5000] [--closed 50000] [--queries 200] [--seed 1]

Precision and recall: `cases.similarity` on gongzhi/cases/tests/data/duplicate_pairs.csv at `similarity.SIMILAR`,
for all pairs, the rows that informed the choices ("tune") and the holdout written after they were frozen,
and how many near-misses of each kind it takes for the same matter.

Query time: a child process builds a temporary SQLite database (GONGZHI_VAR_DIR in a temporary folder,
migrated), the small test tree (make_tree: 八里镇 with 3 grids of about 1 km², 城关镇 with 1) and a dispatcher
of 八里镇, then bulk-inserts `--open` open cases reported in the last 30 days over 八里镇's three grids (so a
1 km circle around a point in the middle holds over half of them), 20 categories, descriptions drawn from the
labelled pairs; `--closed` closed cases of the past two years in the same grids (the history no index walk
should pay for); and 1,000 open cases in 城关镇. Then, at `--queries` random points in 小山村第1网格 with a
random category and description, it times
    new:      selectors.suggest_duplicates(category, lat, lng, text, user=dispatcher), as the report page calls it;
    baseline: the query before text similarity (same category, open, 30 days, a 250 m box through the category
              index, the visibility filter as it was, exact distance here, nearest first);
both with and without the visibility filter, alternating, each inside request_started/request_finished as in a
request (cache tokens are read once a request), and prints the median and p95 wall time and the mean
CPU time (this process's; SQLite runs in it) in ms, with how many suggestions each returned. The CPU time is the
figure to quote on a busy machine. Target: a suggestion under 50 CPU-ms (the report page waits for it).

No ANALYZE is run, as none is in production: with statistics from this two-township world SQLite would think
each (holder, status) pair holds a tenth of all cases and scan the table instead.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAIRS = ROOT / "gongzhi" / "cases" / "tests" / "data" / "duplicate_pairs.csv"
TARGET_MS = 50.0
BATCH = 20_000


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def labelled_pairs() -> list[dict[str, str]]:
    with PAIRS.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def precision_recall() -> dict:
    """Precision and recall of `similarity >= SIMILAR` on the labelled pairs, by split, and the near-misses
    taken for the same matter, by kind."""
    from gongzhi.cases import similarity

    rows = labelled_pairs()
    started = time.perf_counter()
    said = [(similarity.text_similarity(r["a"], r["b"]) >= similarity.SIMILAR, r) for r in rows]
    per_pair_us = (time.perf_counter() - started) / len(rows) * 1e6
    figures: dict = {"threshold": similarity.SIMILAR, "per_pair_us": per_pair_us, "splits": {}, "near_misses": {}}
    for split in ("all", "tune", "holdout"):
        chosen = [(guess, r["duplicate"] == "1") for guess, r in said if split in ("all", r["split"])]
        true_pos = sum(1 for guess, truth in chosen if guess and truth)
        figures["splits"][split] = {
            "pairs": len(chosen),
            "precision": true_pos / max(1, sum(1 for guess, _ in chosen if guess)),
            "recall": true_pos / max(1, sum(1 for _, truth in chosen if truth))}
    for guess, r in said:
        if r["duplicate"] == "0":
            taken, total = figures["near_misses"].get(r["kind"], (0, 0))
            figures["near_misses"][r["kind"]] = (taken + guess, total + 1)
    return figures


def build(open_cases: int, closed_cases: int, *, seed: int) -> dict:
    """The org tree, a dispatcher, and the cases (raw INSERTs in batches)."""
    import datetime

    from django.db import connection, transaction
    from django.utils import timezone

    from gongzhi.accounts.models import Membership, Role, User
    from gongzhi.cases.models import Case, Category, Source
    from gongzhi.cases.workflow import Status
    from gongzhi.org.factories import make_tree

    rng = random.Random(seed)
    tree = make_tree()
    dispatcher = User.objects.create_user(username="bench-town", real_name="调度", kind=User.Kind.STAFF)
    Membership.objects.create(user=dispatcher, unit=tree["town"], role=Role.DISPATCHER)
    reporter = User.objects.create_user(username="bench-resident", real_name="居民", kind=User.Kind.RESIDENT)
    categories = list(Category.objects.filter(parent__isnull=False, is_active=True, children__isnull=True)
                      .values_list("pk", "version")[:20])
    texts = [text for r in labelled_pairs() for text in (r["a"], r["b"])]
    open_states = [Status.REPORTED, Status.ACCEPTED, Status.DISPATCHED, Status.IN_PROGRESS, Status.HANDLED]
    # (grid id, path, township id, south-west corner): the tree's grids are 0.01° squares.
    town_grids = [(tree[g].pk, tree[g].path, tree["town"].pk, corner)
                  for g, corner in (("grid", (35.58, 104.60)), ("grid2", (35.58, 104.61)), ("grid3", (35.59, 104.60)))]
    other_grid = [(tree["other_grid"].pk, tree["other_grid"].path, tree["other_town"].pk, (35.58, 104.62))]

    now = timezone.now()
    adapt = connection.ops.adapt_datetimefield_value
    columns = ["created_at", "updated_at", "client_id", "category_id", "category_version", "description", "lat",
               "lng", "address", "grid_id", "area_path", "holder_id", "status", "source", "reporter_id",
               "is_anonymous", "is_public", "closed_at"]
    day = datetime.timedelta(days=1)

    def rows(count: int, grids: list, ages: tuple[float, float], closed: bool):
        for _ in range(count):
            grid_id, path, holder, (south, west) = rng.choice(grids)
            category_id, version = rng.choice(categories)
            created = now - rng.uniform(*ages) * day
            closed_at = adapt(created + 5 * day) if closed else None
            yield (adapt(created), adapt(created), uuid.uuid4().hex, category_id, version, rng.choice(texts),
                   south + rng.uniform(0, 0.01), west + rng.uniform(0, 0.01), "", grid_id, path, holder,
                   Status.CLOSED if closed else rng.choice(open_states), Source.RESIDENT, reporter.pk, False, True,
                   closed_at)

    marks = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {Case._meta.db_table} ({', '.join(columns)}) VALUES ({marks})"
    batches = [(open_cases, town_grids, (0.001, 29.9), False), (closed_cases, town_grids, (31, 730), True),
               (1_000, other_grid, (0.001, 29.9), False)]
    for count, grids, ages, closed in batches:
        generated = rows(count, grids, ages, closed)
        for start in range(0, count, BATCH):
            chunk = [next(generated) for _ in range(min(BATCH, count - start))]
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.executemany(sql, chunk)
        _progress(f"  … {count:,} {'closed' if closed else 'open'} cases")
    return {"categories": [pk for pk, _version in categories], "texts": texts}


def baseline(*, category_id: int, lat: float, lng: float, now, user) -> list:
    """The suggestion query as it was before text similarity (cases.selectors at f4945a4)."""
    import math

    from gongzhi.cases import policies, selectors
    from gongzhi.cases.models import Case
    from gongzhi.cases.workflow import OPEN_STATES

    dlat = 250.0 / (math.pi * 6_371_008.8 / 180)
    dlng = dlat / max(math.cos(math.radians(lat)), 1e-6)
    rows = Case.objects.filter(
        category_id=category_id, status__in=OPEN_STATES, merged_into__isnull=True,
        created_at__gte=now - selectors.DUPLICATE_WINDOW, created_at__lte=now,
        lat__gte=lat - dlat, lat__lte=lat + dlat, lng__gte=lng - dlng, lng__lte=lng + dlng)
    if user is not None:
        rows = rows.filter(pk__in=policies.cases_visible_to(user).values("pk"))
    found = []
    for candidate in rows:
        metres = selectors.distance_m(lat, lng, candidate.lat, candidate.lng)
        if metres <= 250.0:
            found.append((metres, candidate.pk, candidate))
    found.sort(key=lambda item: (item[0], item[1]))
    return [candidate for _metres, _pk, candidate in found]


def time_queries(queries: int, built: dict, *, seed: int) -> dict:
    from django.core.signals import request_finished, request_started
    from django.db import connection, reset_queries
    from django.utils import timezone

    from gongzhi.accounts.models import User
    from gongzhi.cases import categories, selectors

    rng = random.Random(seed + 1)
    dispatcher = User.objects.get(username="bench-town")
    now = timezone.now()
    asks = [(rng.choice(built["categories"]), 35.58 + rng.uniform(0.002, 0.008), 104.60 + rng.uniform(0.002, 0.008),
             rng.choice(built["texts"])) for _ in range(queries)]
    kinds = {
        "new, user": lambda c, lat, lng, text: selectors.suggest_duplicates(
            category=categories.by_id(c), lat=lat, lng=lng, text=text, now=now, user=dispatcher),
        "baseline, user": lambda c, lat, lng, text: baseline(category_id=c, lat=lat, lng=lng, now=now,
                                                             user=dispatcher),
        "new, no user": lambda c, lat, lng, text: selectors.suggest_duplicates(
            category=categories.by_id(c), lat=lat, lng=lng, text=text, now=now),
        "baseline, no user": lambda c, lat, lng, text: baseline(category_id=c, lat=lat, lng=lng, now=now, user=None),
    }
    for run in kinds.values():  # warm: caches, the connection, SQLite's pages
        run(*asks[0])
    seconds: dict[str, list[float]] = {name: [] for name in kinds}
    cpu: dict[str, list[float]] = {name: [] for name in kinds}
    returned: dict[str, int] = dict.fromkeys(kinds, 0)
    for ask in asks:
        for name, run in kinds.items():  # alternating, so a change in the machine's load touches all alike
            reset_queries()
            started, started_cpu = time.perf_counter(), time.process_time()
            request_started.send(sender=None)  # as in the report page: cache tokens read once a request
            found = run(*ask)
            request_finished.send(sender=None)
            cpu[name].append(time.process_time() - started_cpu)
            seconds[name].append(time.perf_counter() - started)
            returned[name] += len(found)
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM cases_case")
        total = cursor.fetchone()[0]
    figures = {}
    for name, values in seconds.items():
        values.sort()
        figures[name] = {"median_ms": statistics.median(values) * 1e3,
                         "p95_ms": values[int(0.95 * (len(values) - 1))] * 1e3,
                         "cpu_ms": statistics.fmean(cpu[name]) * 1e3, "returned": returned[name] / len(asks)}
    return {"queries": figures, "total_cases": total}


def child(open_cases: int, closed_cases: int, queries: int, seed: int) -> dict:
    """Runs in the child process, against the temporary database named by the environment."""
    import django

    django.setup()
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    migrate_seconds = time.perf_counter() - started
    started = time.perf_counter()
    built = build(open_cases, closed_cases, seed=seed)
    build_seconds = time.perf_counter() - started
    return {"open": open_cases, "closed": closed_cases, "migrate_seconds": migrate_seconds,
            "build_seconds": build_seconds, "text": precision_recall(), **time_queries(queries, built, seed=seed)}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--open", type=int, default=5_000)
    parser.add_argument("--closed", type=int, default=50_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sizes = ["--open", str(args.open), "--closed", str(args.closed), "--queries", str(args.queries),
             "--seed", str(args.seed)]
    if args.child:
        print(json.dumps(child(args.open, args.closed, args.queries, args.seed)))
        return {}
    with tempfile.TemporaryDirectory(prefix="gongzhi-bench-duplicates-") as tmp:
        env = {**os.environ, "GONGZHI_VAR_DIR": tmp, "DJANGO_SETTINGS_MODULE": "gongzhi.settings",
               "PYTHONPATH": str(ROOT)}
        for name in ("GONGZHI_SQLITE_PATH", "DATABASE_URL", "REDIS_URL"):
            env.pop(name, None)  # never someone's real database or queue
        _progress(f"building {args.open:,} open and {args.closed:,} closed cases in a temporary SQLite database …")
        done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", *sizes],
                              env=env, cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True)
    figures: dict = json.loads(done.stdout.strip().splitlines()[-1])
    text = figures["text"]
    print(f"text similarity ≥ {text['threshold']:g} on the labelled pairs ({text['per_pair_us']:.0f} µs a pair):")
    for split, f in text["splits"].items():
        print(f"  {split:8} {f['pairs']:4} pairs: precision {f['precision']:.3f}, recall {f['recall']:.3f}")
    for kind, (taken, total) in text["near_misses"].items():
        print(f"  near-misses {kind}: {taken}/{total} taken for the same matter")
    print(f"cases: {figures['open']:,} open in 八里镇 (30 days), {figures['closed']:,} closed, 1,000 open in 城关镇 "
          f"({figures['total_cases']:,} in all); build {figures['build_seconds']:.1f} s "
          f"(migrate {figures['migrate_seconds']:.1f} s)")
    print("one suggestion query (CPU-ms is the figure a busy machine leaves stable):")
    for name, f in figures["queries"].items():
        print(f"  {name:18} {f['cpu_ms']:6.2f} CPU-ms; wall median {f['median_ms']:6.2f} ms, "
              f"p95 {f['p95_ms']:6.2f} ms; {f['returned']:.1f} suggestions")
    new = figures["queries"]["new, user"]["cpu_ms"]
    print(f"target: a suggestion (new, user) under {TARGET_MS:g} CPU-ms — {'met' if new < TARGET_MS else 'MISSED'}")
    return figures


if __name__ == "__main__":
    main()
