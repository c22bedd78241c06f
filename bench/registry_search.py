"""Person search (一标三实) in a county with a million residents: by name and by ID number (keyed hash), through
`registry.selectors.records.search_people`, as a county dispatcher and as a grid worker, against a bare baseline.

    .venv/bin/python bench/registry_search.py [--residents 1000000] [--queries 200] [--scale county] [--seed 1]

A child process migrates a temporary database (SQLite in a temporary GONGZHI_VAR_DIR; with DATABASE_URL set, a
temporary database created on that PostgreSQL server and dropped after), writes the org tree of `--scale`
(`demo.generate.generate_units`: 安定区 with 12 townships and 1,700 grids at county scale) and `--residents`
people spread unevenly over its grids by raw INSERTs in batches: generated names (surnames by frequency), unique
valid ID numbers encrypted as the model stores them, with their keyed hashes. A county dispatcher and a grid
worker (of the grid holding the most people) are signed up.

Each query runs the selector as a fresh request would (a user object read anew, so the scope is looked up each
time): `--queries` names of people drawn from the whole county (full names: the exact matches, then the names
that start with them) and as many ID numbers (normalised, hashed, looked up on the unique hash index), per
user, in alternation with the baseline (reading the signed-in user by primary key, which every request does) so
a change in the machine's load touches all alike. It prints p50 / p95 / max in ms, and for information a
surname-only search (the widest prefix).

Target (issue 12): p95 < 50 ms for name and ID search, both users.
"""

from __future__ import annotations

import argparse
import bisect
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from generate import fresh_database

ROOT = Path(__file__).resolve().parent.parent
TARGET_MS = 50.0
BATCH = 10_000
TARGETS = ("dispatcher name", "dispatcher id_number", "worker name", "worker id_number")


def build(residents: int, *, scale: str, seed: int) -> dict:
    """The org tree, two staff members and `residents` people (see the module note)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from gongzhi.accounts.models import Membership, Role, User
    from gongzhi.core.pii import encrypt, keyed_hash
    from gongzhi.demo.generate import generate_units
    from gongzhi.demo.generation.people import IdAllocator, NameMaker, birth_for_age
    from gongzhi.org.models import Level, OrgUnit
    from gongzhi.registry.models import Resident

    rng = random.Random(seed)
    generate_units(scale=scale, seed=seed)
    grids = list(OrgUnit.objects.filter(level=Level.GRID).order_by("path").values_list("pk", flat=True))
    county = OrgUnit.objects.filter(level=Level.COUNTY).order_by("path").first()
    weights = [rng.uniform(0.3, 1.7) for _ in grids]
    cumulative = [sum(weights[: i + 1]) for i in range(len(weights))]
    names, ids = NameMaker(), IdAllocator()
    areas = ("621102", "621121", "621122", "620102", "620421")
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    columns = ["created_at", "updated_at", "grid_id", "name", "id_number", "id_number_hash", "phone", "phone_hash",
               "gender", "birth_date", "relation", "residence_type", "ethnicity", "status", "note"]
    marks = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {Resident._meta.db_table} ({', '.join(columns)}) VALUES ({marks})"
    per_grid: dict[int, int] = {}
    sample_names: list[str] = []
    sample_ids: list[str] = []
    keep = max(1, residents // 5000)
    with transaction.atomic():
        for start in range(0, residents, BATCH):
            rows = []
            for i in range(start, min(start + BATCH, residents)):
                grid = grids[bisect.bisect(cumulative, rng.random() * cumulative[-1])]
                per_grid[grid] = per_grid.get(grid, 0) + 1
                gender = "M" if rng.random() < 0.51 else "F"
                birth = birth_for_age(rng, rng.randint(0, 90))
                name = names.surname(rng) + names.given(rng, gender, birth.year)
                id_number = ids.issue(rng.choice(areas), birth, gender)
                if i % keep == 0:
                    sample_names.append(name)
                    sample_ids.append(id_number)
                rows.append((now, now, grid, name, encrypt(id_number), keyed_hash(id_number), "", None, gender,
                             birth.isoformat(), "", "registered", "", "active", ""))
            with connection.cursor() as cursor:
                cursor.executemany(sql, rows)
        busiest = max(per_grid, key=lambda g: per_grid[g])
        for username, unit_id, role in (("bench-dispatcher", county.pk, Role.DISPATCHER),
                                        ("bench-worker", busiest, Role.GRID_WORKER)):
            user = User.objects.create_user(username=username, real_name=username, kind=User.Kind.STAFF)
            Membership.objects.create(user=user, unit_id=unit_id, role=role)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # autovacuum would, minutes after a bulk load
    return {"grids": len(grids), "worker_grid_people": per_grid[busiest], "names": sample_names, "ids": sample_ids}


def child(residents: int, queries: int, scale: str, seed: int) -> dict:
    """Runs in the child process, against the temporary database named by the environment."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from gongzhi.accounts.models import User
    from gongzhi.registry.selectors.records import search_people

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    built = build(residents, scale=scale, seed=seed)
    build_seconds = time.perf_counter() - started
    rng = random.Random(seed + 1)
    names = [rng.choice(built["names"]) for _ in range(queries)]
    ids = [rng.choice(built["ids"]) for _ in range(queries)]
    surnames = [rng.choice(built["names"])[0] for _ in range(max(20, queries // 10))]
    users = {"dispatcher": User.objects.get(username="bench-dispatcher").pk,
             "worker": User.objects.get(username="bench-worker").pk}
    timings: dict[str, list[float]] = {}
    found: dict[str, int] = {}

    def measure(label: str, run) -> None:
        started = time.perf_counter()
        result = run()
        timings.setdefault(label, []).append(time.perf_counter() - started)
        found[label] = found.get(label, 0) + (len(result) if isinstance(result, list) else int(bool(result)))

    for warm in range(3):  # imports, caches, the database's pages
        for pk in users.values():
            search_people(User.objects.get(pk=pk), names[warm])
            search_people(User.objects.get(pk=pk), ids[warm])
    for i in range(queries):
        for role, pk in users.items():
            measure("baseline", lambda pk=pk: User.objects.filter(pk=pk).first())
            user = User.objects.get(pk=pk)  # a fresh request's user: the scope is read again
            measure(f"{role} name", lambda user=user, q=names[i]: search_people(user, q))
            user = User.objects.get(pk=pk)
            measure(f"{role} id_number", lambda user=user, q=ids[i]: search_people(user, q))
            if i < len(surnames):
                user = User.objects.get(pk=pk)
                measure(f"{role} surname only", lambda user=user, q=surnames[i]: search_people(user, q))
    return {"residents": residents, "scale": scale, "grids": built["grids"], "vendor": connection.vendor,
            "build_seconds": build_seconds, "worker_grid_people": built["worker_grid_people"],
            "timings": timings, "found": found, "queries": queries}


def percentile(values: list[float], p: int) -> float:
    if len(values) < 2:
        return 1000 * values[0]
    return 1000 * statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--scale", default="county", choices=["tiny", "township", "county", "city"])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.residents, max(args.queries, 2), args.scale, args.seed)))
        return {}
    with tempfile.TemporaryDirectory(prefix="gongzhi-bench-registry-") as tmp, \
            fresh_database(Path(tmp), "registry") as env:
        env.pop("REDIS_URL", None)
        print(f"building {args.residents:,} residents in a temporary database …", file=sys.stderr, flush=True)
        done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", "--residents",
                               str(args.residents), "--queries", str(args.queries), "--scale", args.scale,
                               "--seed", str(args.seed)],
                              env=env, cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True)
    figures: dict = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"{figures['vendor']}, {figures['residents']:,} residents in {figures['grids']:,} grids "
          f"(built in {figures['build_seconds']:.0f} s; the grid worker's grid holds "
          f"{figures['worker_grid_people']:,}), {figures['queries']} queries each")
    print(f"{'query':<28} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  found")
    worst = 0.0
    for label, values in figures["timings"].items():
        p50, p95 = percentile(values, 50), percentile(values, 95)
        if label in TARGETS:
            worst = max(worst, p95)
        print(f"{label:<28} {p50:8.2f} {p95:8.2f} {1000 * max(values):8.2f}  {figures['found'][label]:,}")
    figures["worst_p95_ms"] = worst
    print(f"target: name and ID search p95 < {TARGET_MS:g} ms — {'met' if worst < TARGET_MS else 'MISSED'} "
          f"(worst {worst:.1f} ms)")
    return figures


if __name__ == "__main__":
    main()
