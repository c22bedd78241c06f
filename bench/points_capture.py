"""One QR code scanned 100 times at once (issue 13): concurrent captures of the SAME redemption token over HTTP
against the real server, against a bare baseline burst of the same size, on SQLite or PostgreSQL.

    .venv/bin/python bench/points_capture.py [--rounds 5] [--concurrency 100] [--workers N] [--threads T]
    DATABASE_URL=postgres://postgres@127.0.0.1:55432/gongzhi .venv/bin/python bench/points_capture.py

A temporary folder holds everything (GONGZHI_VAR_DIR). A child process migrates a fresh database (SQLite in the
folder; with DATABASE_URL set, a temporary database created on that PostgreSQL server and dropped after, as
bench/generate.py does), builds the small test tree and the points world of the tests
(`points.factories.make_points_world`: 八里镇's preset catalogue, 小山村爱心超市 with 大米5斤 at 10 points, its
merchant "shanghu"), then one verified household per round, each given 10 points by the village administrator
(`awards.award_directly`) and holding one 大米5斤 (`redemptions.hold`): one token per round. It signs the merchant
in with Django's test client (a real session row) and prints the cookie and the tokens. The server then starts
as in production, `.venv/bin/gongzhi serve --host 127.0.0.1 --port P` (gunicorn; its default workers and
threads unless given).

Each round, `--concurrency` client threads each open a connection, wait at a barrier and then, all at once:
1. baseline: GET /healthz (no session: one SELECT and a couple of indexed reads; the floor of any request);
2. capture: POST /api/points/shops/<shop>/captures {"token": <this round's token>} as the merchant (session,
   CSRF, the shop's policy, the token's signature, the row lock, the ledger posting).
Before each burst one request with a foreign code (409 token_foreign) moves the staff session's idle expiry,
so the burst itself does not rewrite the session row a hundred times.

Expected, and checked: each round exactly one 200; every other answer a 409 with code token_used (a clear
refusal to read out: "该兑换已于…领取，不能重复领取。"). After the server stops a child process verifies the
database: `points.selectors.integrity.verify_ledger` passes (hash chain, pairs, cached balances, holds), the
shop's account was credited once per round (rounds × 10 points), the item's stock went down once per round
and nothing is reserved any more, one capture movement per round. Printed: p50 / p95 / max latency (ms, as
the clients saw it, queueing in the server's backlog included) of each burst kind over all rounds, and what
was answered.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import fresh_database  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CSRF = "abcdefghijklmnopqrstuvwxyzABCDEF"  # a well-formed CSRF secret: cookie and header agree
PRICE = 10
STOCK = 1000


# ------------------------------------------------------------------ set-up and check (child processes)


def setup(rounds: int) -> dict:
    """Migrate, build the world and one held redemption per round; sign the merchant in."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from gongzhi.core.validators import id_check_digit
    from gongzhi.org.factories import make_tree
    from gongzhi.points.factories import make_points_world, make_verified_resident
    from gongzhi.points.models import Account
    from gongzhi.points.services import awards, redemptions
    from gongzhi.registry.models import Household

    call_command("migrate", verbosity=0)
    tree = make_tree()
    world = make_points_world(tree, stock=STOCK, price=PRICE)
    tokens = []
    for n in range(rounds):
        if n == 0:
            resident, user = world.head, world.resident_user
        else:
            household = Household.objects.create(village=world.village, grid=tree["grid"], number=f"H-B{n:04d}",
                                                 address=f"小山村一社{n + 100}号")
            body = f"62110219700101{n:03d}"  # a valid, distinct ID number per household (rounds ≤ 50)
            resident, user = make_verified_resident(grid=tree["grid"], household=household,
                                                    username=f"bench-{n}", name=f"压测户主{n}",
                                                    id_number=body + id_check_digit(body))
        awards.award_directly(actor=world.village_admin, resident=resident, item=world.rule("孝老敬亲"),
                              reason="压测")
        tokens.append(redemptions.token_for(redemptions.hold(user=user, item=world.item)))
    client = Client()
    client.force_login(world.merchant)
    return {"sessionid": client.cookies["sessionid"].value, "tokens": tokens, "shop": world.shop.pk,
            "item": world.item.pk, "shop_account": Account.objects.get(shop=world.shop).pk,
            "vendor": connection.vendor}


def check(shop_id: int) -> dict:
    """What the database says after the bursts."""
    import django

    django.setup()
    from gongzhi.points.models import Account, LedgerEntry, Redemption, ShopItem, SourceType
    from gongzhi.points.selectors.integrity import verify_ledger

    report = verify_ledger()
    item = ShopItem.objects.get(shop_id=shop_id)
    return {"ledger_ok": report.ok, "problems": report.problems, "entries": report.entries,
            "ledger_seconds": report.seconds,
            "shop_balance": Account.objects.get(shop_id=shop_id).balance,
            "stock": item.stock, "reserved": item.reserved,
            "statuses": dict(Counter(Redemption.objects.values_list("status", flat=True))),
            "capture_entries": LedgerEntry.objects.filter(source_type=SourceType.CAPTURE).count()}


def child(argv: list[str], env: dict[str, str]) -> dict:
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), *argv], env=env, cwd=ROOT, check=True,
                          stdout=subprocess.PIPE, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------ the bursts


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_answering(port: int, server: subprocess.Popen, timeout: float = 90.0) -> None:
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


def request(port: int, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, _code(response.read())
    finally:
        conn.close()


def _code(data: bytes) -> str:
    try:
        answer = json.loads(data)
    except ValueError:
        return ""
    return str(answer.get("code") or answer.get("status") or "") if isinstance(answer, dict) else ""


def burst(port: int, clients: int, method: str, path: str, body: bytes | None,
          headers: dict[str, str]) -> list[tuple[int, str, float, str]]:
    """`clients` threads, each with an open connection, send the same request at once (a barrier); per
    request: status, the answer's code, seconds, and the message of a refusal."""
    barrier = threading.Barrier(clients)
    results: list[tuple[int, str, float, str]] = [(-1, "", 0.0, "")] * clients

    def client(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        try:
            conn.connect()
        finally:
            barrier.wait()
        started = time.perf_counter()
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            status, data = -1, b""
        seconds = time.perf_counter() - started
        conn.close()
        detail = ""
        if status != 200:
            try:
                detail = str(json.loads(data).get("detail", ""))
            except (ValueError, AttributeError):
                detail = data[:80].decode(errors="replace")
        results[i] = (status, _code(data), seconds, detail)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def percentile(values: list[float], p: int) -> float:
    if len(values) < 2:
        return 1000 * values[0] if values else float("nan")
    return 1000 * statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def measure(*, rounds: int, concurrency: int, workers: int | None = None, threads: int | None = None) -> dict:
    with tempfile.TemporaryDirectory(prefix="gongzhi-bench-capture-") as tmp, \
            fresh_database(Path(tmp), "capture") as env:
        # Each refusal is a logged 409 warning: the server's log goes to a file, shown if it fails.
        env = {**env, "GONGZHI_DEBUG": "0", "GONGZHI_LOG_LEVEL": "ERROR"}
        env.pop("REDIS_URL", None)
        print(f"preparing a temporary database with {rounds} held redemption(s) …", file=sys.stderr, flush=True)
        world = child(["--setup", "--rounds", str(rounds)], env)
        port = free_port()
        command = [str(ROOT / ".venv/bin/gongzhi"), "serve", "--host", "127.0.0.1", "--port", str(port)]
        if workers:
            command += ["--workers", str(workers)]
        if threads:
            command += ["--threads", str(threads)]
        log = Path(tmp, "server.log").open("w")
        server = subprocess.Popen(command, env=env, cwd=tmp, stdout=log, stderr=subprocess.STDOUT,
                                  start_new_session=True)
        merchant = {"Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": CSRF,
                    "Cookie": f"sessionid={world['sessionid']}; csrftoken={CSRF}"}
        path = f"/api/points/shops/{world['shop']}/captures"
        foreign = json.dumps({"token": "not a redemption"}).encode()
        bursts: dict[str, list[tuple[int, str, float, str]]] = {"capture": [], "baseline": []}
        winners: list[int] = []
        try:
            try:
                wait_until_answering(port, server)
            except SystemExit:
                print(Path(tmp, "server.log").read_text()[-3000:], file=sys.stderr)
                raise
            # Warm every worker up (imports, connections, the session) on both paths.
            burst(port, concurrency, "GET", "/healthz", None, {})
            burst(port, min(concurrency, 20), "POST", path, foreign, merchant)
            for n, token in enumerate(world["tokens"], 1):
                print(f"round {n}/{rounds}: {concurrency} × GET /healthz, then {concurrency} × the same capture …",
                      file=sys.stderr, flush=True)
                bursts["baseline"] += burst(port, concurrency, "GET", "/healthz", None, {})
                request(port, "POST", path, foreign, merchant)  # moves the session's idle expiry if due
                answers = burst(port, concurrency, "POST", path, json.dumps({"token": token}).encode(), merchant)
                winners.append(sum(status == 200 for status, _c, _s, _d in answers))
                bursts["capture"] += answers
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            log.close()
        after = child(["--check", "--shop", str(world["shop"])], env)
    refusals = [(code, detail) for status, code, _s, detail in bursts["capture"] if status != 200]
    return {
        "vendor": world["vendor"], "rounds": rounds, "concurrency": concurrency, "workers": workers,
        "threads": threads, "winners": winners,
        "statuses": {kind: dict(Counter(status for status, _c, _s, _d in answers))
                     for kind, answers in bursts.items()},
        "codes": dict(Counter(code for code, _detail in refusals)),
        "refusal_example": refusals[0][1] if refusals else "",
        "latency_ms": {kind: {"p50": percentile([s for _st, _c, s, _d in answers], 50),
                              "p95": percentile([s for _st, _c, s, _d in answers], 95),
                              "max": 1000 * max(s for _st, _c, s, _d in answers)}
                       for kind, answers in bursts.items()},
        "after": after,
        "expected": {"shop_balance": rounds * PRICE, "stock": STOCK - rounds, "capture_entries": 2 * rounds},
    }


def verdicts(figures: dict) -> list[tuple[str, bool]]:
    rounds, concurrency, after = figures["rounds"], figures["concurrency"], figures["after"]
    expected = figures["expected"]
    return [
        (f"exactly one 200 per round: {figures['winners']}", figures["winners"] == [1] * rounds),
        (f"every other answer a 409 token_used: {figures['statuses']['capture']} {figures['codes']}",
         figures["statuses"]["capture"] == {200: rounds, 409: rounds * (concurrency - 1)}
         and figures["codes"] == {"token_used": rounds * (concurrency - 1)}),
        (f"ledger verified ({after['entries']} entries, {after['ledger_seconds'] * 1000:.0f} ms): "
         f"{'ok' if after['ledger_ok'] else after['problems']}", after["ledger_ok"]),
        (f"shop credited once per round: {after['shop_balance']} points (expected {expected['shop_balance']}), "
         f"{after['capture_entries']} capture entries (expected {expected['capture_entries']})",
         after["shop_balance"] == expected["shop_balance"]
         and after["capture_entries"] == expected["capture_entries"]),
        (f"stock decremented once per round: {after['stock']} left (expected {expected['stock']}), "
         f"{after['reserved']} reserved, redemptions {after['statuses']}",
         after["stock"] == expected["stock"] and after["reserved"] == 0
         and after["statuses"] == {"captured": rounds}),
    ]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="bursts of each kind, one token per round")
    parser.add_argument("--concurrency", type=int, default=100, help="requests fired at once in a burst")
    parser.add_argument("--workers", type=int, help="server processes (default: `gongzhi serve`'s)")
    parser.add_argument("--threads", type=int, help="threads per server process (default: `gongzhi serve`'s)")
    parser.add_argument("--setup", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--check", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--shop", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.setup:
        print(json.dumps(setup(args.rounds)))
        return {}
    if args.check:
        print(json.dumps(check(args.shop)))
        return {}
    figures = measure(rounds=min(max(args.rounds, 1), 50), concurrency=min(max(args.concurrency, 2), 500),
                      workers=args.workers, threads=args.threads)
    serve = "`gongzhi serve`" + (f" --workers {args.workers}" if args.workers else "") + (
        f" --threads {args.threads}" if args.threads else "")
    print(f"{figures['vendor']}, {serve}, {os.cpu_count()} cores: {figures['rounds']} rounds of "
          f"{figures['concurrency']} concurrent requests")
    print(f"{'burst':<34} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  answers")
    for kind, label in (("capture", "capture, the same token (POST)"), ("baseline", "baseline GET /healthz")):
        latency, statuses = figures["latency_ms"][kind], figures["statuses"][kind]
        print(f"{label:<34} {sum(statuses.values()):5d} {latency['p50']:8.1f} {latency['p95']:8.1f} "
              f"{latency['max']:8.1f}  {statuses}")
    print(f"a refusal reads: {figures['refusal_example']}")
    passed = True
    for text, ok in verdicts(figures):
        print(f"{'OK  ' if ok else 'FAIL'} {text}")
        passed &= ok
    figures["passed"] = passed
    return figures


if __name__ == "__main__":
    sys.exit(0 if main().get("passed", True) else 1)
