"""`gongzhi demo`: migrate, fill an empty database with the demo township and its sample cases, start the web
server and the task worker, print where to go and one login per role; Ctrl-C stops both."""

from __future__ import annotations

import argparse
import io
import signal
import sys
import time
import unicodedata
from collections.abc import Iterable, Mapping, Sequence

from django.utils.translation import gettext as _

from gongzhi.cli import COMMAND_HELP, PROG
from gongzhi.cli.processes import Child, local_url, port_is_free, wait_until_answering

# How long the demo waits for the web server to answer, and for children to stop, in seconds.
DEMO_START_TIMEOUT = 60
DEMO_STOP_TIMEOUT = 15


def needs_demo_data() -> bool:
    """Generate the demo township only into an empty database, never over someone's data."""
    from gongzhi.org.models import OrgUnit

    return not OrgUnit.objects.exists()


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
        # Phones reach the demo directly, with no proxy buffering for them: threads (see serve.DEFAULT_THREADS).
        web = [*me, "serve", "--host", args.host, "--port", str(args.port), "--threads", "4"]
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


# ---------------------------------------------------------------- the welcome


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
