"""Case intake speed over the real server: authenticated `POST /api/cases` per second, against a bare
Django view doing one ORM insert on the same server, same middleware, same session.

    .venv/bin/python bench/intake.py [--seconds 15] [--rounds 5] [--clients 4] [--workers N] [--threads 4]

A temporary folder holds everything (GONGZHI_VAR_DIR): a child process migrates a fresh SQLite database
(the preset categories come with the migrations), builds the small test tree (org.factories.make_tree:
1 county, 2 townships, 4 grids, a few departments) and a resident, and signs the resident in with Django's
test client, which stores a real session row; its cookie is what the load clients send. Then the server
starts as in production, `.venv/bin/gongzhi serve --host 127.0.0.1 --port P --workers N` (gunicorn,
gthread), and `--clients` threads each keep one HTTP/1.1 connection open and post as fast as answers come:

1. `POST /api/cases` with a fresh client_id each time, a random point in 小山村第1网格 (the whole service:
   session + CSRF checks, strict schema, category and time limit, point → grid and township, the case row
   and its first log row in one transaction), counting only 201 answers;
2. `POST /bench/insert`: the bare view — the same session is loaded (request.user), then one
   `Notification.objects.create(...)` — counting only 200 answers.

The bare view is not in gongzhi/urls.py: the server runs with DJANGO_SETTINGS_MODULE pointing at a settings
module written into the temporary folder (`from gongzhi.settings import *`, ROOT_URLCONF = this module), and
this module's `urlpatterns` are gongzhi.urls plus /bench/insert. Nothing else differs from production
settings. The two loads alternate in `--rounds` short rounds, so a change in the machine's load during the
run touches both alike. Prints both rates and their ratio (target: intake ≥ 0.5 × bare insert), then stops
the server.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

from gongzhi.cli.serve import default_web_workers

ROOT = Path(__file__).resolve().parent.parent
TARGET_RATIO = 0.5
CSRF = "abcdefghijklmnopqrstuvwxyzABCDEF"  # a well-formed CSRF secret: cookie and header agree
GRID_SW = (35.58, 104.60)  # make_tree's 小山村第1网格: a 0.01° square from here
SETTINGS_MODULE = "intake_bench_settings"


# ------------------------------------------------------------------ the server side (imported by Django)


@csrf_exempt
def bare_insert(request: HttpRequest) -> HttpResponse:
    """The floor: the session and user loaded by the middleware, then one ORM insert."""
    from gongzhi.notifications.models import Notification

    if not request.user.is_authenticated:
        return HttpResponse(status=401)
    Notification.objects.create(recipient_id=request.user.pk, kind="bench", title="bench")
    return HttpResponse(b"{}", content_type="application/json")


def __getattr__(name: str) -> list:
    """`urlpatterns`, built on first use: include() imports gongzhi.urls, which needs Django set up, and
    this module is also run as the script."""
    if name == "urlpatterns":
        return [path("bench/insert", bare_insert), path("", include("gongzhi.urls"))]
    raise AttributeError(name)


# ------------------------------------------------------------------ set-up (in a child process)


def setup() -> None:
    """Migrate, build the tree and a resident, sign in; print the session cookie as JSON."""
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
    print(json.dumps({"sessionid": client.cookies["sessionid"].value}))


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


def case_body() -> bytes:
    lat = GRID_SW[0] + random.uniform(0.001, 0.009)
    lng = GRID_SW[1] + random.uniform(0.001, 0.009)
    return json.dumps({"client_id": str(uuid.uuid4()), "category": "talk-environment",
                       "description": "村口路灯坏了，晚上看不见路。", "lat": lat, "lng": lng,
                       "address": "村口"}).encode()


def run_load(port: int, sessionid: str, url: str, expect: int, body, seconds: float,
             clients: int) -> tuple[int, int, float]:
    """(successes, failures, elapsed) for `clients` threads posting to `url` for `seconds`."""
    headers = {"Content-Type": "application/json", "X-CSRFToken": CSRF, "Host": f"127.0.0.1:{port}",
               "Cookie": f"sessionid={sessionid}; csrftoken={CSRF}"}
    ok, bad = [0] * clients, [0] * clients
    statuses: dict[int, int] = {}
    stop_at = time.monotonic() + seconds

    def client(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.monotonic() < stop_at:
            try:
                conn.request("POST", url, body=body(), headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                status = -1
            if status == expect:
                ok[i] += 1
            else:
                bad[i] += 1
                statuses[status] = statuses.get(status, 0) + 1
        conn.close()

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if statuses:
        print(f"  {url}: unexpected answers {statuses}", file=sys.stderr)
    return sum(ok), sum(bad), time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each measured phase (10–30)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent client threads")
    parser.add_argument("--workers", type=int, default=default_web_workers(),
                        help="server processes (default: what `gongzhi serve` starts on this machine)")
    parser.add_argument("--threads", type=int, default=4, help="threads per server process")
    parser.add_argument("--rounds", type=int, default=5, help="alternations of the two measurements")
    parser.add_argument("--setup", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.setup:
        setup()
        return 0
    args.seconds = min(max(args.seconds, 1.0), 30.0)
    args.rounds = min(max(args.rounds, 1), 10)

    with tempfile.TemporaryDirectory(prefix="gongzhi-intake-") as tmp:
        Path(tmp, f"{SETTINGS_MODULE}.py").write_text(
            "from gongzhi.settings import *  # noqa: F403\nROOT_URLCONF = 'bench.intake'\n")
        env = {**os.environ, "GONGZHI_VAR_DIR": tmp, "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE,
               "PYTHONPATH": os.pathsep.join([tmp, str(ROOT)]), "GONGZHI_DEBUG": "0",
               "GONGZHI_LOG_LEVEL": "WARNING"}
        print("preparing a temporary database …", file=sys.stderr, flush=True)
        out = subprocess.run([sys.executable, __file__, "--setup"], env=env, cwd=tmp, check=True,
                             capture_output=True, text=True).stdout
        sessionid = json.loads(out.strip().splitlines()[-1])["sessionid"]
        port = free_port()
        server = subprocess.Popen(
            [str(ROOT / ".venv/bin/gongzhi"), "serve", "--host", "127.0.0.1", "--port", str(port),
             "--workers", str(args.workers), "--threads", str(args.threads)],
            env=env, cwd=tmp, stdout=subprocess.DEVNULL, start_new_session=True)
        try:
            wait_until_answering(port, server)
            # Warm up both paths (imports, the grid index, connections) before measuring.
            run_load(port, sessionid, "/api/cases", 201, case_body, 1.0, args.clients)
            run_load(port, sessionid, "/bench/insert", 200, lambda: b"{}", 1.0, args.clients)
            print(f"measuring {args.seconds:g} s each in {args.rounds} alternating rounds, {args.clients} clients, "
                  f"{args.workers} workers × {args.threads} threads …", file=sys.stderr, flush=True)
            # Alternating short rounds, so a change in the machine's load during the run touches both alike.
            intake_ok = intake_bad = bare_ok = bare_bad = 0
            intake_s = bare_s = 0.0
            for _round in range(args.rounds):
                ok, bad, elapsed = run_load(port, sessionid, "/api/cases", 201, case_body,
                                            args.seconds / args.rounds, args.clients)
                intake_ok, intake_bad, intake_s = intake_ok + ok, intake_bad + bad, intake_s + elapsed
                ok, bad, elapsed = run_load(port, sessionid, "/bench/insert", 200, lambda: b"{}",
                                            args.seconds / args.rounds, args.clients)
                bare_ok, bare_bad, bare_s = bare_ok + ok, bare_bad + bad, bare_s + elapsed
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    intake_rate, bare_rate = intake_ok / intake_s, bare_ok / bare_s
    ratio = intake_rate / bare_rate if bare_rate else 0.0
    print(f"case submissions (POST /api/cases): {intake_rate:8.1f}/s  ({intake_ok} created, {intake_bad} failed)")
    print(f"bare view, one ORM insert:          {bare_rate:8.1f}/s  ({bare_ok} ok, {bare_bad} failed)")
    print(f"ratio: {ratio:.2f} (target ≥ {TARGET_RATIO})  {'OK' if ratio >= TARGET_RATIO else 'BELOW TARGET'}")
    return 0 if ratio >= TARGET_RATIO and not intake_bad and not bare_bad else 1


if __name__ == "__main__":
    sys.exit(main())
