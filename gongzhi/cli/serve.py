"""`gongzhi serve` (the web server: gunicorn) and `gongzhi worker` (the Huey consumer with its heartbeat)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence

from django.utils.translation import gettext as _

from gongzhi.cli import COMMAND_HELP, PROG


def default_web_workers(cores: int | None = None) -> int:
    """One process per core and one more, at most 8 (each holds its own copy of Django).

    Measured with bench/intake.py on 2 cores (issue 10; figures in docs/architecture.md): a submission is
    CPU-bound in Python and, on SQLite, queues for the one writer, so threads only add switching. Three
    single-threaded processes answered the most submissions per second with the least CPU each and an even
    latency; four were no better, threads (2 × 4, 5 × 4) worse on all three. PostgreSQL on the same
    machine measured alike."""
    if cores is None:
        cores = len(os.sched_getaffinity(0))
    return max(2, min(cores + 1, 8))


# Threads per process. One: gunicorn's plain (sync) worker, the cheapest per request, for a server behind a
# proxy that buffers requests and answers (nginx, docs/deploy.md), so a slow phone never holds a process.
# Serving phones directly (the demo on a LAN), give each process threads (`--threads 4`).
DEFAULT_THREADS = 1


def serve(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog=f"{PROG} serve", description=str(COMMAND_HELP["serve"]))
    parser.add_argument("--host", default="127.0.0.1", help=_("监听地址（默认 127.0.0.1）"))
    parser.add_argument("--port", type=int, default=8000, help=_("端口（默认 8000）"))
    parser.add_argument("--workers", type=int, default=default_web_workers(),
                        help=_("进程数（默认 CPU 核数+1，最多 8）"))
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS,
                        help=_("每个进程的线程数（默认 1，适合 nginx 之后；直接面对手机时用 4）"))
    parser.add_argument("--access-log", action="store_true", help=_("在标准输出打印访问日志"))
    args = parser.parse_args(argv)

    from gunicorn.app.base import BaseApplication

    from gongzhi.cli.staticfiles import ensure_collected

    # Before the application loads: WhiteNoise lists STATIC_ROOT once, when its middleware starts.
    ensure_collected()

    class WebServer(BaseApplication):
        def load_config(self) -> None:
            options = {
                "bind": [f"[{args.host}]:{args.port}" if ":" in args.host else f"{args.host}:{args.port}"],
                "workers": args.workers,
                # Threads keep a slow phone on a weak signal from holding a whole process when no proxy
                # buffers for it; they cost CPU per request (see DEFAULT_THREADS).
                "worker_class": "sync" if args.threads == 1 else "gthread",
                "threads": args.threads,
                # Import Django once in the master: errors show before forking, and workers share memory.
                "preload_app": True,
                "graceful_timeout": 10,
                "timeout": 60,
                "proc_name": "gongzhi-web",
                "accesslog": "-" if args.access_log else None,
                # Its control socket lives in the home directory, where two servers would collide.
                "control_socket_disable": True,
            }
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self):
            from gongzhi.wsgi import application

            return application

    WebServer().run()
    return 0


def worker(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog=f"{PROG} worker", description=str(COMMAND_HELP["worker"]))
    parser.add_argument("--workers", type=int, help=_("并行执行任务的线程数（默认取设置 HUEY['consumer']）"))
    args = parser.parse_args(argv)

    from django.conf import settings
    from django.core.management import call_command

    from gongzhi.core.tasks import start_heartbeat

    stop = start_heartbeat(name="worker", interval=settings.WORKER_HEARTBEAT_SECONDS)
    try:
        call_command("run_huey", **({"workers": args.workers} if args.workers else {}))
    finally:
        stop.set()
    return 0
