"""bench/alert_fanout.py and bench/resident_home.py run at a tiny size and check what they measure (no speed
check)."""

import importlib.util
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[3] / "bench"


def _load(monkeypatch, name: str):
    monkeypatch.delenv("DATABASE_URL", raising=False)  # their own SQLite database in a temporary folder
    monkeypatch.syspath_prepend(str(BENCH))
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    bench = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, bench)
    spec.loader.exec_module(bench)
    return bench


def test_the_alert_fanout_benchmark_runs_on_a_tiny_size(monkeypatch, capsys):
    bench = _load(monkeypatch, "alert_fanout")
    figures = bench.main(["--residents", "1500", "--sample", "10", "--send"])
    assert figures["found"] == figures["sample"] == 10
    assert figures["with_phone"] == 1350 == figures["delivery"]["queued"] == figures["delivery"]["sent"]
    assert figures["delivery"]["recipients"] == 1500 and figures["distinct_rows"] == 1350
    assert figures["send_tasks"] == 2 and figures["sent_counted"] == 1350
    out = capsys.readouterr().out
    assert "target: visible in every inbox < 1 s" in out and "target: all texts queued < 30 s" in out


def test_the_resident_home_benchmark_runs_on_a_tiny_size(monkeypatch, capsys):
    bench = _load(monkeypatch, "resident_home")
    figures = bench.main(["--years", "1", "--villages", "3", "--requests", "3"])
    assert all(statuses == [200] for statuses in figures["statuses"].values())
    assert figures["checks"] == {"banner": True, "unread": True}
    assert all(len(figures["timings"][label]) == 3 for label in bench.TARGETS)
    assert "target: resident home and messages p95 < 50 ms" in capsys.readouterr().out
