"""`gongzhi serve` (the web server: gunicorn) and `gongzhi worker` (the Huey consumer with its heartbeat)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence

from django.utils.translation import gettext as _

from gongzhi.cli import COMMAND_HELP, PROG


def default_web_workers(cores: int | None = None) -> int:
    """2 × cores + 1, the usual gunicorn rule, capped: each process holds its own copy of Django."""
    if cores is None:
        cores = len(os.sched_getaffinity(0))
    return max(2, min(2 * cores + 1, 8))


def serve(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog=f"{PROG} serve", description=str(COMMAND_HELP["serve"]))
    parser.add_argument("--host", default="127.0.0.1", help=_("监听地址（默认 127.0.0.1）"))
    parser.add_argument("--port", type=int, default=8000, help=_("端口（默认 8000）"))
    parser.add_argument("--workers", type=int, default=default_web_workers(),
                        help=_("进程数（默认 2×CPU 核数+1，最多 8）"))
    parser.add_argument("--threads", type=int, default=4, help=_("每个进程的线程数（默认 4）"))
    parser.add_argument("--access-log", action="store_true", help=_("在标准输出打印访问日志"))
    args = parser.parse_args(argv)

    from gunicorn.app.base import BaseApplication

    class WebServer(BaseApplication):
        def load_config(self) -> None:
            options = {
                "bind": [f"[{args.host}]:{args.port}" if ":" in args.host else f"{args.host}:{args.port}"],
                "workers": args.workers,
                # Threads keep a slow phone on a weak signal from blocking a whole process.
                "worker_class": "gthread",
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
