"""Supervision sweep speed over a million open cases: `cases.sweep.run_sweep`, first and repeated run.

    .venv/bin/python bench/sweep.py [--cases 1000000] [--seed 1]

A child process builds a temporary SQLite database (GONGZHI_VAR_DIR in a temporary folder, migrated), a
tiny org tree (make_tree: 1 county, 2 townships, 4 grids, a few departments) with a dispatcher at each
command centre and a handler at each township department, then bulk-inserts `--cases` open cases spread
over the grids, with one `report` log row each and an `accept` (or `escalate`) row where their state has
one. Deadlines are spread so that a realistic share is due:
    ~3 % reported and ~0.3 % escalated, response limit in [now − 2 h, now + 22 h] (≈ a third within the
          6-hour warning or passed);
    ~0.01 % long overdue on the handling limit, past the grace day (escalated by the first run);
    the rest accepted / dispatched / in progress, handling limit uniform in [now − 12 h, now + 90 days]
          (≈ 2–3 % within the next working day or passed, depending on the weekday).
Besides them, finished cases: `--archived` (default a third as many) rated and archived in past years, which
the archiving step must never read, and ~0.1 % of `--cases` closed or rated in the last 14 days and not
archived yet (about three quarters of them due: rated, or past the 7-day rating window — under one run's
batch, so the second run has nothing left).
It then times `run_sweep(now=…)` twice at the same moment: the first run writes the reminders, overdue marks,
escalations and archivings; the second, right after, must write nothing (no log row, no notification).
Target: each run under 2.5 s (issue 10; it was 5 s before).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 2.5
BATCH = 50_000
RESPOND_SHARE, ESCALATED_SHARE, LONG_OVERDUE_SHARE = 0.03, 0.003, 0.0001
FINISHED_SHARE = 0.001  # of --cases: closed or rated lately, not archived yet
HANDLE_SPREAD_DAYS = (-0.5, 90.0)


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def build(cases: int, *, seed: int, archived: int = 0) -> dict[str, int]:
    """The org tree, staff and `cases` open cases with their first log rows, plus the finished ones (see the
    module note), by raw INSERTs in batches."""
    import datetime

    from django.db import connection, transaction
    from django.utils import timezone

    from gongzhi.accounts.models import Membership, Role, User
    from gongzhi.cases.models import Case, CaseLog, Category, Source
    from gongzhi.cases.workflow import Status
    from gongzhi.org.factories import make_tree

    rng = random.Random(seed)
    tree = make_tree()
    for name, unit, role in [("town", tree["town"], Role.DISPATCHER), ("other", tree["other_town"], Role.DISPATCHER),
                             ("county", tree["county"], Role.DISPATCHER), ("city", tree["city"], Role.DISPATCHER),
                             ("justice", tree["justice"], Role.DEPT_HANDLER),
                             ("police", tree["police"], Role.DEPT_HANDLER)]:
        user = User.objects.create_user(username=f"bench-{name}", real_name=name, kind=User.Kind.STAFF)
        Membership.objects.create(user=user, unit=unit, role=role)
    reporter = User.objects.create_user(username="bench-resident", real_name="居民", kind=User.Kind.RESIDENT)
    categories = list(Category.objects.filter(parent__isnull=False, is_active=True).exclude(kind="dispute")
                      .values_list("pk", "version")[:20])
    grids = [(tree[g].pk, tree[g].path, tree[g].parent.parent) for g in ("grid", "grid2", "grid3")]
    grids.append((tree["other_grid"].pk, tree["other_grid"].path, tree["other_town"]))
    departments = {tree["town"].pk: [tree["justice"].pk, tree["police"].pk], tree["other_town"].pk: []}
    county = tree["county"].pk
    handling = [Status.ACCEPTED, Status.DISPATCHED, Status.DISPATCHED, Status.IN_PROGRESS, Status.IN_PROGRESS,
                Status.IN_PROGRESS, Status.IN_PROGRESS]

    now = timezone.now()
    adapt = connection.ops.adapt_datetimefield_value
    case_columns = ["created_at", "updated_at", "client_id", "category_id", "category_version",
                    "description", "lat", "lng", "address", "grid_id", "area_path", "holder_id", "status", "source",
                    "reporter_id", "is_anonymous", "is_public", "respond_due", "handle_due", "responded_at",
                    "closed_at", "archived_at"]
    log_columns = ["case_id", "seq", "action", "from_status", "to_status", "note", "is_public", "deadlines",
                   "step_key", "created_at"]
    assignment_columns = ["case_id", "unit_id", "role", "is_active", "assigned_at"]

    def insert(table: str, columns: list[str], rows: list[tuple]) -> None:
        marks = ", ".join(["%s"] * len(columns))
        with connection.cursor() as cursor:
            cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {Case._meta.db_table}")
        next_id = cursor.fetchone()[0] + 1
    counts = {"reported": 0, "escalated": 0, "long_overdue": 0, "handling": 0, "finished_lately": 0,
              "archived": 0}
    hour, day = datetime.timedelta(hours=1), datetime.timedelta(days=1)
    for start in range(0, cases, BATCH):
        case_rows, log_rows, assignment_rows = [], [], []
        for i in range(start, min(start + BATCH, cases)):
            pk = next_id + i
            grid_id, path, town = grids[i % len(grids)]
            category_id, version = categories[i % len(categories)]
            draw = rng.random()
            handle_due = responded_at = None
            if draw < RESPOND_SHARE + ESCALATED_SHARE:
                escalated = draw >= RESPOND_SHARE
                respond_due = now + rng.uniform(-2, 22) * hour
                created = respond_due - 24 * hour
                status, holder = (Status.ESCALATED, county) if escalated else (Status.REPORTED, town.pk)
                counts["escalated" if escalated else "reported"] += 1
                if escalated:
                    responded_at = created - 3 * day
                    created -= 5 * day
            else:
                if draw < RESPOND_SHARE + ESCALATED_SHARE + LONG_OVERDUE_SHARE:
                    handle_due = now - rng.uniform(5, 10) * day
                    counts["long_overdue"] += 1
                else:
                    handle_due = now + rng.uniform(*HANDLE_SPREAD_DAYS) * day
                    counts["handling"] += 1
                status, holder = rng.choice(handling), town.pk
                created = handle_due - rng.uniform(5, 20) * day
                respond_due, responded_at = created + 24 * hour, created + 2 * hour
                if status != Status.ACCEPTED and departments[holder]:
                    lead = departments[holder][i % len(departments[holder])]
                    assignment_rows.append((pk, lead, "lead", True, adapt(responded_at)))
            case_rows.append((
                adapt(created), adapt(created), uuid.UUID(int=pk).hex, category_id, version,
                "基准测试事件", 35.585, 104.605, "", grid_id, path, holder, status, Source.RESIDENT, reporter.pk,
                False, True, adapt(respond_due), adapt(handle_due) if handle_due else None,
                adapt(responded_at) if responded_at else None, None, None))
            log_rows.append((pk, 1, "report", Status.REPORTED, Status.REPORTED, "", True, "{}", "", adapt(created)))
            if status != Status.REPORTED:
                action = "escalate" if status == Status.ESCALATED else "accept"
                to = Status.ESCALATED if status == Status.ESCALATED else Status.ACCEPTED
                log_rows.append((pk, 2, action, Status.REPORTED, to, "", True, "{}", "",
                                 adapt(responded_at or created)))
        with transaction.atomic():
            insert(Case._meta.db_table, case_columns, case_rows)
            insert(CaseLog._meta.db_table, log_columns, log_rows)
            insert("cases_assignment", assignment_columns, assignment_rows)
        _progress(f"  … {min(start + BATCH, cases):,} cases")
    finished = [(True, n) for n in range(archived)] + [(False, n) for n in range(int(cases * FINISHED_SHARE))]
    next_id += cases
    for start in range(0, len(finished), BATCH):
        case_rows, log_rows = [], []
        for i, (is_archived, n) in enumerate(finished[start:start + BATCH], start=start):
            pk = next_id + i
            grid_id, path, town = grids[i % len(grids)]
            category_id, version = categories[i % len(categories)]
            closed_at = now - rng.uniform(30, 1000) * day if is_archived else now - rng.uniform(0, 14) * day
            status = Status.RATED if is_archived or n % 2 else Status.CLOSED
            created = closed_at - rng.uniform(3, 20) * day
            counts["archived" if is_archived else "finished_lately"] += 1
            case_rows.append((
                adapt(created), adapt(created), uuid.UUID(int=pk).hex, category_id, version, "基准测试事件", 35.585,
                104.605, "", grid_id, path, town.pk, status, Source.RESIDENT, reporter.pk, False, True,
                adapt(created + 24 * hour), adapt(created + 5 * day), adapt(created + hour), adapt(closed_at),
                adapt(closed_at + day) if is_archived else None))
            log_rows.append((pk, 1, "report", Status.REPORTED, Status.REPORTED, "", True, "{}", "", adapt(created)))
            last = ("rate", Status.CLOSED) if status == Status.RATED else ("close", Status.CONFIRMED)
            log_rows.append((pk, 2, *last, status, "", True, "{}", "", adapt(closed_at)))
        with transaction.atomic():
            insert(Case._meta.db_table, case_columns, case_rows)
            insert(CaseLog._meta.db_table, log_columns, log_rows)
        _progress(f"  … {min(start + BATCH, len(finished)):,} finished cases")
    return counts


def child(cases: int, seed: int, archived: int) -> dict:
    """Runs in the child process, against the temporary database named by the environment."""
    import django

    django.setup()
    from django.core.management import call_command

    from gongzhi.cases.models import CaseLog
    from gongzhi.cases.sweep import run_sweep
    from gongzhi.notifications.models import Notification

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    migrate_seconds = time.perf_counter() - started
    started = time.perf_counter()
    shares = build(cases, seed=seed, archived=archived)
    build_seconds = time.perf_counter() - started
    logs_before = CaseLog.objects.count()

    from django.utils import timezone

    now = timezone.now()  # both runs at the same moment: the second must find everything done
    started = time.perf_counter()
    first = run_sweep(now=now)
    first_seconds = time.perf_counter() - started
    logs_after_first, notes_after_first = CaseLog.objects.count(), Notification.objects.count()
    started = time.perf_counter()
    second = run_sweep(now=now)
    second_seconds = time.perf_counter() - started
    written_again = (CaseLog.objects.count() - logs_after_first) + (Notification.objects.count()
                                                                    - notes_after_first)
    return {
        "cases": cases, "shares": shares, "migrate_seconds": migrate_seconds, "build_seconds": build_seconds,
        "logs_before": logs_before, "first": first.as_dict(), "first_seconds": first_seconds,
        "first_logs_written": logs_after_first - logs_before, "second": second.as_dict(),
        "second_seconds": second_seconds, "second_written": second.written + written_again,
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--archived", type=int, default=None,
                        help="finished cases archived in past years (default: a third of --cases)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    archived = args.cases // 3 if args.archived is None else args.archived
    if args.child:
        print(json.dumps(child(args.cases, args.seed, archived)))
        return {}
    with tempfile.TemporaryDirectory(prefix="gongzhi-bench-sweep-") as tmp:
        env = {**os.environ, "GONGZHI_VAR_DIR": tmp, "DJANGO_SETTINGS_MODULE": "gongzhi.settings",
               "PYTHONPATH": str(ROOT)}
        for name in ("GONGZHI_SQLITE_PATH", "DATABASE_URL", "REDIS_URL"):
            env.pop(name, None)  # never someone's real database or queue
        _progress(f"building {args.cases:,} open cases and {archived:,} archived ones in a temporary SQLite "
                  "database …")
        done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", "--cases",
                               str(args.cases), "--seed", str(args.seed), "--archived", str(archived)],
                              env=env, cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True)
    figures: dict = json.loads(done.stdout.strip().splitlines()[-1])
    first = figures["first"]
    print(f"cases {figures['cases']:,}: {figures['shares']}")
    print(f"build: {figures['build_seconds']:.1f} s (migrate {figures['migrate_seconds']:.1f} s)")
    print(f"first run:  {figures['first_seconds']:.2f} s — reminders {first['reminders']:,}, overdue "
          f"{first['overdue']:,}, escalations {first['escalations']:,} (left {first['escalations_left']:,}), "
          f"archived {first['archived']:,}, log rows written {figures['first_logs_written']:,}")
    print(f"second run: {figures['second_seconds']:.2f} s — rows written {figures['second_written']}")
    slowest = max(figures["first_seconds"], figures["second_seconds"])
    verdict = "met" if slowest < TARGET_SECONDS and figures["second_written"] == 0 else "MISSED"
    print(f"target: each run < {TARGET_SECONDS:g} s and the second writes nothing — {verdict}")
    return figures


if __name__ == "__main__":
    main()
