"""Point → grid lookup speed at the scale of 兰州 (8,703 grids over about 13,100 km²).

    .venv/bin/python bench/grid_lookup.py [--grids 8703] [--points 1000000] [--single 100000]

Builds synthetic grids that tile the area like real ones (irregular cells, shared wiggly edges of about
20 points each), builds the GridIndex from their GeoJSON (the path the web process takes with stored
boundaries), then times single-point lookups and vectorised batch lookups of random points, some of
them outside every grid. No database is involved: this measures the index, not HTTP.
"""

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gongzhi.org.geo import GridIndex  # noqa: E402

TARGET_SINGLE_PER_S = 20_000
TARGET_BATCH_PER_S = 200_000
AREA_KM2 = 13_100  # 兰州市
ORIGIN = (102.6, 35.6)  # south-west corner, lng/lat
KM_PER_DEGREE_LAT = 111.0


def synthetic_grids(count: int, *, seed: int = 2026, subdivisions: int = 4) -> list[dict]:
    """`count` GeoJSON Polygons tiling a 兰州-sized rectangle; neighbours share their edges exactly."""
    rng = np.random.default_rng(seed)
    km_per_degree_lng = KM_PER_DEGREE_LAT * math.cos(math.radians(ORIGIN[1] + 0.5))
    width_km = math.sqrt(AREA_KM2 * 1.2)
    width, height = width_km / km_per_degree_lng, AREA_KM2 / width_km / KM_PER_DEGREE_LAT
    cols = math.ceil(math.sqrt(count * width / height))
    rows = math.ceil(count / cols)
    dx, dy = width / cols, height / rows
    # Lattice corners, jittered inside the rectangle so cells are irregular quadrilaterals.
    xs = ORIGIN[0] + np.arange(cols + 1)[:, None] * dx + np.zeros((1, rows + 1))
    ys = ORIGIN[1] + np.arange(rows + 1)[None, :] * dy + np.zeros((cols + 1, 1))
    xs[1:-1, :] += rng.uniform(-0.3, 0.3, (cols - 1, rows + 1)) * dx
    ys[:, 1:-1] += rng.uniform(-0.3, 0.3, (cols + 1, rows - 1)) * dy

    def edge(a: tuple[float, float], b: tuple[float, float]) -> list[list[float]]:
        # Points strictly between a and b, nudged sideways; computed once per edge and shared.
        t = np.arange(1, subdivisions + 1) / (subdivisions + 1)
        nudge = rng.uniform(-0.08, 0.08, subdivisions)
        px = a[0] + t * (b[0] - a[0]) - nudge * (b[1] - a[1])
        py = a[1] + t * (b[1] - a[1]) + nudge * (b[0] - a[0])
        return np.column_stack([px, py]).tolist()

    corner = {(i, j): (float(xs[i, j]), float(ys[i, j])) for i in range(cols + 1) for j in range(rows + 1)}
    horizontal = {(i, j): edge(corner[i, j], corner[i + 1, j]) for i in range(cols) for j in range(rows + 1)}
    vertical = {(i, j): edge(corner[i, j], corner[i, j + 1]) for i in range(cols + 1) for j in range(rows)}
    polygons = []
    for n in range(count):
        i, j = n % cols, n // cols
        ring = [list(corner[i, j]), *horizontal[i, j], list(corner[i + 1, j]), *vertical[i + 1, j],
                list(corner[i + 1, j + 1]), *reversed(horizontal[i, j + 1]), list(corner[i, j + 1]),
                *reversed(vertical[i, j]), list(corner[i, j])]
        polygons.append({"type": "Polygon", "coordinates": [ring]})
    return polygons


def random_points(count: int, grids: list[dict], *, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """Uniform points over the grids' bounding box widened by 2% on each side."""
    coords = np.array([p for g in grids for p in g["coordinates"][0]])
    (x0, y0), (x1, y1) = coords.min(axis=0), coords.max(axis=0)
    mx, my = (x1 - x0) * 0.02, (y1 - y0) * 0.02
    rng = np.random.default_rng(seed)
    return rng.uniform(x0 - mx, x1 + mx, count), rng.uniform(y0 - my, y1 + my, count)


def _verdict(measured: float, target: float) -> str:
    return "met" if measured >= target else "MISSED"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grids", type=int, default=8703)
    parser.add_argument("--points", type=int, default=1_000_000, help="points in the batch lookup")
    parser.add_argument("--single", type=int, default=100_000, help="single-point lookups to time")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    grids = synthetic_grids(args.grids)
    generated = time.perf_counter() - started

    started = time.perf_counter()
    index = GridIndex.from_geojson(enumerate(grids, start=1))
    built = time.perf_counter() - started

    lngs, lats = random_points(args.points, grids)
    started = time.perf_counter()
    batch = index.locate_many(lngs, lats)
    batch_s = time.perf_counter() - started

    single_lngs, single_lats = lngs[: args.single].tolist(), lats[: args.single].tolist()
    locate = index.locate
    started = time.perf_counter()
    single = [locate(x, y) for x, y in zip(single_lngs, single_lats, strict=True)]
    single_s = time.perf_counter() - started

    disagreements = sum(1 for s, b in zip(single, batch[: len(single)].tolist(), strict=True)
                        if (-1 if s is None else s) != b)
    figures = {
        "grids": len(index),
        "generate_s": generated,
        "build_s": built,
        "single_per_s": len(single) / single_s,
        "batch_per_s": len(batch) / batch_s,
        "inside_share": float(np.mean(batch >= 0)),
        "disagreements": disagreements,
    }
    print(f"grids: {figures['grids']:,} (generated in {generated:.2f} s, "
          f"index built from GeoJSON in {built:.2f} s)")
    print(f"single-point lookups: {figures['single_per_s']:,.0f}/s over {len(single):,} points "
          f"(target ≥ {TARGET_SINGLE_PER_S:,}/s: {_verdict(figures['single_per_s'], TARGET_SINGLE_PER_S)})")
    print(f"batch lookups: {figures['batch_per_s']:,.0f} points/s over {len(batch):,} points "
          f"(target ≥ {TARGET_BATCH_PER_S:,}/s: {_verdict(figures['batch_per_s'], TARGET_BATCH_PER_S)})")
    print(f"points inside a grid: {figures['inside_share']:.1%}; "
          f"single vs batch disagreements: {disagreements}")
    return figures


if __name__ == "__main__":
    main()
