"""An urgent alert to a township of 50,000 residents (issue 14, M24): how soon it is in every inbox, and how long
the worker takes to queue all its text messages, against bare baselines in the same run.

    .venv/bin/python bench/alert_fanout.py [--residents 50000] [--sample 200] [--send] [--seed 1]
    DATABASE_URL=postgres://postgres@127.0.0.1:55432/gongzhi .venv/bin/python bench/alert_fanout.py

A child process migrates a fresh database (SQLite in a temporary GONGZHI_VAR_DIR; with DATABASE_URL set, a
temporary database on that PostgreSQL server, dropped after), builds the small test tree with 八里镇 grown to
ten villages of four grids, a township dispatcher, and `--residents` verified residents spread over its grids
(User and resident post rows by bulk insert; nine in ten with a phone), plus 20 notices a village for the
inbox to hold. The task queue is the real one (Huey on SQLite in the folder, not run: the sending tasks are
only counted on it).

1. visible: the dispatcher publishes an alert to the township through `publications.services.core`
   (`publish_now`, the request's work: the status, the history row, the alert's delivery row, the queueing
   task put on the queue on commit). Right after, `--sample` residents picked at random each read the first
   page of their messages (`selectors.inbox.merged_inbox`, what the messages page runs) and must find it.
   Time until visible = the publish call + the slowest sampled inbox read; baseline: the same inbox reads
   just before publishing. Target < 1 s.
2. queued: the queueing task's body (`services.alerts.queue_sms`, as the worker runs it): one text row per
   resident with a phone, in batches of 1,000, each batch's sending task put on the queue. Target < 30 s.
   Baseline: reading the same recipients' ids alone (the floor of any fan-out).
3. with `--send`: the sending tasks run here, one after another, through the SMS channel with a backend that
   only counts (the provider's own time left out), for the sending rate.
Checked: every sampled resident found the alert; the delivery counts equal the residents with a phone;
no text row twice.
"""

from __future__ import annotations

import argparse
import datetime
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import fresh_database  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
VISIBLE_TARGET_S = 1.0
QUEUE_TARGET_S = 30.0
SENT = [0]


class CountingSms:
    """An SMS backend that only counts (named by settings.SMS_BACKEND in the child)."""

    def send(self, phone: str, message: str) -> None:
        SENT[0] += 1


def build(residents: int, seed: int) -> dict:
    from gongzhi.accounts.models import Membership, Role, User
    from gongzhi.org.factories import make_tree, make_unit
    from gongzhi.org.models import Level
    from gongzhi.publications.factories import make_staff
    from gongzhi.publications.models import Publication, Status

    tree = make_tree()
    town = tree["town"]
    villages = [tree["village"], tree["village2"]]
    for v in range(3, 11):
        villages.append(make_unit(f"八里{v}村", f"621102101{200 + v:03d}", Level.VILLAGE, town))
    grids = [tree["grid"], tree["grid2"], tree["grid3"]]
    for village in villages[2:]:
        grids += [make_unit(f"{village.name}第{g}网格", f"{village.code}{g:03d}", Level.GRID, village)
                  for g in range(1, 5)]
    dispatcher = make_staff("bench-dispatcher", town, Role.DISPATCHER)
    rng = random.Random(seed)
    users: list = []
    for start in range(0, residents, 5000):
        chunk = [User(username=f"r{i:06d}", kind=User.Kind.RESIDENT, real_name=f"居民{i}", password="!",
                      phone=f"139{i:08d}" if i % 10 else "") for i in range(start, min(start + 5000, residents))]
        users += User.objects.bulk_create(chunk)
    if users and users[0].pk is None:
        users = list(User.objects.filter(kind=User.Kind.RESIDENT).order_by("username"))
    Membership.objects.bulk_create([Membership(user=u, unit=grids[i % len(grids)], role=Role.RESIDENT)
                                    for i, u in enumerate(users)], batch_size=5000)
    from django.utils import timezone

    now = timezone.now()
    notices = []
    for village in villages:
        for n in range(20):
            at = now - datetime.timedelta(days=3 * n + 1)
            notices.append(Publication(kind=rng.choice(["news", "safety", "activity_notice"]),
                                       title=f"{village.name}通知{n}", author_unit=village, audience_unit=village,
                                       audience_path=village.path, status=Status.PUBLISHED, published_at=at,
                                       created_by=dispatcher, created_at=at, updated_at=at))
    Publication.objects.bulk_create(notices)
    return {"town": town.pk, "dispatcher": dispatcher.pk}


def child(residents: int, sample: int, send: bool, seed: int) -> dict:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import override_settings
    from huey.contrib.djhuey import HUEY

    from gongzhi.accounts.models import Membership, Role, User
    from gongzhi.org.models import OrgUnit
    from gongzhi.publications.models import AlertDelivery, AlertSms
    from gongzhi.publications.selectors import inbox
    from gongzhi.publications.services import alerts, core

    override_settings(SMS_BACKEND="__main__.CountingSms").enable()
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    world = build(residents, seed)
    build_seconds = time.perf_counter() - started
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    HUEY.flush()
    rng = random.Random(seed)
    ids = list(Membership.objects.filter(role=Role.RESIDENT).values_list("user_id", flat=True))
    readers = [User.objects.get(pk=pk) for pk in rng.sample(ids, min(sample, len(ids)))]

    def read_all(alert_id: int | None) -> tuple[list[float], int]:
        times, found = [], 0
        for user in readers:
            for cached in ("_posts", "_scope_paths"):  # a fresh request: the posts are read again
                user.__dict__.pop(cached, None)
            t = time.perf_counter()
            entries = inbox.merged_inbox(user)[0:20]
            times.append(time.perf_counter() - t)
            found += any(e.is_notice and e.pk == alert_id for e in entries)
        return times, found

    read_all(None)  # warm-up
    baseline, _ = read_all(None)
    dispatcher = User.objects.get(pk=world["dispatcher"])
    town = OrgUnit.objects.get(pk=world["town"])
    draft = core.create_draft(actor=dispatcher, kind="alert", author_unit=town, title="防汛预警：今夜有暴雨",
                              body="今夜至明晨我镇有暴雨，请沿河群众立即转移到安全地带，不要靠近河道。")
    t = time.perf_counter()
    core.publish_now(actor=dispatcher, publication=draft)
    publish_seconds = time.perf_counter() - t
    after, found = read_all(draft.pk)
    queued_tasks_after_publish = HUEY.pending_count()

    with_phone = Membership.objects.filter(role=Role.RESIDENT, unit__path__startswith=town.path,
                                           user__phone_hash__isnull=False)
    t = time.perf_counter()
    floor = len(list(with_phone.order_by("user_id").values_list("user_id", flat=True)))
    floor_seconds = time.perf_counter() - t
    t = time.perf_counter()
    alerts.queue_sms(publication_id=draft.pk)
    queue_seconds = time.perf_counter() - t
    delivery = AlertDelivery.objects.get(publication=draft)
    send_tasks = HUEY.pending_count() - queued_tasks_after_publish
    send_seconds = None
    if send:
        spans = list(AlertSms.objects.filter(publication=draft).order_by("id").values_list("id", flat=True))
        t = time.perf_counter()
        for start in range(0, len(spans), alerts.BATCH):
            chunk = spans[start:start + alerts.BATCH]
            alerts.send_batch(publication_id=draft.pk, first_id=chunk[0], last_id=chunk[-1])
        send_seconds = time.perf_counter() - t
        delivery.refresh_from_db()
    return {"vendor": connection.vendor, "residents": residents, "build_seconds": build_seconds,
            "sample": len(readers), "found": found, "publish_seconds": publish_seconds,
            "baseline": baseline, "after": after, "queue_seconds": queue_seconds, "floor_seconds": floor_seconds,
            "with_phone": floor, "send_tasks": send_tasks, "send_seconds": send_seconds, "sent_counted": SENT[0],
            "delivery": {"recipients": delivery.recipients, "queued": delivery.queued, "sent": delivery.sent,
                         "failed": delivery.failed, "state": delivery.state},
            "distinct_rows": AlertSms.objects.filter(publication=draft).values("recipient_id").distinct().count()}


def ms(values: list[float], p: int) -> float:
    if len(values) < 2:
        return 1000 * (values[0] if values else 0.0)
    return 1000 * statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=50_000)
    parser.add_argument("--sample", type=int, default=200)
    parser.add_argument("--send", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.residents, args.sample, args.send, args.seed)))
        return {}
    with tempfile.TemporaryDirectory(prefix="gongzhi-bench-alert-") as tmp, fresh_database(Path(tmp), "alert") as env:
        env.pop("REDIS_URL", None)
        env["GONGZHI_HUEY_IMMEDIATE"] = "0"
        print(f"building a township of {args.residents:,} residents in a temporary database …", file=sys.stderr,
              flush=True)
        argv_child = ["--child", "--residents", str(args.residents), "--sample", str(args.sample), "--seed",
                      str(args.seed)] + (["--send"] if args.send else [])
        done = subprocess.run([sys.executable, str(Path(__file__).resolve()), *argv_child], env=env, cwd=ROOT,
                              check=True, stdout=subprocess.PIPE, text=True)
    f: dict = json.loads(done.stdout.strip().splitlines()[-1])
    visible = f["publish_seconds"] + max(f["after"] or [0.0])
    d = f["delivery"]
    print(f"{f['vendor']}, {f['residents']:,} residents in one township (built in {f['build_seconds']:.0f} s), "
          f"{f['with_phone']:,} with a phone; {f['sample']} sampled inboxes")
    print(f"{'step':<46} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    print(f"{'baseline: inbox first page before the alert':<46} {ms(f['baseline'], 50):8.1f} "
          f"{ms(f['baseline'], 95):8.1f} {1000 * max(f['baseline'] or [0]):8.1f}")
    print(f"{'inbox first page right after publishing':<46} {ms(f['after'], 50):8.1f} {ms(f['after'], 95):8.1f} "
          f"{1000 * max(f['after'] or [0]):8.1f}")
    print(f"publish call (the request's work): {1000 * f['publish_seconds']:.1f} ms; found in "
          f"{f['found']}/{f['sample']} sampled inboxes")
    print(f"baseline: reading the {f['with_phone']:,} recipients' ids: {f['floor_seconds']:.2f} s")
    print(f"queue all texts (the task): {f['queue_seconds']:.2f} s — {d['queued']:,} texts, "
          f"{f['send_tasks']} sending tasks on the queue; counts: {d}")
    if f["send_seconds"] is not None:
        rate = d["sent"] / f["send_seconds"] if f["send_seconds"] else 0
        print(f"send all (one worker, counting backend): {f['send_seconds']:.1f} s, {rate:,.0f} texts/s")
    ok_visible = visible < VISIBLE_TARGET_S and f["found"] == f["sample"]
    ok_queue = (f["queue_seconds"] < QUEUE_TARGET_S and d["queued"] == f["with_phone"]
                and f["distinct_rows"] == d["queued"])
    print(f"target: visible in every inbox < {VISIBLE_TARGET_S:g} s — {'met' if ok_visible else 'MISSED'} "
          f"({visible:.3f} s)")
    print(f"target: all texts queued < {QUEUE_TARGET_S:g} s — {'met' if ok_queue else 'MISSED'} "
          f"({f['queue_seconds']:.1f} s)")
    f["visible_seconds"] = visible
    return f


if __name__ == "__main__":
    main()
