"""Intake under attack: residents keep submitting cases while others upload image bombs and pump SMS codes.

    .venv/bin/python bench/hostile.py [--seconds 30] [--intake 4] [--bombs 20] [--pumps 20]

Set-up as in bench/intake.py (a temporary folder, a fresh database, the small test tree, a signed-in
resident; the server started as in production with `gongzhi serve`). Two phases of `--seconds` each:

1. quiet: `--intake` clients post cases (`POST /api/cases`, as in bench/intake.py);
2. hostile: the same intake clients, plus `--bombs` clients uploading a 258 KB PNG of 9,400 × 9,400 pixels
   (88 MP, ~0.9 GB when decoded) to `POST /api/cases/photos` as another signed-in resident, plus `--pumps`
   clients asking `POST /api/accounts/sms-code` for codes to random numbers.

Throughout, one prober asks GET /healthz four times a second, and a sampler adds up the resident memory (RSS)
of every server process ten times a second. Printed: intake answers/s in each phase and their ratio, the
peak total RSS of the server in each phase, /healthz p50/p95, and what the hostile clients were answered.
Targets (issue 8): peak RSS < 1.5 GB in total, /healthz p95 < 1 s, intake ≥ 0.7 × the quiet run.

All traffic goes to 127.0.0.1, so every client shares one address: per-address limits hold back the SMS
pumps after their first codes, as they would hold back one attacker. The load generator runs on the same
machine and takes CPU from the server in proportion to its own request rate.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import random
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

from bench.intake import CSRF, ROOT, case_body, free_port, wait_until_answering  # noqa: E402

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


def server_rss_bytes(session_id: int) -> int:
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
            if int(stat[stat.rindex(")") + 2:].split()[3]) != session_id:
                continue
            for line in Path(entry.path, "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except (OSError, ValueError):
            continue  # gone meanwhile
    return total


class Phase:
    def __init__(self) -> None:
        self.intake_ok = 0
        self.intake_other: Counter[int] = Counter()
        self.hostile: dict[str, Counter[int]] = {"bomb": Counter(), "sms": Counter()}
        self.healthz: list[float] = []
        self.healthz_status: Counter[str] = Counter()
        self.peak_rss = 0
        self.seconds = 0.0


def client_loop(port: int, stop: threading.Event, request, record) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    while not stop.is_set():
        method, url, body, headers = request()
        started = time.perf_counter()
        try:
            conn.request(method, url, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            status, data = -1, b""
        record(status, time.perf_counter() - started, data)
    conn.close()


def run_phase(port: int, server_sid: int, sessions: dict[str, str], seconds: float, *, intake: int, bombs: int,
              pumps: int, png: bytes) -> Phase:
    phase, stop, lock = Phase(), threading.Event(), threading.Lock()
    signed = {"intake": {"X-CSRFToken": CSRF, "Cookie": f"sessionid={sessions['intake']}; csrftoken={CSRF}"},
              "bomber": {"X-CSRFToken": CSRF, "Cookie": f"sessionid={sessions['bomber']}; csrftoken={CSRF}"}}
    bomb_body, bomb_type = multipart(png)

    def intake_request():
        return "POST", "/api/cases", case_body(), {"Content-Type": "application/json", **signed["intake"]}

    def intake_record(status, _latency, _data):
        with lock:
            if status == 201:
                phase.intake_ok += 1
            else:
                phase.intake_other[status] += 1

    def bomb_request():
        return "POST", "/api/cases/photos", bomb_body, {"Content-Type": bomb_type, **signed["bomber"]}

    def sms_request():
        phone = f"1{random.choice('3578')}{random.randrange(10**9):09d}"
        return ("POST", "/api/accounts/sms-code", json.dumps({"phone": phone, "purpose": "signup"}).encode(),
                {"Content-Type": "application/json"})

    def hostile_record(kind):
        def record(status, _latency, _data):
            with lock:
                phase.hostile[kind][status] += 1
        return record

    def healthz_probe():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while not stop.is_set():
            started = time.perf_counter()
            try:
                conn.request("GET", "/healthz")
                response = conn.getresponse()
                body = response.read()
                status = json.loads(body).get("status", str(response.status))
            except (OSError, http.client.HTTPException, ValueError):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                status = "no answer"
            phase.healthz.append(time.perf_counter() - started)
            phase.healthz_status[status] += 1
            stop.wait(0.25)
        conn.close()

    def sample_memory():
        while not stop.is_set():
            phase.peak_rss = max(phase.peak_rss, server_rss_bytes(server_sid))
            stop.wait(0.1)

    threads = [threading.Thread(target=client_loop, args=(port, stop, intake_request, intake_record))
               for _ in range(intake)]
    threads += [threading.Thread(target=client_loop, args=(port, stop, bomb_request, hostile_record("bomb")))
                for _ in range(bombs)]
    threads += [threading.Thread(target=client_loop, args=(port, stop, sms_request, hostile_record("sms")))
                for _ in range(pumps)]
    threads += [threading.Thread(target=healthz_probe), threading.Thread(target=sample_memory)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    phase.seconds = time.monotonic() - started
    return phase


def measure(*, seconds: float, intake: int, bombs: int, pumps: int) -> tuple[Phase, Phase]:
    with tempfile.TemporaryDirectory(prefix="gongzhi-hostile-") as tmp:
        env = {**os.environ, "GONGZHI_VAR_DIR": tmp, "PYTHONPATH": str(ROOT), "GONGZHI_DEBUG": "0",
               "GONGZHI_LOG_LEVEL": "ERROR", "DJANGO_SETTINGS_MODULE": "gongzhi.settings"}
        print("preparing a temporary database and the image bomb …", file=sys.stderr, flush=True)
        out = subprocess.run([sys.executable, __file__, "--setup"], env=env, cwd=tmp, check=True,
                             capture_output=True, text=True).stdout
        sessions = json.loads(out.strip().splitlines()[-1])
        png = bomb_png()
        print(f"image bomb: {len(png) / 1024:.0f} KB, {BOMB_SIDE} × {BOMB_SIDE} px", file=sys.stderr, flush=True)
        port = free_port()
        server = subprocess.Popen([str(ROOT / ".venv/bin/gongzhi"), "serve", "--host", "127.0.0.1", "--port",
                                   str(port)], env=env, cwd=tmp, stdout=subprocess.DEVNULL, start_new_session=True)
        try:
            wait_until_answering(port, server)
            run_phase(port, server.pid, sessions, 1.0, intake=intake, bombs=0, pumps=0, png=png)  # warm up
            print(f"quiet: {intake} intake clients for {seconds:g} s …", file=sys.stderr, flush=True)
            quiet = run_phase(port, server.pid, sessions, seconds, intake=intake, bombs=0, pumps=0, png=png)
            print(f"hostile: + {bombs} image-bomb and {pumps} SMS clients for {seconds:g} s …", file=sys.stderr,
                  flush=True)
            hostile = run_phase(port, server.pid, sessions, seconds, intake=intake, bombs=bombs, pumps=pumps,
                                png=png)
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
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
    parser.add_argument("--setup", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.setup:
        setup()
        return 0
    quiet, hostile = measure(seconds=min(max(args.seconds, 1.0), 120.0), intake=min(max(args.intake, 1), 64),
                             bombs=min(max(args.bombs, 0), 64), pumps=min(max(args.pumps, 0), 64))
    database = "PostgreSQL" if os.environ.get("DATABASE_URL") else "SQLite"
    print(f"{database}, `gongzhi serve` defaults, {os.cpu_count()} cores")
    print(f"{'phase':<8} {'intake/s':>9} {'peak RSS MB':>11} {'healthz p50 ms':>14} {'p95 ms':>7}  healthz says")
    for name, phase in (("quiet", quiet), ("hostile", hostile)):
        print(f"{name:<8} {phase.intake_ok / phase.seconds:9.1f} {phase.peak_rss / 2**20:11.0f} "
              f"{percentile(phase.healthz, 50):14.1f} {percentile(phase.healthz, 95):7.1f}  "
              f"{dict(phase.healthz_status)}")
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
