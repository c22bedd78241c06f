"""民情地图 at city scale: the map's JSON endpoints (p50/p95 against a bare request) and the first view of the whole
city in headless Chromium (time until the grids are drawn, compressed bytes transferred).

    .venv/bin/python bench/map.py [--cases 1000000] [--requests 200] [--browser-runs 3] [--seed 1]

A child process migrates a temporary SQLite database (GONGZHI_VAR_DIR in a temporary folder), writes 兰州's org
tree of `generate --scale city` (8,703 grids with their boundaries; `demo.generate.generate_units`, without the
million residents, which the map never reads), a dispatcher for the city, a county and a township, and
`--cases` open cases by raw INSERTs, each at a random point of a random grid, deadlines spread as bench/sweep.py
spreads them (a few percent red or yellow), plus 500 open marriage disputes (red by the dispute rule). It times
`analytics.services.refresh_grid_states` (what the minute task runs). Then `gongzhi serve --workers 2` serves it
as in production (collected static files, .br/.gz copies), and this process times each endpoint `--requests`
times in turn after a warm-up, next to GET /healthz as the bare baseline, and opens /command/map/ for the city
dispatcher in fresh Chromium contexts (empty cache, 1920×1080): the time from navigation to the `map-ready`
performance mark (boundaries decoded, grids coloured and drawn, panel shown) and the bytes on the wire (CDP
encodedDataLength: headers and bodies as sent).
Targets (issue 11): first view < 2 s and < 1 MB; each map endpoint p95 < 100 ms.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
TARGET_VIEW_SECONDS, TARGET_VIEW_BYTES, TARGET_P95_MS = 2.0, 1_000_000, 100.0
BATCH = 50_000
RESPOND_SHARE = 0.03
DISPUTES = 500


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def build(cases: int, seed: int) -> dict:
    """Runs in the child: the tree, staff, cases and grid states; answers the ids and sessions to use."""
    import datetime

    import django

    django.setup()
    import shapely
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test import Client
    from django.utils import timezone

    from gongzhi.accounts.models import Membership, Role, User
    from gongzhi.analytics import services
    from gongzhi.cases.models import Case, Category, Source
    from gongzhi.cases.workflow import Status
    from gongzhi.demo.generate import generate_units
    from gongzhi.org.models import Level, OrgUnit, UnitKind

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    generate_units(scale="city", seed=seed)
    units_seconds = time.perf_counter() - started
    areas = OrgUnit.objects.filter(kind=UnitKind.AREA)
    city = areas.get(level=Level.CITY)
    county = areas.filter(level=Level.COUNTY).order_by("path").first()
    town = areas.filter(level=Level.TOWNSHIP, path__startswith=county.path).order_by("path").first()
    village = areas.filter(level=Level.VILLAGE, path__startswith=town.path).order_by("path").first()
    grid = areas.filter(level=Level.GRID, parent=village).order_by("path").first()
    sessions = {}
    for name, unit in (("city", city), ("county", county), ("town", town)):
        user = User.objects.create_user(username=f"bench-{name}", real_name=name, kind=User.Kind.STAFF)
        Membership.objects.create(user=user, unit=unit, role=Role.DISPATCHER)
        client = Client()
        client.force_login(user)
        sessions[name] = client.cookies["sessionid"].value
    reporter = User.objects.create_user(username="bench-resident", real_name="居民", kind=User.Kind.RESIDENT)

    rng = random.Random(seed)
    townships = {u.path: u.pk for u in areas.filter(level=Level.TOWNSHIP)}
    grids = []
    for pk, path, boundary in areas.filter(level=Level.GRID).values_list("pk", "path", "boundary"):
        town_path = "/".join(path.split("/")[:3]) + "/"
        grids.append((pk, path, townships[town_path], shapely.geometry.shape(boundary).bounds))
    categories = list(Category.objects.filter(parent__isnull=False, is_active=True).exclude(kind="dispute")
                      .values_list("pk", "version")[:20])
    marriage = Category.objects.filter(code="dispute-marriage").values_list("pk", "version").get()
    now = timezone.now()
    adapt = connection.ops.adapt_datetimefield_value
    columns = ["created_at", "updated_at", "client_id", "category_id", "category_version", "description", "lat",
               "lng", "address", "grid_id", "area_path", "holder_id", "status", "source", "reporter_id",
               "is_anonymous", "is_public", "respond_due", "handle_due"]
    statement = (f"INSERT INTO {Case._meta.db_table} ({', '.join(columns)}) "
                 f"VALUES ({', '.join(['%s'] * len(columns))})")
    hour, day = datetime.timedelta(hours=1), datetime.timedelta(days=1)
    started = time.perf_counter()
    for start in range(0, cases + DISPUTES, BATCH):
        rows = []
        for i in range(start, min(start + BATCH, cases + DISPUTES)):
            grid_id, path, town_id, (west, south, east, north) = grids[rng.randrange(len(grids))]
            category_id, version = marriage if i >= cases else categories[i % len(categories)]
            if rng.random() < RESPOND_SHARE:
                respond_due = now + rng.uniform(-2, 22) * hour
                status, handle_due, created = Status.REPORTED, None, respond_due - 24 * hour
            else:
                handle_due = now + rng.uniform(-0.5, 90) * day
                status, created = Status.IN_PROGRESS, handle_due - rng.uniform(5, 20) * day
                respond_due = created + 24 * hour
            rows.append((adapt(created), adapt(created), uuid.UUID(int=i + 1).hex, category_id, version, "基准测试事件",
                         rng.uniform(south, north), rng.uniform(west, east), "", grid_id, path, town_id, status,
                         Source.RESIDENT, reporter.pk, False, False, adapt(respond_due),
                         adapt(handle_due) if handle_due else None))
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(statement, rows)
        _progress(f"  … {min(start + BATCH, cases + DISPUTES):,} cases")
    cases_seconds = time.perf_counter() - started
    refresh = []
    for _run in range(3):
        started = time.perf_counter()
        result = services.refresh_grid_states()
        refresh.append((time.perf_counter() - started, result.changed))
    return {"units_seconds": units_seconds, "cases_seconds": cases_seconds, "refresh": refresh,
            "sessions": sessions, "grids": len(grids),
            "ids": {"city": city.pk, "county": county.pk, "town": town.pk, "village": village.pk, "grid": grid.pk}}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(port: int, path: str, session: str, **headers: str) -> tuple[int, int, float, dict[str, str]]:
    """(status, body bytes, seconds, headers) of one GET on a new connection, as gunicorn's sync workers close
    each one."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", path, headers={"Cookie": f"sessionid={session}", "Accept-Encoding": "gzip", **headers})
    response = conn.getresponse()
    body = response.read()
    seconds = time.perf_counter() - started
    conn.close()
    return response.status, len(body), seconds, {k.lower(): v for k, v in response.getheaders()}


def time_endpoints(port: int, built: dict, requests: int) -> list[dict]:
    ids, session = built["ids"], built["sessions"]["city"]
    shapes = f"/command/map/{ids['city']}/shapes/"
    cold = _get(port, shapes, session)  # built and encoded by this request
    etag = cold[3]["etag"]
    plan = [("bare: GET /healthz", "/healthz", {}),
            ("map page (city)", "/command/map/", {}),
            ("shapes city (8,703 grids)", shapes, {}),
            ("shapes city, revalidated (304)", shapes, {"If-None-Match": etag}),
            ("shapes county", f"/command/map/{ids['county']}/shapes/", {}),
            ("shapes township", f"/command/map/{ids['town']}/shapes/", {}),
            ("colours city", f"/command/map/{ids['city']}/colours/", {}),
            ("colours township", f"/command/map/{ids['town']}/colours/", {}),
            ("panel city", f"/command/map/{ids['city']}/panel/", {}),
            ("panel county", f"/command/map/{ids['county']}/panel/", {}),
            ("panel village", f"/command/map/{ids['village']}/panel/", {}),
            ("panel grid", f"/command/map/{ids['grid']}/panel/", {}),
            ("cases village", f"/command/map/{ids['village']}/cases/", {}),
            ("cases grid", f"/command/map/{ids['grid']}/cases/", {})]
    rows = []
    for name, path, headers in plan:
        first = cold if path == shapes and not headers else _get(port, path, session, **headers)
        for _warm in range(9):  # every worker builds its own cache
            _get(port, path, session, **headers)
        times, size, status = [], first[1], first[0]
        for _n in range(requests):
            status, size, seconds, _h = _get(port, path, session, **headers)
            times.append(seconds * 1000)
        times.sort()
        rows.append({"name": name, "status": status, "bytes": size, "first_ms": first[2] * 1000,
                     "p50": statistics.median(times), "p95": times[int(len(times) * 0.95) - 1]})
    return rows


def _watch(cdp) -> tuple[dict[str, int], dict[str, str]]:
    """The bytes on the wire and the URL of each request of a page, filled in as they arrive."""
    received: dict[str, int] = {}
    urls: dict[str, str] = {}
    cdp.on("Network.responseReceived", lambda e: urls.__setitem__(e["requestId"], e["response"]["url"]))
    cdp.on("Network.loadingFinished", lambda e: received.__setitem__(e["requestId"], int(e["encodedDataLength"])))
    cdp.send("Network.enable")
    return received, urls


def first_view(port: int, built: dict, runs: int) -> list[dict]:
    from playwright.sync_api import sync_playwright

    city = built["ids"]["city"]
    url = f"http://127.0.0.1:{port}/command/map/"
    results = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        for _run in range(runs):
            context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
            context.add_cookies([{"name": "sessionid", "value": built["sessions"]["city"],
                                  "url": f"http://127.0.0.1:{port}"}])
            page = context.new_page()
            received, urls = _watch(context.new_cdp_session(page))
            page.goto(url)
            page.wait_for_selector(f"html[data-map-ready='{city}']", timeout=60_000)
            page.wait_for_load_state("networkidle")
            ready = page.evaluate("performance.getEntriesByName('map-ready')[0].startTime")
            largest = sorted(((n, urls.get(rid, "?").split("?")[0].rsplit("/", 3)[-3:]) for rid, n
                              in received.items()), reverse=True)[:4]
            results.append({"seconds": ready / 1000, "bytes": sum(received.values()), "requests": len(received),
                            "largest": [(n, "/".join(parts)) for n, parts in largest]})
            context.close()
        browser.close()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--browser-runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(build(args.cases, args.seed)))
        return 0
    with tempfile.TemporaryDirectory(prefix="gongzhi-bench-map-") as tmp:
        env = {**os.environ, "GONGZHI_VAR_DIR": tmp, "DJANGO_SETTINGS_MODULE": "gongzhi.settings",
               "PYTHONPATH": str(ROOT)}
        for name in ("GONGZHI_SQLITE_PATH", "DATABASE_URL", "REDIS_URL", "GONGZHI_MAP_TILE_URL"):
            env.pop(name, None)  # never someone's real database or queue; no tiles: the map's own bytes
        _progress(f"building 兰州's grids and {args.cases:,} open cases in a temporary SQLite database …")
        done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", "--cases", str(args.cases),
                               "--seed", str(args.seed)], env=env, cwd=ROOT, check=True, stdout=subprocess.PIPE,
                              text=True)
        built = json.loads(done.stdout.strip().splitlines()[-1])
        port = _free_port()
        server = subprocess.Popen([sys.executable, "-m", "gongzhi", "serve", "--port", str(port), "--workers", "2"],
                                  env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _try in range(600):
                try:
                    if _get(port, "/healthz", "")[0] in (200, 503):
                        break
                except OSError:
                    time.sleep(0.2)
            endpoints = time_endpoints(port, built, args.requests)
            views = first_view(port, built, args.browser_runs)
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"\n{built['grids']:,} grids (tree written in {built['units_seconds']:.1f} s), "
          f"{args.cases:,} open cases + {DISPUTES} open marriage disputes ({built['cases_seconds']:.0f} s)")
    print("refresh_grid_states (the minute task): " + ", ".join(
        f"{seconds * 1000:.0f} ms ({changed} rows written)" for seconds, changed in built["refresh"]))
    print(f"\n{'endpoint (gunicorn, 2 workers, SQLite)':<34} {'status':>6} {'bytes':>9} {'first ms':>9} "
          f"{'p50 ms':>7} {'p95 ms':>7}")
    for row in endpoints:
        print(f"{row['name']:<34} {row['status']:>6} {row['bytes']:>9,} {row['first_ms']:>9.1f} "
              f"{row['p50']:>7.1f} {row['p95']:>7.1f}")
    worst = max(row["p95"] for row in endpoints[1:])
    print(f"target: map endpoints p95 < {TARGET_P95_MS:.0f} ms — worst {worst:.1f} ms")
    print("\nfirst view of the whole city, fresh Chromium context (1920×1080, empty cache):")
    for view in views:
        print(f"  {view['seconds']:.2f} s to grids drawn, {view['bytes']:,} bytes in {view['requests']} requests; "
              f"largest: " + ", ".join(f"{name} {n:,}" for n, name in view["largest"]))
    median = statistics.median(v["seconds"] for v in views)
    print(f"target: < {TARGET_VIEW_SECONDS:.0f} s and < {TARGET_VIEW_BYTES:,} bytes — median {median:.2f} s, "
          f"{max(v['bytes'] for v in views):,} bytes at most")
    return 0


if __name__ == "__main__":
    sys.exit(main())
