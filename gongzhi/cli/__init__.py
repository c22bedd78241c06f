"""The `gongzhi` command (also `python -m gongzhi`).

Gongzhi's own commands live in this package because the demo reaches across all apps, and apps must not
import upwards: `serve` and `worker` in `serve.py`, `demo` in `demo.py` (the children it starts and watches
in `processes.py`), `backup` and `restore` in `backup.py`. `generate` and `import-grids` map to management
commands (of `gongzhi.demo` and `gongzhi.org`), and anything else is handed to Django, so `gongzhi migrate`
or `gongzhi createsuperuser` work too.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

PROG = "gongzhi"

# Spelled with dashes on the command line, as management commands (underscores) inside Django.
ALIASES = {"import-grids": "import_grids", "check-ledger": "check_ledger"}

COMMAND_HELP = {
    "demo": gettext_lazy("一键演示：迁移数据库，空库时生成演示乡镇，启动网页服务和任务进程，打印演示账号"),
    "serve": gettext_lazy("启动网页服务（gunicorn，多进程）"),
    "worker": gettext_lazy("启动后台任务进程（Huey），并定时写心跳供 /healthz 检查"),
    "generate": gettext_lazy("生成演示或压测数据，例如 --scale township --seed 1"),
    "import-grids": gettext_lazy("从 GeoJSON 文件导入网格边界：import-grids 文件.geojson"),
    "check-ledger": gettext_lazy("核验积分账本（哈希链、借贷成对、余额）；发现被改动的流水时报告第一条并以状态1退出"),
    "backup": gettext_lazy("备份数据库和上传文件到一个文件（不含密钥，除非 --include-keys）"),
    "restore": gettext_lazy("从 gongzhi backup 的文件恢复到本实例（校验和、密钥和数量都会检查）"),
}

# Run by Gongzhi itself, not by Django (see own_command).
OWN_COMMANDS = ("demo", "serve", "worker", "backup", "restore")


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gongzhi.settings")
    command = args[0] if args else "help"
    if command == "demo":
        # Before Django reads its settings; the web and worker children inherit them.
        os.environ["GONGZHI_DEV_SMS_PAGE"] = "1"

    import django

    django.setup()
    if command in {"help", "-h", "--help"} and len(args) <= 1:
        print(help_text())
        return 0
    if command in OWN_COMMANDS:
        return own_command(command)(args[1:])
    if command == "help" and args[1] in OWN_COMMANDS:
        return own_command(args[1])(["--help"])

    from django.core.management import execute_from_command_line

    execute_from_command_line([PROG, *django_argv(args)])
    return 0


def own_command(name: str) -> Callable[[Sequence[str]], int]:
    """The function that runs one of OWN_COMMANDS with its arguments and returns the exit status."""
    # Imported here, not at the top: the command modules use PROG and COMMAND_HELP from this one.
    from gongzhi.cli import backup, demo, serve

    commands: dict[str, Callable[[Sequence[str]], int]] = {
        "demo": demo.demo, "serve": serve.serve, "worker": serve.worker,
        "backup": backup.backup, "restore": backup.restore,
    }
    return commands[name]


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
