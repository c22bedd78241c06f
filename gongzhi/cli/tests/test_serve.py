"""`gongzhi serve` as production starts it, under concurrent clients: bench/intake.py at a tiny size."""

import importlib.util
import sys
from pathlib import Path

import pytest


@pytest.fixture
def bench(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)  # its own SQLite database in a temporary folder
    path = Path(__file__).resolve().parents[3] / "bench" / "intake.py"
    spec = importlib.util.spec_from_file_location("bench_intake", path)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_the_server_answers_every_submission_and_bare_request_from_concurrent_clients(bench):
    results = bench.measure(seconds=1.0, rounds=1, client_counts=[3], workers=None, threads=None)
    loads = results[3]
    assert [load.name for load in loads] == [
        "intake (POST /api/cases)", "bare insert + session", "bare insert, no session"]
    for load in loads:
        assert load.ok > 0 and load.failed == 0, (load.name, load.statuses)
        assert load.cpu > 0  # the server's CPU was read from /proc
