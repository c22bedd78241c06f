"""bench/points_capture.py runs at a tiny size against the real server: of the simultaneous captures of one token
exactly one succeeds, the rest are refused as used, and the ledger checks (no speed check)."""

import importlib.util
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[3] / "bench"


def test_the_benchmark_runs_on_a_tiny_size(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)  # its own SQLite database in a temporary folder
    monkeypatch.syspath_prepend(str(BENCH))
    spec = importlib.util.spec_from_file_location("bench_points_capture", BENCH / "points_capture.py")
    bench = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, bench)
    spec.loader.exec_module(bench)
    figures = bench.measure(rounds=2, concurrency=8)
    assert figures["winners"] == [1, 1]
    assert figures["statuses"]["capture"] == {200: 2, 409: 14} and figures["codes"] == {"token_used": 14}
    assert figures["statuses"]["baseline"] == {200: 16}
    assert all(ok for _text, ok in bench.verdicts(figures)), bench.verdicts(figures)
    assert figures["latency_ms"]["capture"]["p95"] > 0
