"""Intake under attack: residents keep submitting cases while others upload image bombs and pump SMS codes.

    .venv/bin/python bench/hostile.py [--seconds 30] [--intake 4] [--bombs 20] [--pumps 20] [--direct]

Set-up as in bench/intake.py (a temporary folder, a fresh database, the small test tree, a signed-in
resident; the application started as in production with `gongzhi serve`), with nginx in front of it as in
production: Debian's nginx (`apt-get install nginx`) runs deploy/nginx/gongzhi.conf, the file
docs/deploy.md tells operators to install, with the bench's ports and folder and without TLS.
`--direct` sends everything to `gongzhi serve` itself, as a pilot without nginx would. Two phases of
`--seconds` each:

1. quiet: `--intake` clients post cases (`POST /api/cases`, as in bench/intake.py);
2. hostile: the same intake clients, plus `--bombs` clients uploading a 258 KB PNG of 9,400 × 9,400 pixels
   (88 MP, ~0.9 GB when decoded) to `POST /api/cases/photos` as another signed-in resident, plus `--pumps`
   clients asking `POST /api/accounts/sms-code` for codes to random numbers.

Addresses: all traffic goes to 127.0.0.1, from different loopback source addresses. The attackers are
two addresses (bombs from 127.0.0.2, pumps from 127.0.0.3). The intake clients stand for many residents,
each sending a few reports: every intake connection comes from a fresh address of 127.1.0.0/16 and is
replaced after 20 requests, so no resident's address goes over a per-address limit.

The hostile clients run in their own process at a lower CPU priority (nice 10): a real attacker spends
their own machine's CPU, not the server's; on this one machine the load generator would otherwise take
a core from the server in proportion to how fast the server refuses it.

Throughout, one prober (from 127.0.0.4) asks GET /healthz four times a second, and a sampler adds up the
resident memory (RSS) of every server process (gunicorn's and nginx's) ten times a second. Printed:
intake answers/s in each phase and their ratio, the peak total RSS of the server in each phase, /healthz
p50/p95, and what the hostile clients were answered. Targets (issue 8): peak RSS < 1.5 GB in total,
/healthz p95 < 1 s, intake ≥ 0.7 × the quiet run. No task worker runs, so /healthz says "degraded"
(its worker check) throughout; what is measured is how fast it answers.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import multiprocessing
import os
import random
import re
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.intake import (  # noqa: E402
    CSRF,
    ROOT,
    case_body,
    free_port,
    server_cpu_seconds,
    server_rss_bytes,
    wait_until_answering,
)

TARGET_RSS_MB = 1536
TARGET_HEALTHZ_P95_MS = 1000
TARGET_RATIO = 0.7
BOMB_SIDE = 9400


def setup() -> None:
    """Migrate, build the tree and two residents, sign both in; print their session cookies as JSON."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone

    from gongzhi.accounts.models import Membership, Role, User
    from gongzhi.org.factories import make_tree

    call_command("migrate", verbosity=0)
    tree = make_tree()
    sessions = {}
    for name in ("intake", "bomber"):
        user = User.objects.create_user(username=f"bench-{name}", kind=User.Kind.RESIDENT, real_name="压测居民",
                                        confirmed_at=timezone.now())
        Membership.objects.create(user=user, unit=tree["grid"], role=Role.RESIDENT)
        client = Client()
        client.force_login(user)
        sessions[name] = client.cookies["sessionid"].value
    print(json.dumps(sessions))


def bomb_png() -> bytes:
    """A one-colour 9,400 × 9,400 PNG: a few hundred KB on the wire, 88 million pixels once decoded."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (BOMB_SIDE, BOMB_SIDE), (90, 140, 60)).save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def multipart(png: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"bomb.png\"\r\n"
            f"Content-Type: image/png\r\n\r\n").encode() + png + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


INTAKE_REQUESTS_PER_ADDRESS = 20
BOMBS_FROM, PUMPS_FROM, PROBE_FROM = "127.0.0.2", "127.0.0.3", "127.0.0.4"
NGINX = Path("/usr/sbin/nginx")


class Phase:
    def __init__(self) -> None:
        self.intake_ok = 0
        self.intake_other: Counter[int] = Counter()
        self.hostile: dict[str, Counter[int]] = {"bomb": Counter(), "sms": Counter()}
        self.healthz: list[float] = []
        self.healthz_status: Counter[str] = Counter()
        self.peak_rss = 0
        self.seconds = 0.0
        self.cpu: dict[str, float] = {}  # CPU seconds spent in the phase: application, nginx, load generators


def resident_addresses():
    """Fresh loopback addresses, one per simulated resident: 127.1.0.1, 127.1.0.2, …"""
    n = 0
    while True:
        n += 1
        yield f"127.1.{n // 250 % 250}.{n % 250 + 1}"


def client_loop(port: int, stop, request, record, source, per_connection: int = 0) -> None:
    """Send `request()` back to back over one kept-alive connection from `source()`; with `per_connection`,
    open a new connection (from a new `source()`) after that many requests."""
    def connect():
        return http.client.HTTPConnection("127.0.0.1", port, timeout=60, source_address=(source(), 0))

    conn, sent = connect(), 0
    while not stop.is_set():
        if per_connection and sent == per_connection:
            conn.close()
            conn, sent = connect(), 0
        method, url, body, headers = request()
        started = time.perf_counter()
        try:
            conn.request(method, url, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            status = response.status
            if response.will_close:
                conn.close()
                conn, sent = connect(), -1
        except (OSError, http.client.HTTPException):
            conn.close()
            conn, sent = connect(), -1
            status, data = -1, b""
        sent += 1
        record(status, time.perf_counter() - started, data)
    conn.close()


def hostile_clients(port: int, seconds: float, bombs: int, pumps: int, bomber_session: str, png: bytes,
                    results) -> None:
    """The attackers, in their own process at nice 10; puts {kind: {status: count}} on `results`."""
    os.nice(10)
    stop, lock = threading.Event(), threading.Lock()
    answers: dict[str, Counter[int]] = {"bomb": Counter(), "sms": Counter()}
    bomb_body, bomb_type = multipart(png)
    bomb_headers = {"Content-Type": bomb_type, "X-CSRFToken": CSRF,
                    "Cookie": f"sessionid={bomber_session}; csrftoken={CSRF}"}

    def bomb_request():
        return "POST", "/api/cases/photos", bomb_body, bomb_headers

    def sms_request():
        phone = f"1{random.choice('3578')}{random.randrange(10**9):09d}"
        return ("POST", "/api/accounts/sms-code", json.dumps({"phone": phone, "purpose": "signup"}).encode(),
                {"Content-Type": "application/json"})

    def record_as(kind):
        def record(status, _latency, _data):
            with lock:
                answers[kind][status] += 1
        return record

    threads = [threading.Thread(target=client_loop, args=(port, stop, bomb_request, record_as("bomb"),
                                                          lambda: BOMBS_FROM)) for _ in range(bombs)]
    threads += [threading.Thread(target=client_loop, args=(port, stop, sms_request, record_as("sms"),
                                                           lambda: PUMPS_FROM)) for _ in range(pumps)]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    results.put(({kind: dict(counts) for kind, counts in answers.items()}, usage.ru_utime + usage.ru_stime))


def run_phase(port: int, server_sids: tuple[int, ...], sessions: dict[str, str], seconds: float, *, intake: int,
              bombs: int, pumps: int, png: bytes) -> Phase:
    phase, stop, lock = Phase(), threading.Event(), threading.Lock()
    results = multiprocessing.Queue()
    attackers = None
    if bombs or pumps:  # forked before this process starts any thread
        attackers = multiprocessing.Process(target=hostile_clients, args=(port, seconds, bombs, pumps,
                                                                          sessions["bomber"], png, results))
        attackers.start()
    intake_headers = {"Content-Type": "application/json", "X-CSRFToken": CSRF,
                      "Cookie": f"sessionid={sessions['intake']}; csrftoken={CSRF}"}
    addresses, addresses_lock = resident_addresses(), threading.Lock()

    def next_address():
        with addresses_lock:
            return next(addresses)

    def intake_request():
        return "POST", "/api/cases", case_body(), intake_headers

    def intake_record(status, _latency, _data):
        with lock:
            if status == 201:
                phase.intake_ok += 1
            else:
                phase.intake_other[status] += 1

    def healthz_probe():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(PROBE_FROM, 0))
        while not stop.is_set():
            started = time.perf_counter()
            try:
                conn.request("GET", "/healthz")
                response = conn.getresponse()
                body = response.read()
                status = json.loads(body).get("status", str(response.status))
            except (OSError, http.client.HTTPException, ValueError):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(PROBE_FROM, 0))
                status = "no answer"
            phase.healthz.append(time.perf_counter() - started)
            phase.healthz_status[status] += 1
            stop.wait(0.25)
        conn.close()

    def sample_memory():
        while not stop.is_set():
            phase.peak_rss = max(phase.peak_rss, server_rss_bytes(*server_sids))
            stop.wait(0.1)

    threads = [threading.Thread(target=client_loop, args=(port, stop, intake_request, intake_record, next_address,
                                                          INTAKE_REQUESTS_PER_ADDRESS)) for _ in range(intake)]
    threads += [threading.Thread(target=healthz_probe), threading.Thread(target=sample_memory)]
    cpu_before = [server_cpu_seconds(sid) for sid in server_sids]
    own_before = time.process_time()
    started = time.monotonic()
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    phase.seconds = time.monotonic() - started
    for name, sid, before in zip(("application", "nginx"), server_sids, cpu_before, strict=False):
        phase.cpu[name] = server_cpu_seconds(sid) - before
    phase.cpu["intake clients"] = time.process_time() - own_before
    if attackers is not None:
        answers, phase.cpu["hostile clients"] = results.get(timeout=120)
        for kind, counts in answers.items():
            phase.hostile[kind].update(counts)
        attackers.join()
    return phase


def nginx_config(folder: Path, listen: int, app_port: int) -> Path:
    """deploy/nginx/gongzhi.conf with this run's ports and folder, TLS and the port-80 redirect taken out,
    inside a main configuration of its own (Debian's modules, no daemon, files in `folder`)."""
    site = (ROOT / "deploy/nginx/gongzhi.conf").read_text()
    replacements = [
        (re.compile(r"server \{\n    listen 80;.*?\n\}\n", re.S), ""),
        (re.compile(r"listen 443 ssl http2;"), f"listen 127.0.0.1:{listen};"),
        (re.compile(r"\n *ssl_certificate\S* [^\n]*"), ""),
        (re.compile(r"/srv/gongzhi/var"), str(folder.parent)),
        (re.compile(r"127\.0\.0\.1:8000"), f"127.0.0.1:{app_port}"),
    ]
    for pattern, replacement in replacements:
        site, count = pattern.subn(replacement, site)
        if not count:
            raise SystemExit(f"deploy/nginx/gongzhi.conf changed: {pattern.pattern!r} not found")
    (folder / "gongzhi.conf").write_text(site)
    temp = "\n".join(f"    {kind}_temp_path {folder / kind};" for kind in ("client_body", "proxy", "fastcgi",
                                                                          "uwsgi", "scgi"))
    main = folder / "nginx.conf"
    main.write_text(f"""daemon off;
{"user root;" if os.geteuid() == 0 else ""}
worker_processes auto;
pid {folder / "nginx.pid"};
error_log {folder / "error.log"} error;
include /etc/nginx/modules-enabled/*.conf;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    access_log off;
{temp}
    include {folder / "gongzhi.conf"};
}}
""")
    return main


def stop_process(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def measure(*, seconds: float, intake: int, bombs: int, pumps: int, direct: bool) -> tuple[Phase, Phase]:
    if not direct and not NGINX.exists():
        raise SystemExit("nginx is not installed: `apt-get install nginx`, or measure without it: --direct")
    with tempfile.TemporaryDirectory(prefix="gongzhi-hostile-") as tmp:
        env = {**os.environ, "GONGZHI_VAR_DIR": tmp, "PYTHONPATH": str(ROOT), "GONGZHI_DEBUG": "0",
               "GONGZHI_LOG_LEVEL": "ERROR", "DJANGO_SETTINGS_MODULE": "gongzhi.settings",
               "GONGZHI_TRUSTED_PROXY_COUNT": "0" if direct else "1"}
        print("preparing a temporary database and the image bomb …", file=sys.stderr, flush=True)
        out = subprocess.run([sys.executable, __file__, "--setup"], env=env, cwd=tmp, check=True,
                             capture_output=True, text=True).stdout
        sessions = json.loads(out.strip().splitlines()[-1])
        png = bomb_png()
        print(f"image bomb: {len(png) / 1024:.0f} KB, {BOMB_SIDE} × {BOMB_SIDE} px", file=sys.stderr, flush=True)
        app_port = free_port()
        servers = [subprocess.Popen([str(ROOT / ".venv/bin/gongzhi"), "serve", "--host", "127.0.0.1", "--port",
                                     str(app_port)], env=env, cwd=tmp, stdout=subprocess.DEVNULL,
                                    start_new_session=True)]
        try:
            wait_until_answering(app_port, servers[0])
            port = app_port
            if not direct:
                folder = Path(tmp, "nginx")
                for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
                    (folder / kind).mkdir(parents=True)
                port = free_port()
                servers.append(subprocess.Popen([str(NGINX), "-c", str(nginx_config(folder, port, app_port))],
                                                start_new_session=True))
                wait_until_answering(port, servers[1])
            sids = tuple(server.pid for server in servers)
            run_phase(port, sids, sessions, 1.0, intake=intake, bombs=0, pumps=0, png=png)  # warm up
            print(f"quiet: {intake} intake clients for {seconds:g} s …", file=sys.stderr, flush=True)
            quiet = run_phase(port, sids, sessions, seconds, intake=intake, bombs=0, pumps=0, png=png)
            print(f"hostile: + {bombs} image-bomb and {pumps} SMS clients for {seconds:g} s …", file=sys.stderr,
                  flush=True)
            hostile = run_phase(port, sids, sessions, seconds, intake=intake, bombs=bombs, pumps=pumps, png=png)
        finally:
            for server in reversed(servers):
                stop_process(server)
    return quiet, hostile


def percentile(values: list[float], p: int) -> float:
    if len(values) < 2:
        return float("nan")
    return 1000 * statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each phase (1–120)")
    parser.add_argument("--intake", type=int, default=4, help="intake clients")
    parser.add_argument("--bombs", type=int, default=20, help="image-bomb clients")
    parser.add_argument("--pumps", type=int, default=20, help="SMS-pumping clients")
    parser.add_argument("--direct", action="store_true", help="no nginx in front of `gongzhi serve`")
    parser.add_argument("--setup", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.setup:
        setup()
        return 0
    quiet, hostile = measure(seconds=min(max(args.seconds, 1.0), 120.0), intake=min(max(args.intake, 1), 64),
                             bombs=min(max(args.bombs, 0), 64), pumps=min(max(args.pumps, 0), 64),
                             direct=args.direct)
    database = "PostgreSQL" if os.environ.get("DATABASE_URL") else "SQLite"
    front = "directly" if args.direct else "behind nginx (deploy/nginx/gongzhi.conf)"
    print(f"{database}, `gongzhi serve` defaults {front}, {os.cpu_count()} cores")
    print(f"{'phase':<8} {'intake/s':>9} {'peak RSS MB':>11} {'healthz p50 ms':>14} {'p95 ms':>7}  healthz says")
    for name, phase in (("quiet", quiet), ("hostile", hostile)):
        print(f"{name:<8} {phase.intake_ok / phase.seconds:9.1f} {phase.peak_rss / 2**20:11.0f} "
              f"{percentile(phase.healthz, 50):14.1f} {percentile(phase.healthz, 95):7.1f}  "
              f"{dict(phase.healthz_status)}")
        print("         CPU seconds: " + ", ".join(f"{name} {cpu:.1f}" for name, cpu in phase.cpu.items()))
        if phase.intake_other:
            print(f"         intake refused or failed: {dict(phase.intake_other)}")
    print(f"hostile answers: image bombs {dict(hostile.hostile['bomb'])}, SMS {dict(hostile.hostile['sms'])}")
    ratio = (hostile.intake_ok / hostile.seconds) / (quiet.intake_ok / quiet.seconds) if quiet.intake_ok else 0.0
    peak = max(quiet.peak_rss, hostile.peak_rss) / 2**20
    p95 = percentile(hostile.healthz, 95)
    checks = [(f"peak RSS {peak:.0f} MB < {TARGET_RSS_MB} MB", peak < TARGET_RSS_MB),
              (f"/healthz p95 {p95:.0f} ms < {TARGET_HEALTHZ_P95_MS} ms", p95 < TARGET_HEALTHZ_P95_MS),
              (f"intake {ratio:.2f} × the quiet run ≥ {TARGET_RATIO}", ratio >= TARGET_RATIO),
              ("no intake request failed", not hostile.intake_other and not quiet.intake_other)]
    for text, ok in checks:
        print(f"{'ok  ' if ok else 'MISS'} {text}")
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
