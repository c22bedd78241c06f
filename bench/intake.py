"""Case intake over the real server: authenticated `POST /api/cases`, against two bare Django views on the
same server, at a few and at many concurrent clients.

    .venv/bin/python bench/intake.py [--seconds 15] [--rounds 5] [--clients 4,32] [--workers N] [--threads T]

A temporary folder holds everything (GONGZHI_VAR_DIR): a child process migrates a fresh database (SQLite in
the folder; PostgreSQL when DATABASE_URL names an empty database), builds the small test tree
(org.factories.make_tree: 1 county, 2 townships, 4 grids, a few departments) and a resident, and signs the
resident in with Django's test client, which stores a real session row; its cookie is what the load clients
send. Then the server starts as in production, `.venv/bin/gongzhi serve --host 127.0.0.1 --port P` (gunicorn,
gthread; its default workers and threads unless given), and each client thread keeps one HTTP/1.1
connection open and posts as fast as answers come. Three loads:

1. intake: `POST /api/cases` with a fresh client_id each time, a random point in 小山村第1网格 (the whole
   service: session, CSRF, strict schema, category and time limit, point → grid and township, the case row
   and its first log row in one transaction), counting only 201 answers;
2. bare + session: `POST /bench/insert`, the same session and user loaded by the middleware, then one
   `Notification.objects.create(...)` — the floor for a signed-in write;
3. bare, no session: `POST /bench/insert-anonymous`, no cookie, the same insert — the floor for any write.

The bare views are not in gongzhi/urls.py: the server runs with DJANGO_SETTINGS_MODULE pointing at a
settings module written into the temporary folder (`from gongzhi.settings import *`, ROOT_URLCONF = this
module), whose `urlpatterns` are gongzhi.urls plus the two views. Nothing else differs from production
settings. The loads alternate in `--rounds` short rounds, so a change in the machine's load touches all alike.

For each load it prints answers/s, server CPU-ms per answered request (the user + system CPU time of every
server process over the phase, read from /proc: the figure that stays stable on a noisy machine, where
rates drift), and the p50 / p95 / p99 latency seen by the clients. Targets (issue 10): intake ≤ 2.0 CPU-ms
per submission; at 32 clients p99 ≤ 3 × p50; intake rate ≥ 0.8 × bare + session; no failed request.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

ROOT = Path(__file__).resolve().parent.parent
TARGET_CPU_MS = 2.0
TARGET_RATIO = 0.8
TARGET_TAIL = 3.0  # p99 / p50 at the largest client count
CSRF = "abcdefghijklmnopqrstuvwxyzABCDEF"  # a well-formed CSRF secret: cookie and header agree
GRID_SW = (35.58, 104.60)  # make_tree's 小山村第1网格: a 0.01° square from here
SETTINGS_MODULE = "intake_bench_settings"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


# ------------------------------------------------------------------ the server side (imported by Django)


@csrf_exempt
def bare_insert(request: HttpRequest) -> HttpResponse:
    """The floor for a signed-in write: the session and user loaded by the middleware, one ORM insert."""
    from gongzhi.notifications.models import Notification

    if not request.user.is_authenticated:
        return HttpResponse(status=401)
    Notification.objects.create(recipient_id=request.user.pk, kind="bench", title="bench")
    return HttpResponse(b"{}", content_type="application/json")


@csrf_exempt
def bare_insert_anonymous(request: HttpRequest) -> HttpResponse:
    """The floor for any write: no session, one ORM insert (for the resident, whose id is in the URL)."""
    from gongzhi.notifications.models import Notification

    Notification.objects.create(recipient_id=int(request.GET["to"]), kind="bench", title="bench")
    return HttpResponse(b"{}", content_type="application/json")


def __getattr__(name: str) -> list:
    """`urlpatterns`, built on first use: include() imports gongzhi.urls, which needs Django set up, and
    this module is also run as the script."""
    if name == "urlpatterns":
        return [path("bench/insert", bare_insert), path("bench/insert-anonymous", bare_insert_anonymous),
                path("", include("gongzhi.urls"))]
    raise AttributeError(name)


# ------------------------------------------------------------------ set-up (in a child process)


def setup() -> None:
    """Migrate, build the tree and a resident, sign in; print the session cookie and the user's id as JSON."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from gongzhi.accounts.models import Membership, Role, User
    from gongzhi.org.factories import make_tree

    call_command("migrate", verbosity=0)
    tree = make_tree()
    resident = User.objects.create_user(username="bench-res", kind=User.Kind.RESIDENT, real_name="压测居民")
    Membership.objects.create(user=resident, unit=tree["grid"], role=Role.RESIDENT)
    client = Client()
    client.force_login(resident)
    print(json.dumps({"sessionid": client.cookies["sessionid"].value, "user": resident.pk}))


# ------------------------------------------------------------------ the load


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_answering(port: int, server: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the server did not answer in time")


def session_processes(*session_ids: int) -> Iterator[list[str]]:
    """The /proc/<pid>/stat fields after "pid (comm) " of every live process in these sessions (a server
    started with `start_new_session=True`: gunicorn's master and workers, or nginx's)."""
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[3]) in session_ids:  # field 6, the session id
            yield fields


def server_cpu_seconds(*session_ids: int) -> float:
    """User + system CPU of every live process in these sessions (fields 14 and 15, utime and stime)."""
    return sum(int(fields[11]) + int(fields[12]) for fields in session_processes(*session_ids)) / CLOCK_TICKS


def server_rss_bytes(*session_ids: int) -> int:
    """Resident memory of every live process in these sessions (field 24, rss in pages)."""
    return sum(int(fields[21]) for fields in session_processes(*session_ids)) * PAGE_SIZE


def case_body() -> bytes:
    lat = GRID_SW[0] + random.uniform(0.001, 0.009)
    lng = GRID_SW[1] + random.uniform(0.001, 0.009)
    return json.dumps({"client_id": str(uuid.uuid4()), "category": "talk-environment",
                       "description": "村口路灯坏了，晚上看不见路。", "lat": lat, "lng": lng,
                       "address": "村口"}).encode()


@dataclass
class Load:
    name: str
    url: str
    expect: int
    body: object
    signed_in: bool
    ok: int = 0
    failed: int = 0
    seconds: float = 0.0
    cpu: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)

    def reset(self) -> None:
        self.ok = self.failed = 0
        self.seconds = self.cpu = 0.0
        self.latencies, self.statuses = [], {}

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms(self) -> float:
        answered = self.ok + self.failed
        return 1000 * self.cpu / answered if answered else float("nan")

    def percentile(self, p: float) -> float:
        if len(self.latencies) < 2:
            return float("nan")
        return 1000 * statistics.quantiles(self.latencies, n=100, method="inclusive")[int(p) - 1]


def run_load(port: int, server_sid: int, sessionid: str, load: Load, seconds: float, clients: int) -> None:
    """`clients` threads post to the load's URL for `seconds`; adds the counts, CPU and latencies to `load`."""
    headers = {"Content-Type": "application/json", "Host": f"127.0.0.1:{port}"}
    if load.signed_in:
        headers |= {"X-CSRFToken": CSRF, "Cookie": f"sessionid={sessionid}; csrftoken={CSRF}"}
    results: list[list[tuple[int, float]]] = [[] for _ in range(clients)]
    stop_at = time.monotonic() + seconds

    def client(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = results[i]
        while time.monotonic() < stop_at:
            body = load.body()  # type: ignore[operator]
            started = time.perf_counter()
            try:
                conn.request("POST", load.url, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                status = -1
            mine.append((status, time.perf_counter() - started))
        conn.close()

    cpu_before, started = server_cpu_seconds(server_sid), time.monotonic()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    load.seconds += time.monotonic() - started
    load.cpu += server_cpu_seconds(server_sid) - cpu_before
    for status, latency in (r for mine in results for r in mine):
        if status == load.expect:
            load.ok += 1
            load.latencies.append(latency)
        else:
            load.failed += 1
            load.statuses[status] = load.statuses.get(status, 0) + 1


def measure(*, seconds: float, rounds: int, client_counts: list[int], workers: int | None,
            threads: int | None) -> dict[int, list[Load]]:
    """Set up, start the server, run the three loads at each client count; the loads measured, by count."""
    with tempfile.TemporaryDirectory(prefix="gongzhi-intake-") as tmp:
        Path(tmp, f"{SETTINGS_MODULE}.py").write_text(
            "from gongzhi.settings import *  # noqa: F403\nROOT_URLCONF = 'bench.intake'\n")
        env = {**os.environ, "GONGZHI_VAR_DIR": tmp, "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE,
               "PYTHONPATH": os.pathsep.join([tmp, str(ROOT)]), "GONGZHI_DEBUG": "0",
               "GONGZHI_LOG_LEVEL": "WARNING"}
        print("preparing a temporary database …", file=sys.stderr, flush=True)
        out = subprocess.run([sys.executable, __file__, "--setup"], env=env, cwd=tmp, check=True,
                             capture_output=True, text=True).stdout
        setup_out = json.loads(out.strip().splitlines()[-1])
        sessionid = setup_out["sessionid"]
        port = free_port()
        command = [str(ROOT / ".venv/bin/gongzhi"), "serve", "--host", "127.0.0.1", "--port", str(port)]
        if workers:
            command += ["--workers", str(workers)]
        if threads:
            command += ["--threads", str(threads)]
        server = subprocess.Popen(command, env=env, cwd=tmp, stdout=subprocess.DEVNULL, start_new_session=True)
        loads = [Load("intake (POST /api/cases)", "/api/cases", 201, case_body, signed_in=True),
                 Load("bare insert + session", "/bench/insert", 200, lambda: b"{}", signed_in=True),
                 Load("bare insert, no session", f"/bench/insert-anonymous?to={setup_out['user']}", 200,
                      lambda: b"{}", signed_in=False)]
        results: dict[int, list[Load]] = {}
        try:
            wait_until_answering(port, server)
            for load in loads:  # warm up every path (imports, the grid index, connections)
                run_load(port, server.pid, sessionid, load, 1.0, max(client_counts))
            for clients in client_counts:
                print(f"{clients} clients: {seconds:g} s per load in {rounds} alternating rounds …",
                      file=sys.stderr, flush=True)
                for load in loads:
                    load.reset()
                for _round in range(rounds):
                    for load in loads:
                        run_load(port, server.pid, sessionid, load, seconds / rounds, clients)
                results[clients] = [Load(**{k: getattr(load, k) for k in load.__dataclass_fields__})
                                    for load in loads]
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=15.0,
                        help="measured time per load and client count (1–60)")
    parser.add_argument("--clients", default="4,32", help="concurrent client threads, comma-separated")
    parser.add_argument("--workers", type=int, help="server processes (default: `gongzhi serve`'s)")
    parser.add_argument("--threads", type=int, help="threads per server process (default: `gongzhi serve`'s)")
    parser.add_argument("--rounds", type=int, default=5, help="alternations of the loads")
    parser.add_argument("--setup", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.setup:
        setup()
        return 0
    database = "PostgreSQL" if os.environ.get("DATABASE_URL") else "SQLite"
    results = measure(seconds=min(max(args.seconds, 1.0), 60.0), rounds=min(max(args.rounds, 1), 10),
                      client_counts=[min(max(int(c), 1), 64) for c in args.clients.split(",")],
                      workers=args.workers, threads=args.threads)

    print(f"{database}, `gongzhi serve`{' --workers ' + str(args.workers) if args.workers else ''}"
          f"{' --threads ' + str(args.threads) if args.threads else ''}, {os.cpu_count()} cores")
    print(f"{'clients':>7}  {'load':<26} {'answers/s':>9} {'CPU-ms/req':>10} {'p50 ms':>7} {'p95 ms':>7} "
          f"{'p99 ms':>7} {'p99/p50':>7}  failed")
    passed = True
    for clients, measured in results.items():
        for load in measured:
            p50, p99 = load.percentile(50), load.percentile(99)
            print(f"{clients:>7}  {load.name:<26} {load.rate:9.1f} {load.cpu_ms:10.2f} {p50:7.1f} "
                  f"{load.percentile(95):7.1f} {p99:7.1f} {p99 / p50:7.2f}  {load.failed}"
                  f"{' ' + str(load.statuses) if load.statuses else ''}")
            passed &= load.failed == 0
    last = max(results)
    intake, bare = results[last][0], results[last][1]
    ratio = intake.rate / bare.rate if bare.rate else 0.0
    cpu = max(measured[0].cpu_ms for measured in results.values())
    tail = intake.percentile(99) / intake.percentile(50)
    verdicts = [(f"intake CPU-ms per submission {cpu:.2f}", f"≤ {TARGET_CPU_MS}", cpu <= TARGET_CPU_MS),
                (f"intake p99/p50 at {last} clients {tail:.2f}", f"≤ {TARGET_TAIL}", tail <= TARGET_TAIL),
                (f"intake / bare + session at {last} clients {ratio:.2f}", f"≥ {TARGET_RATIO}",
                 ratio >= TARGET_RATIO)]
    for text, target, ok in verdicts:
        print(f"{text} (target {target}): {'OK' if ok else 'BELOW TARGET'}")
        passed &= ok
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
