"""bench/registry_excel.py runs at a tiny size (it measures; this only checks that it works and that the
export imports again without a change)."""

import importlib.util
from pathlib import Path


def test_the_benchmark_runs_on_a_tiny_size(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    path = Path(__file__).resolve().parents[3] / "bench" / "registry_excel.py"
    spec = importlib.util.spec_from_file_location("bench_registry_excel", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    figures = bench.main(["--rows", "300"])
    assert figures["setup"]["rows"] == 300 and figures["read"]["rows"] == 302
    imported = figures["import"]
    assert imported["status"] == "done" and imported["summary"]["created"] == 300, imported
    assert imported["summary"]["errors"] == 0 and imported["progress_updates"] >= 1
    assert figures["export"]["rows"] == 300
    again = figures["reimport"]["summary"]
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 300)
