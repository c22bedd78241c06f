"""bench/grid_lookup.py runs on a tiny size and its synthetic grids are a real tiling (no speed check)."""

import importlib.util
from pathlib import Path

import pytest
import shapely

BENCH = Path(__file__).resolve().parents[3] / "bench" / "grid_lookup.py"


def load_bench():
    spec = importlib.util.spec_from_file_location("grid_lookup_bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bench_runs_on_a_tiny_size(capsys):
    figures = load_bench().main(["--grids", "50", "--points", "1000", "--single", "200"])
    assert figures["grids"] == 50
    assert figures["disagreements"] == 0
    assert 0.5 < figures["inside_share"] < 1.0
    assert "single-point lookups" in capsys.readouterr().out


def test_synthetic_grids_are_valid_and_tile_without_overlap():
    shapes = [shapely.geometry.shape(g) for g in load_bench().synthetic_grids(60)]
    assert all(s.is_valid for s in shapes)
    assert shapely.union_all(shapes).area == pytest.approx(sum(s.area for s in shapes))
