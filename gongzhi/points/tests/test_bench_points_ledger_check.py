"""bench/points_ledger_check.py runs at a tiny size: the ledger it builds checks, and the entry it then edits in
the database is named as the first broken one (no speed check)."""

import importlib.util
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[3] / "bench"


def test_the_benchmark_runs_on_a_tiny_size(monkeypatch, capsys):
    monkeypatch.delenv("DATABASE_URL", raising=False)  # its own SQLite database in a temporary folder
    monkeypatch.syspath_prepend(str(BENCH))
    spec = importlib.util.spec_from_file_location("bench_points_ledger_check", BENCH / "points_ledger_check.py")
    bench = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, bench)
    spec.loader.exec_module(bench)
    figures = bench.main(["--entries", "2000", "--households", "30"])
    assert figures["passed"] and all(ok for _text, ok in bench.verdicts(figures))
    assert figures["entries"] == figures["check"]["entries"] == 2000
    assert figures["tampered"]["seq"] == figures["after"]["first_broken_seq"] == 1000
    # The edit shows as a broken hash, one unbalanced movement and one wrong balance, nothing more.
    problems = figures["after"]["problems"]
    assert len(problems) == 3, problems
    assert "第1000条流水的内容与其哈希不符" in problems[0] and "第999、1000条" in problems[1]
    assert "target: check < 10 s on SQLite" in capsys.readouterr().out
