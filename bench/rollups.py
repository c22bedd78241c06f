"""KPI rollups at city scale: folding the case log from empty, the fold's cost per case step, and the
assessment page (考核评价) for a city, a county and a township viewer.

    .venv/bin/python bench/rollups.py [--cases 200000] [--months 24] [--requests 40] [--seed 1]

A child process migrates a temporary SQLite database (GONGZHI_VAR_DIR in a temporary folder; PostgreSQL when
DATABASE_URL names an empty database) and builds, with raw INSERTs: a city of 7 counties, 14 townships each
(98), 15 villages per township (1,470) and 6 grids per village (8,820 grids, as 兰州's 8,703), 8 departments per
township; a dispatcher per township and a handler per department; then `--cases` cases spread evenly over
the grids and over `--months` months up to now, each with the log rows of its story — 上报, 受理 (5 % after the
response limit), 派单, 签收, 办结 (12 % after the handling limit), 回访, 结案 and a rating (满意 70 %, 基本满意
20 %, 不满意 10 %, which reopens) — except the newest 8 %, left open at some step: about 8 log rows per
case, each with its deadline snapshot and the unit the actor acted for, as `transition` writes them.

It then prints:
1. the fold from empty (`analytics.rollups.catch_up`): seconds, log rows per second, CPU-ms per 1,000 rows;
2. the fold's cost per step in steady state: 2,000 more log rows written, then folded;
3. the assessment page for this month and for the last 12 months, as a city, a county and a township
   dispatcher see it (Django's test client, `--requests` each): p50 / p95 ms, against a bare signed-in view
   in the same run. Target (issue 11): p95 < 100 ms.
4. the dashboard (数据看板, issue 11 item 2) for the same three viewers, after the grid states are computed
   (`refresh_grid_states`, timed): the page, the big screen, the live stream's poll with nothing new (204) and
   with one new case in scope, and each data selector called alone (tiles, trends, category mix, hotspots,
   rankings, the newest cases), p50 / p95 ms against the bare view.
"""

from __future__ import annotations

import argparse
import datetime
import functools
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
TARGET_P95_MS = 100.0
BATCH = 20_000
COUNTIES, TOWNSHIPS, VILLAGES, GRIDS, DEPARTMENTS = 7, 14, 15, 6, 8


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def bare(request):  # the floor: a signed-in view that reads nothing
    from django.http import HttpResponse

    return HttpResponse(b"ok" if request.user.is_authenticated else b"no")


def build_tree() -> dict:
    """The city's units by raw INSERT; returns what the cases need."""
    from django.db import connection, transaction
    from django.utils import timezone

    from gongzhi.org.models import OrgUnit

    now = connection.ops.adapt_datetimefield_value(timezone.now())
    rows, next_id = [], 1
    grids, departments, townships, counties = [], {}, [], []

    def unit(parent_path: str, code: str, name: str, level: str, kind: str = "area", dept: str = "",
             parent_id: int | None = None) -> tuple[int, str]:
        nonlocal next_id
        pk, path = next_id, parent_path + code + "/"
        next_id += 1
        rows.append((pk, parent_id, name, code, level, kind, dept, path, path.count("/") - 1, True, now, now))
        return pk, path

    city = unit("", "6201", "兰州市", "city")
    for c in range(COUNTIES):
        county = unit(city[1], f"6201{c:02d}", f"第{c + 1}区", "county", parent_id=city[0])
        counties.append(county)
        for t in range(TOWNSHIPS):
            town = unit(county[1], f"6201{c:02d}{t:03d}", f"第{c + 1}区第{t + 1}镇", "township", parent_id=county[0])
            townships.append(town)
            departments[town[0]] = [unit(town[1], f"6201{c:02d}{t:03d}D{d}", f"第{c + 1}区第{t + 1}镇部门{d + 1}",
                                         "township", "department", "other", town[0]) for d in range(DEPARTMENTS)]
            for v in range(VILLAGES):
                village = unit(town[1], f"6201{c:02d}{t:03d}{v:03d}", f"村{c}-{t}-{v}", "village", parent_id=town[0])
                for g in range(GRIDS):
                    grids.append((*unit(village[1], f"6201{c:02d}{t:03d}{v:03d}{g:03d}", f"网格{c}-{t}-{v}-{g}",
                                        "grid", parent_id=village[0]), town[0]))
    table = OrgUnit._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} (id, parent_id, name, code, level, kind, department_type, path, depth, "
            "is_active, created_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)", rows)
    return {"city": city, "counties": counties, "townships": townships, "departments": departments,
            "grids": grids}


def build_people(tree: dict) -> dict:
    from gongzhi.accounts.models import Membership, Role, User

    def staff(username: str, unit_id: int, role: str) -> int:
        user = User.objects.create_user(username=username, real_name=username, kind=User.Kind.STAFF)
        Membership.objects.create(user=user, unit_id=unit_id, role=role)
        return user.pk

    people = {"city": staff("bench-city", tree["city"][0], Role.DISPATCHER),
              "county": staff("bench-county", tree["counties"][0][0], Role.DISPATCHER),
              "dispatchers": {}, "handlers": {}}
    for town_id, _path in tree["townships"]:
        people["dispatchers"][town_id] = staff(f"bench-d{town_id}", town_id, Role.DISPATCHER)
        for dept_id, _dpath in tree["departments"][town_id]:
            people["handlers"][dept_id] = staff(f"bench-h{dept_id}", dept_id, Role.DEPT_HANDLER)
    people["resident"] = User.objects.create_user(username="bench-res", kind=User.Kind.RESIDENT).pk
    people["township"] = people["dispatchers"][tree["townships"][0][0]]
    return people


def build_cases(tree: dict, people: dict, cases: int, months: int, seed: int) -> int:
    """`cases` cases with their stories' log rows and ratings; returns the log rows written."""
    from django.db import connection, transaction
    from django.utils import timezone

    from gongzhi.cases.models import Case, CaseLog, Category, Rating, Source

    rng = random.Random(seed)
    adapt = connection.ops.adapt_datetimefield_value
    category_id, version = Category.objects.filter(code="talk-environment").values_list("pk", "version").get()
    now = timezone.now()
    span = datetime.timedelta(days=30.4 * months)
    hour, day = datetime.timedelta(hours=1), datetime.timedelta(days=1)
    case_cols = ("id", "created_at", "updated_at", "client_id", "category_id", "category_version", "description",
                 "lat", "lng", "address", "grid_id", "area_path", "holder_id", "status", "source", "reporter_id",
                 "is_anonymous", "is_public", "respond_due", "handle_due", "responded_at", "closed_at")
    log_cols = ("case_id", "seq", "action", "from_status", "to_status", "actor_id", "actor_unit_id", "note",
                "is_public", "deadlines", "step_key", "created_at")
    rating_cols = ("case_id", "rater_id", "handling_unit_id", "score", "comment", "round", "created_at")

    def insert(table: str, cols: tuple[str, ...], rows: list[tuple]) -> None:
        if rows:
            with connection.cursor() as cursor:
                cursor.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES "
                                   f"({', '.join(['%s'] * len(cols))})", rows)

    def snapshot(respond, handle) -> str:
        return json.dumps({"respond_due": respond.isoformat() if respond else None,
                           "handle_due": handle.isoformat() if handle else None})

    written = 0
    grids = tree["grids"]
    for start in range(0, cases, BATCH):
        case_rows, log_rows, rating_rows = [], [], []
        for i in range(start, min(start + BATCH, cases)):
            pk = i + 1
            grid_id, path, town_id = grids[i % len(grids)]
            # Reported until three weeks ago, so that the latest step of the latest case is in the past too.
            created = now - 21 * day - span * (1 - i / cases) + rng.uniform(0, 3600) * datetime.timedelta(seconds=1)
            respond_due, dispatcher = created + 24 * hour, people["dispatchers"][town_id]
            dept_id = tree["departments"][town_id][i % DEPARTMENTS][0]
            handler = people["handlers"][dept_id]
            steps = 7 if i < cases * 0.92 else rng.randint(0, 6)
            accept_at = respond_due + hour if rng.random() < 0.05 else created + rng.uniform(0.5, 20) * hour
            handle_due = accept_at + 14 * day
            t = [created, accept_at, accept_at + hour, accept_at + 3 * hour,
                 handle_due + 2 * day if rng.random() < 0.12 else accept_at + rng.uniform(1, 12) * day]
            t += [t[4] + day, t[4] + 2 * day, t[4] + 3 * day]
            story = [("report", "reported", "reported", people["resident"], None, None),
                     ("accept", "reported", "accepted", dispatcher, town_id, None),
                     ("dispatch", "accepted", "dispatched", dispatcher, town_id, handle_due),
                     ("sign", "dispatched", "in_progress", handler, dept_id, handle_due),
                     ("complete", "in_progress", "handled", handler, dept_id, handle_due),
                     ("confirm", "handled", "confirmed", dispatcher, town_id, handle_due),
                     ("close", "confirmed", "closed", dispatcher, town_id, handle_due)]
            status = story[min(steps, 6)][2]
            closed = t[6] if steps >= 6 else None
            for seq, (action, before, after, actor, unit_id, due) in enumerate(story[:steps + 1], start=1):
                log_rows.append((pk, seq, action, before, after, actor, unit_id, "", True,
                                 snapshot(respond_due, due if seq > 1 else None), "", adapt(t[seq - 1])))
            if steps >= 7 or (steps == 6 and rng.random() < 0.5):
                score = rng.choices(["satisfied", "basic", "unsatisfied"], [70, 20, 10])[0]
                action, after = ("rate_unsatisfied", "reopened") if score == "unsatisfied" else ("rate", "rated")
                log_rows.append((pk, 8, action, "closed", after, people["resident"], None, "", True,
                                 snapshot(respond_due, handle_due), "", adapt(t[7])))
                rating_rows.append((pk, people["resident"], dept_id, score, "", 1, adapt(t[7])))
                status, closed = after, (None if after == "reopened" else closed)
            case_rows.append((pk, adapt(created), adapt(created), uuid.UUID(int=pk).hex, category_id, version,
                              "基准测试事件", 36.06, 103.83, "", grid_id, path, town_id, status, Source.RESIDENT,
                              people["resident"], False, True, adapt(respond_due),
                              adapt(handle_due) if steps >= 1 else None, adapt(accept_at) if steps >= 1 else None,
                              adapt(closed) if closed else None))
        with transaction.atomic():
            insert(Case._meta.db_table, case_cols, case_rows)
            insert(CaseLog._meta.db_table, log_cols, log_rows)
            insert(Rating._meta.db_table, rating_cols, rating_rows)
        written += len(log_rows)
        _progress(f"  … {min(start + BATCH, cases):,} cases, {written:,} log rows")
    return written


def cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def timed_requests(client, url: str, count: int, status: int = 200) -> list[float]:
    found = []
    for _ in range(count):
        started = time.perf_counter()
        response = client.get(url)
        found.append((time.perf_counter() - started) * 1000)
        assert response.status_code == status, (url, response.status_code)
    return found


def timed_calls(call, count: int) -> list[float]:
    found = []
    for _ in range(count):
        started = time.perf_counter()
        call()
        found.append((time.perf_counter() - started) * 1000)
    return found


def time_dashboard(people: dict, tree: dict, requests: int, pages: dict) -> None:
    """The dashboard's endpoints and selectors for a city, a county and a township dispatcher."""
    from django.test import Client
    from django.utils import timezone

    from gongzhi.accounts.models import User
    from gongzhi.analytics import selectors
    from gongzhi.cases.models import Case

    newest = Case.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    # The newest case lies in the first township (the steady-state reports), so every viewer has one new case
    # after `newest - 1`.
    today = timezone.localdate()
    for name, user_id in (("city", people["city"]), ("county", people["county"]),
                          ("township", people["township"])):
        client = Client()
        user = User.objects.get(pk=user_id)
        client.force_login(user)
        client.get("/command/dashboard/")  # warm
        unit = selectors.dashboard_unit(user)
        pages[f"dash {name} bare view"] = timed_requests(client, "/bench/bare", requests)
        pages[f"dash {name} page"] = timed_requests(client, "/command/dashboard/", requests)
        pages[f"dash {name} big screen"] = timed_requests(client, "/command/dashboard/screen/", requests)
        pages[f"dash {name} poll, nothing new"] = timed_requests(
            client, f"/command/dashboard/poll/?unit={unit.pk}&after={newest}", requests, status=204)
        pages[f"dash {name} poll, one new"] = timed_requests(
            client, f"/command/dashboard/poll/?unit={unit.pk}&after={newest - 1}", requests)
        calls = {reader: functools.partial(getattr(selectors, reader), user, unit, today=today)
                 for reader in ("tiles", "trends", "category_mix", "rankings")}
        calls["hotspots"] = functools.partial(selectors.hotspots, user, unit)
        calls["newest_cases"] = functools.partial(selectors.newest_cases, user, unit)
        for reader, call in calls.items():
            pages[f"dash {name} {reader}()"] = timed_calls(call, requests)


def child(cases: int, months: int, requests: int, seed: int) -> dict:
    import django

    django.setup()
    from django.apps import apps
    from django.core.management import call_command
    from django.core.management.color import no_style
    from django.db import connection
    from django.test import Client, override_settings
    from django.urls import include, path
    from django.utils import timezone

    from gongzhi.accounts.models import User
    from gongzhi.analytics import rollups
    from gongzhi.analytics.models import CategoryCount, DayCount, KpiCount
    from gongzhi.cases import services
    from gongzhi.cases.factories import report
    from gongzhi.cases.models import Category
    from gongzhi.cases.workflow import Action

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    tree = build_tree()
    people = build_people(tree)
    logs = build_cases(tree, people, cases, months, seed)
    if connection.vendor == "postgresql":  # rows were inserted with their ids: move the sequences past them
        with connection.cursor() as cursor:
            for statement in connection.ops.sequence_reset_sql(no_style(), apps.get_models()):
                cursor.execute(statement)
            cursor.execute("ANALYZE")  # autovacuum would, minutes after a bulk load
    figures: dict = {"cases": cases, "logs": logs, "grids": len(tree["grids"]),
                     "build_seconds": time.perf_counter() - started}

    _progress("folding the log from empty …")
    cpu, started = cpu_seconds(), time.perf_counter()
    progress = rollups.rebuild()
    figures["fold"] = {"seconds": time.perf_counter() - started, "cpu": cpu_seconds() - cpu,
                       "logs": progress.logs, "ratings": progress.ratings, "rows": KpiCount.objects.count(),
                       "day_rows": DayCount.objects.count(), "category_rows": CategoryCount.objects.count()}

    _progress("2,000 more steps, then folding them …")
    resident = User.objects.get(username="bench-res")
    town_id = tree["townships"][0][0]
    dispatcher = User.objects.get(pk=people["dispatchers"][town_id])
    category = Category.objects.get(code="talk-environment")
    from gongzhi.org.models import OrgUnit

    grid = OrgUnit.objects.filter(path__startswith=tree["townships"][0][1], level="grid").first()
    assert grid is not None
    # The bench's grids have no boundaries; this one gets a square, so reports find it.
    grid.boundary = {"type": "Polygon", "coordinates": [[[103.82, 36.05], [103.84, 36.05], [103.84, 36.07],
                                                         [103.82, 36.07], [103.82, 36.05]]]}
    grid.save()
    steps = 0
    with override_settings(ROLLUP_SETTLE_SECONDS=0):
        while steps < 2000:
            case = report(resident, category, lat=36.06, lng=103.83)
            services.take_action(actor=dispatcher, case=case, action=Action.ACCEPT)
            steps += 2
        cpu, started = cpu_seconds(), time.perf_counter()
        progress = rollups.catch_up(now=timezone.now() + datetime.timedelta(seconds=1))
        figures["steady"] = {"seconds": time.perf_counter() - started, "cpu": cpu_seconds() - cpu,
                             "logs": progress.logs}

    _progress("the assessment page …")
    import types

    urls = types.ModuleType("bench_rollups_urls")
    urls.urlpatterns = [path("bench/bare", bare), path("", include("gongzhi.urls"))]  # type: ignore[attr-defined]
    sys.modules["bench_rollups_urls"] = urls
    this_month = f"{timezone.localdate():%Y-%m}"
    year_ago = f"{(timezone.localdate() - datetime.timedelta(days=334)):%Y-%m}"
    pages = {}
    from django.conf import settings

    # Pages name their static files; the bench serves none, so no collected manifest is needed.
    storages = {**settings.STORAGES,
                "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    with override_settings(ROOT_URLCONF="bench_rollups_urls", ALLOWED_HOSTS=["*"], STORAGES=storages):
        for name, user_id in (("city", people["city"]), ("county", people["county"]),
                              ("township", people["township"])):
            client = Client()
            client.force_login(User.objects.get(pk=user_id))
            client.get("/command/assessment/")  # warm
            pages[f"{name} bare view"] = timed_requests(client, "/bench/bare", requests)
            pages[f"{name} this month"] = timed_requests(client, f"/command/assessment/?from={this_month}", requests)
            pages[f"{name} 12 months"] = timed_requests(
                client, f"/command/assessment/?from={year_ago}&to={this_month}", requests)
        _progress("the grid states, then the dashboard …")
        from gongzhi.analytics import services as analytics_services

        started = time.perf_counter()
        analytics_services.refresh_grid_states()
        figures["grid_states_seconds"] = time.perf_counter() - started
        time_dashboard(people, tree, requests, pages)
    figures["pages"] = {name: {"p50": statistics.median(found), "p95": sorted(found)[int(len(found) * 0.95) - 1]}
                        for name, found in pages.items()}
    return figures


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.cases, args.months, args.requests, args.seed)))
        return {}
    with tempfile.TemporaryDirectory(prefix="gongzhi-bench-rollups-") as tmp:
        env = {**os.environ, "GONGZHI_VAR_DIR": tmp, "DJANGO_SETTINGS_MODULE": "gongzhi.settings",
               "PYTHONPATH": str(ROOT)}
        for name in ("GONGZHI_SQLITE_PATH", "REDIS_URL"):
            env.pop(name, None)
        database = "PostgreSQL" if env.get("DATABASE_URL") else "SQLite"
        _progress(f"building {args.cases:,} cases over {args.months} months in a temporary {database} database …")
        done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", "--cases", str(args.cases),
                               "--months", str(args.months), "--requests", str(args.requests), "--seed",
                               str(args.seed)], env=env, cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True)
    figures: dict = json.loads(done.stdout.strip().splitlines()[-1])
    fold, steady = figures["fold"], figures["steady"]
    print(f"{database}: {figures['cases']:,} cases, {figures['logs']:,} log rows, {figures['grids']:,} grids "
          f"(built in {figures['build_seconds']:.0f} s)")
    print(f"fold from empty: {fold['seconds']:.1f} s for {fold['logs']:,} log rows and {fold['ratings']:,} ratings "
          f"= {fold['logs'] / fold['seconds']:,.0f} rows/s, {fold['cpu'] / fold['logs'] * 1e6:.0f} CPU-µs a row; "
          f"{fold['rows']:,} KPI count rows, {fold['day_rows']:,} day rows, {fold['category_rows']:,} category rows")
    print(f"steady state: {steady['logs']:,} new log rows folded in {steady['seconds'] * 1000:.0f} ms = "
          f"{steady['cpu'] / max(steady['logs'], 1) * 1e6:.0f} CPU-µs a step")
    print(f"grid states computed in {figures['grid_states_seconds']:.1f} s")
    worst = {"assessment": 0.0, "dashboard": 0.0}
    for name, found in figures["pages"].items():
        print(f"{name:40} p50 {found['p50']:6.1f} ms   p95 {found['p95']:6.1f} ms")
        if "bare" not in name:
            kind = "dashboard" if name.startswith("dash ") else "assessment"
            worst[kind] = max(worst[kind], found["p95"])
    for kind, p95 in worst.items():
        verdict = "met" if p95 < TARGET_P95_MS else "MISSED"
        print(f"{kind} p95 < {TARGET_P95_MS:g} ms: {verdict} (worst {p95:.1f} ms)")
    return figures


if __name__ == "__main__":
    main()
