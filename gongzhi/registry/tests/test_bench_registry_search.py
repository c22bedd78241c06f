"""bench/registry_search.py runs at a tiny size and finds the people it searches for (no speed check)."""

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[3] / "bench"


def test_the_benchmark_runs_on_a_tiny_size(monkeypatch, capsys):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.syspath_prepend(str(BENCH))
    spec = importlib.util.spec_from_file_location("bench_registry_search", BENCH / "registry_search.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    figures = bench.main(["--residents", "600", "--queries", "5", "--scale", "tiny"])
    assert figures["residents"] == 600
    assert set(bench.TARGETS) <= set(figures["timings"]) and "baseline" in figures["timings"]
    assert all(len(figures["timings"][label]) == 5 for label in bench.TARGETS)
    # Every name and ID number searched is a county resident's: the dispatcher finds each of them.
    assert figures["found"]["dispatcher id_number"] == 5 and figures["found"]["dispatcher name"] >= 5
    assert "target: name and ID search p95" in capsys.readouterr().out
