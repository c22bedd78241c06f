import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.core import management

from gongzhi import cli
from gongzhi.cli import demo, processes, serve
from gongzhi.core import tasks


def test_dashed_commands_map_to_management_commands():
    assert cli.django_argv(["import-grids", "grids.geojson"]) == ["import_grids", "grids.geojson"]
    assert cli.django_argv(["generate", "--scale", "township", "--seed", "1"]) == [
        "generate", "--scale", "township", "--seed", "1"]
    assert cli.django_argv(["help", "import-grids"]) == ["help", "import_grids"]


def test_other_commands_pass_through_unchanged():
    assert cli.django_argv(["migrate", "--noinput"]) == ["migrate", "--noinput"]
    assert cli.django_argv(["createsuperuser"]) == ["createsuperuser"]


def test_main_hands_mapped_arguments_to_django(monkeypatch):
    seen = []
    monkeypatch.setattr(management, "execute_from_command_line", seen.append)
    assert cli.main(["import-grids", "grids.geojson"]) == 0
    assert seen == [["gongzhi", "import_grids", "grids.geojson"]]


@pytest.mark.django_db
def test_passthrough_runs_a_real_django_command(capsys):
    cli.main(["showmigrations", "core"])
    out = capsys.readouterr().out
    assert "core" in out
    assert "0001_initial" in out


def test_unknown_command_is_reported_by_django(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["no-such-command"])
    assert exit_info.value.code == 1
    assert "no-such-command" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [[], ["--help"], ["-h"], ["help"]])
def test_help_lists_gongzhi_commands_before_django_ones(argv, capsys):
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    positions = [out.index(f"  {name} ") for name in ("demo", "serve", "worker", "generate", "import-grids")]
    assert positions == sorted(positions)
    assert max(positions) < out.index("migrate")
    assert "createsuperuser" in out


def test_python_m_gongzhi_is_the_same_command():
    root = Path(cli.__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-m", "gongzhi", "--help"], cwd=root, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.index("  demo ") < done.stdout.index("migrate")


@pytest.mark.parametrize("argv", [["help", "serve"], ["serve", "--help"]])
def test_own_command_help(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "gongzhi serve" in out
    assert "--workers" in out


def test_demo_turns_on_the_dev_sms_page_before_django_reads_settings(monkeypatch, capsys):
    monkeypatch.delenv("GONGZHI_DEV_SMS_PAGE", raising=False)
    with pytest.raises(SystemExit):
        cli.main(["demo", "--help"])
    assert os.environ["GONGZHI_DEV_SMS_PAGE"] == "1"


def test_worker_runs_huey_with_a_heartbeat_and_stops_it(monkeypatch):
    calls, beats = [], []

    def fake_start_heartbeat(*, name, interval):
        beats.append((name, interval))
        beats.append(threading.Event())
        return beats[-1]

    monkeypatch.setattr(tasks, "start_heartbeat", fake_start_heartbeat)
    monkeypatch.setattr(management, "call_command", lambda *args, **kwargs: calls.append((args, kwargs)))
    assert cli.main(["worker", "--workers", "3"]) == 0
    assert calls == [(("run_huey",), {"workers": 3})]
    assert beats[0] == ("worker", 15)
    assert beats[1].is_set(), "the heartbeat must stop with the consumer"


@pytest.mark.django_db
def test_demo_data_is_generated_only_into_an_empty_database():
    from gongzhi.org.factories import make_tree

    assert demo.needs_demo_data() is True
    make_tree()
    assert demo.needs_demo_data() is False


@pytest.mark.parametrize("empty", [True, False])
def test_gongzhi_demo_makes_the_cases_only_with_a_new_township(monkeypatch, empty):
    class Started(Exception):
        pass

    def start_child(*args, **kwargs):
        raise Started  # stop before any server starts

    calls = []
    monkeypatch.setattr(management, "call_command", lambda *args, **kwargs: calls.append(args[0]))
    monkeypatch.setattr(demo, "port_is_free", lambda host, port: True)
    monkeypatch.setattr(demo, "needs_demo_data", lambda: empty)
    monkeypatch.setattr(demo, "Child", start_child)
    monkeypatch.setattr(demo.signal, "signal", lambda *args: None)
    with pytest.raises(Started):
        demo.demo([])
    assert calls == (["migrate", "generate", "demo_cases"] if empty else ["migrate"])


@pytest.mark.parametrize(("cores", "workers"), [(1, 2), (2, 3), (3, 4), (4, 5), (64, 8)])
def test_default_web_workers(cores, workers):
    assert serve.default_web_workers(cores) == workers


def test_table_aligns_chinese_and_latin_columns():
    table = demo.format_table(["角色", "账号"], [["网格员", "wgy01"], ["指挥中心调度员", "ddy"]])
    lines = table.splitlines()
    assert len(lines) == 4
    # The second column starts at the same terminal column on every line, Chinese counting double.
    starts = [demo.display_width(line[: line.index(cell)]) for line, cell in
              zip(lines, ["账号", "  -", "wgy01", "ddy"], strict=True)]
    starts[1] += 2
    assert starts == [demo.display_width("指挥中心调度员") + 2] * 4


def test_demo_login_rows_one_per_role_and_residents_log_in_by_id_and_phone():
    logins = [
        {"role": "网格员", "username": "wgy01", "password": "Demo#2026", "unit": "一村", "note": "第一网格"},
        {"role": "网格员", "username": "wgy02", "password": "Demo#2026", "unit": "二村", "note": ""},
        {"role": "居民", "username": "jumin1", "password": "", "id_number": "620102199001011234",
         "phone": "13800000000", "unit": "一村", "sees": "本人的事件"},
        {"role": "调度员", "username": "dd", "password": "Demo#2026", "id_number": "", "phone": "",
         "unit": "镇", "sees": "全镇"},
    ]
    rows = demo.demo_login_rows(logins)
    assert [row[0] for row in rows] == ["网格员", "居民", "调度员"]
    assert rows[0] == ["网格员", "wgy01", "Demo#2026", "一村", "第一网格"]
    assert "620102199001011234" in rows[1][1] and "13800000000" in rows[1][1]
    assert "jumin1" not in rows[1][1]
    assert rows[1][2:] == ["短信验证码", "一村", "本人的事件"]
    assert rows[2] == ["调度员", "dd", "Demo#2026", "镇", "全镇"]


def test_local_url_for_wildcard_and_ipv6_hosts():
    assert processes.local_url("127.0.0.1", 8000) == "http://127.0.0.1:8000"
    assert processes.local_url("0.0.0.0", 80) == "http://127.0.0.1:80"
    assert processes.local_url("::", 8000) == "http://[::1]:8000"


def test_port_in_use_is_detected():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        assert processes.port_is_free("127.0.0.1", port) is False
    assert processes.port_is_free("127.0.0.1", port) is True
