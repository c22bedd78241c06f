"""The `gongzhi` command (also `python -m gongzhi`, through `gongzhi/__main__.py`).

Gongzhi's own commands (demo, serve, worker) live here because the demo reaches across all apps, and
apps must not import upwards; `generate` and `import-grids` map to management commands (of `gongzhi.demo`
and `gongzhi.org`), and anything else is handed to Django, so `gongzhi migrate` or `gongzhi createsuperuser`
work too.
"""

from __future__ import annotations

import argparse
import io
import os
import signal
import socket
import subprocess
import sys
import time
import unicodedata
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping, Sequence

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

PROG = "gongzhi"

# Spelled with dashes on the command line, as management commands (underscores) inside Django.
ALIASES = {"import-grids": "import_grids"}

COMMAND_HELP = {
    "demo": gettext_lazy("一键演示：迁移数据库，空库时生成演示乡镇，启动网页服务和任务进程，打印演示账号"),
    "serve": gettext_lazy("启动网页服务（gunicorn，多进程）"),
    "worker": gettext_lazy("启动后台任务进程（Huey），并定时写心跳供 /healthz 检查"),
    "generate": gettext_lazy("生成演示或压测数据，例如 --scale township --seed 1"),
    "import-grids": gettext_lazy("从 GeoJSON 文件导入网格边界：import-grids 文件.geojson"),
}

# How long the demo waits for the web server to answer, and for children to stop, in seconds.
DEMO_START_TIMEOUT = 60
DEMO_STOP_TIMEOUT = 15


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gongzhi.settings")
    command = args[0] if args else "help"
    if command == "demo":
        # Before Django reads its settings; the web and worker children inherit them.
        os.environ["GONGZHI_DEV_SMS_PAGE"] = "1"
        os.environ["GONGZHI_SERVE_MEDIA"] = "1"

    import django

    django.setup()
    if command in {"help", "-h", "--help"} and len(args) <= 1:
        print(help_text())
        return 0
    if command in OWN_COMMANDS:
        return OWN_COMMANDS[command](args[1:])
    if command == "help" and args[1] in OWN_COMMANDS:
        return OWN_COMMANDS[args[1]](["--help"])

    from django.core.management import execute_from_command_line

    execute_from_command_line([PROG, *django_argv(args)])
    return 0


def django_argv(args: Sequence[str]) -> list[str]:
    """Map a Gongzhi command line to Django's: `import-grids F` → `import_grids F`, others unchanged."""
    args = list(args)
    if args and args[0] == "help" and len(args) > 1:
        return ["help", ALIASES.get(args[1], args[1]), *args[2:]]
    if args:
        args[0] = ALIASES.get(args[0], args[0])
    return args


def help_text() -> str:
    from django.core.management import ManagementUtility

    width = max(len(name) for name in COMMAND_HELP)
    lines = [_("用法：%(prog)s <命令> [选项]") % {"prog": PROG}, "", _("共治命令：")]
    lines += [f"  {name.ljust(width)}  {text}" for name, text in COMMAND_HELP.items()]
    lines += [
        "",
        _("查看某个命令的选项：%(prog)s <命令> --help") % {"prog": PROG},
        "",
        _("其他命令（Django 管理命令，例如 migrate、createsuperuser）："),
        ManagementUtility([PROG]).main_help_text(),
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------- serve


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


# ---------------------------------------------------------------- worker


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


# ---------------------------------------------------------------- demo


def needs_demo_data() -> bool:
    """Generate the demo township only into an empty database, never over someone's data."""
    from gongzhi.org.models import OrgUnit

    return not OrgUnit.objects.exists()


def display_width(text: str) -> int:
    """Columns a terminal uses: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def format_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    rows = [list(map(str, row)) for row in rows]
    header = list(map(str, header))
    widths = [max(display_width(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        padded = (cell + " " * (w - display_width(cell)) for cell, w in zip(cells, widths, strict=True))
        return "  ".join(padded)

    rule = ["-" * w for w in widths]
    return "\n".join(line(cells).rstrip() for cells in [header, rule, *rows])


def demo_login_rows(logins: Iterable[Mapping]) -> list[list[str]]:
    """One row per role (the first login given for it): role, account, password, unit, note.

    Residents have no password: they give their ID number and phone and get an SMS code.
    """
    rows, seen = [], set()
    for login in logins:
        role = str(login["role"])
        if role in seen:
            continue
        seen.add(role)
        if login.get("id_number"):
            account = _("身份证 %(id)s  手机 %(phone)s") % {"id": login["id_number"], "phone": login["phone"]}
            secret = _("短信验证码")
        else:
            account, secret = login["username"], login["password"]
        note = login.get("note") or login.get("sees") or ""
        rows.append([role, account, secret, str(login["unit"]), str(note)])
    return rows


def local_url(host: str, port: int) -> str:
    """Where to reach a server bound to host:port from this machine."""
    if host in {"0.0.0.0", ""}:
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def port_is_free(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _die_with_parent() -> None:
    """In a child: get SIGTERM if the demo is killed outright, so no server is left holding the port."""
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


class Child:
    def __init__(self, label: str, argv: list[str], stop_signal: int):
        self.label, self.stop_signal = label, stop_signal
        # Own session: Ctrl-C reaches only the demo, which then stops each child exactly once.
        self.process = subprocess.Popen(
            argv, start_new_session=True, preexec_fn=_die_with_parent if sys.platform == "linux" else None
        )

    def exited(self) -> int | None:
        return self.process.poll()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(self.stop_signal)

    def wait_or_kill(self, deadline: float) -> None:
        try:
            self.process.wait(timeout=max(deadline - time.monotonic(), 0))
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def wait_until_answering(url: str, children: Sequence[Child], timeout: float,
                         stopping: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not stopping():
        if any(child.exited() is not None for child in children):
            return False
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2):
                return True
        except urllib.error.HTTPError:  # 503 still means the web server answers
            return True
        except OSError:
            time.sleep(0.3)
    return False


def demo(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog=f"{PROG} demo", description=str(COMMAND_HELP["demo"]))
    parser.add_argument("--host", default="127.0.0.1", help=_("监听地址（默认 127.0.0.1）"))
    parser.add_argument("--port", type=int, default=8000, help=_("端口（默认 8000）"))
    args = parser.parse_args(argv)

    from django.core.management import call_command

    if not port_is_free(args.host, args.port):
        print(_("端口 %(port)s 已被占用。请用 --port 换一个端口，例如：%(prog)s demo --port 8001")
              % {"port": args.port, "prog": PROG}, file=sys.stderr)
        return 2

    print(_("正在更新数据库结构……"), flush=True)
    call_command("migrate", interactive=False, verbosity=0)
    if needs_demo_data():
        print(_("数据库为空，正在生成演示乡镇（八里镇）……"), flush=True)
        # Its own report lists the logins too; the demo prints them once, after the servers answer.
        call_command("generate", "--scale", "township", "--seed", "1", stdout=io.StringIO())
        # About fifty sample cases of the last month in every state, so no case list starts empty.
        call_command("demo_cases", stdout=io.StringIO())

    me = [sys.executable, "-m", "gongzhi"]
    url = local_url(args.host, args.port)
    children: list[Child] = []
    stopping = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        web = [*me, "serve", "--host", args.host, "--port", str(args.port)]
        children = [
            Child(_("网页服务"), web, signal.SIGTERM),
            # SIGINT is Huey's graceful stop: running tasks finish first.
            Child(_("任务进程"), [*me, "worker"], signal.SIGINT),
        ]
        if wait_until_answering(url, children, DEMO_START_TIMEOUT, lambda: stopping):
            print_welcome(url)
        elif all(child.exited() is None for child in children) and not stopping:
            print(_("网页服务 %(seconds)s 秒内没有响应 %(url)s，仍在等待。")
                  % {"seconds": DEMO_START_TIMEOUT, "url": url}, file=sys.stderr, flush=True)
        while not stopping:
            for child in children:
                code = child.exited()
                if code is not None:
                    how = (_("被信号 %(name)s 终止") % {"name": signal.Signals(-code).name} if code < 0
                           else _("退出码 %(code)s") % {"code": code})
                    print(_("%(what)s意外退出（%(how)s），演示已停止。请查看上方的错误信息。")
                          % {"what": child.label, "how": how}, file=sys.stderr, flush=True)
                    return 1
            time.sleep(0.3)
        print(_("正在停止……"), flush=True)
        return 0
    finally:
        for child in children:
            child.stop()
        deadline = time.monotonic() + DEMO_STOP_TIMEOUT
        for child in children:
            child.wait_or_kill(deadline)


def print_welcome(url: str) -> None:
    from gongzhi.demo.generate import DEMO_LOGINS

    portals = [
        (_("居民端"), f"{url}/"),
        (_("网格员端"), f"{url}/worker/"),
        (_("指挥中心"), f"{url}/command/"),
        (_("系统后台"), f"{url}/admin/"),
        (_("接口文档"), f"{url}/api/docs"),
        (_("健康检查"), f"{url}/healthz"),
    ]
    header = [_("角色"), _("账号"), _("密码"), _("单位"), _("说明")]
    print("\n" + _("共治演示已启动：%(url)s/") % {"url": url})
    print(format_table([_("入口"), _("地址")], portals))
    print("\n" + _("演示账号（每个角色一个）："))
    print(format_table(header, demo_login_rows(DEMO_LOGINS)))
    print(_("居民登录时收到的短信验证码显示在：%(url)s/dev/sms/") % {"url": url})
    print("\n" + _("按 Ctrl-C 停止。"), flush=True)


OWN_COMMANDS = {"demo": demo, "serve": serve, "worker": worker}

