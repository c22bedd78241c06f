"""The map's boundary encoding round-trips: decoded as command-map.js decodes it, every grid is the same shape
within the simplification tolerance plus the quantisation step, and neighbours still meet without gaps."""

import random

import pytest
import shapely

from gongzhi.analytics import shapes


def decode(geometry, data):
    """command-map.js's decodeGeometry, in Python."""
    west, south, step = data["bbox"][0], data["bbox"][1], data["step"]
    polygons = []
    for polygon in geometry:
        rings = []
        for ring in polygon:
            x = y = 0
            points = []
            for dx, dy in zip(ring[::2], ring[1::2], strict=True):
                x, y = x + dx, y + dy
                points.append((west + x * step, south + y * step))
            rings.append(points)
        polygons.append(shapely.Polygon(rings[0], rings[1:]))
    return shapely.MultiPolygon(polygons) if len(polygons) > 1 else polygons[0]


def voronoi_grids(count, box=(103.6, 36.0, 103.9, 36.2), seed=1):
    """Irregular grids tiling a box, with many vertices along shared edges (as surveyed boundaries have)."""
    rng = random.Random(seed)
    west, south, east, north = box
    seeds = shapely.MultiPoint([(rng.uniform(west, east), rng.uniform(south, north)) for _ in range(count)])
    cells = shapely.voronoi_polygons(seeds, extend_to=shapely.box(*box))
    clipped = [shapely.segmentize(cell.intersection(shapely.box(*box)), 0.0005) for cell in cells.geoms]
    return [shapes.Feature(i + 1, cell, f"网格{i + 1}") for i, cell in enumerate(clipped)]


@pytest.mark.parametrize("count", [30, 600])
def test_every_grid_decodes_to_its_shape_within_tolerance_and_the_coverage_keeps_no_gaps(count):
    grids = voronoi_grids(count)
    data = shapes.encode([], grids, grid_names=True)
    tol = shapes.tolerance(shapes.zoom_band(*data["bbox"]))
    assert data["step"] == tol / 2
    decoded = [decode(row[1], data) for row in data["grids"]]
    assert [row[0] for row in data["grids"]] == [g.id for g in grids]
    assert [row[2] for row in data["grids"]] == [g.name for g in grids]
    for grid, shape in zip(grids, decoded, strict=True):
        assert shape.is_valid
        assert shapely.hausdorff_distance(grid.geometry, shape) <= tol + data["step"]
    whole = shapely.box(*data["bbox"]).area
    assert abs(sum(s.area for s in decoded) - whole) / whole < 1e-3  # no overlaps...
    assert abs(shapely.union_all(decoded).area - whole) / whole < 1e-3  # ...and no gaps


def test_simplification_sends_fewer_points_than_stored():
    grids = voronoi_grids(200)
    data = shapes.encode([], grids, grid_names=False)
    stored = sum(len(g.geometry.exterior.coords) - 1 for g in grids)
    sent = sum(len(ring) // 2 for row in data["grids"] for polygon in row[1] for ring in polygon)
    assert sent < stored / 3
    assert all(len(row) == 2 for row in data["grids"])  # no names asked for


def test_a_grid_smaller_than_a_step_is_still_drawn_and_holes_survive():
    city = shapely.box(103.0, 35.5, 104.5, 37.0)
    tiny = shapely.box(103.70000, 36.00000, 103.70001, 36.00001)
    ring = shapely.box(103.8, 36.1, 103.9, 36.2).difference(shapely.box(103.84, 36.14, 103.86, 36.16))
    data = shapes.encode([shapes.Feature(1, city, "全市")], [shapes.Feature(2, tiny), shapes.Feature(3, ring)],
                         grid_names=False)
    small = decode(data["grids"][0][1], data)
    assert small.is_valid and small.area > 0 and small.distance(tiny) <= data["step"] * 2
    holed = decode(data["grids"][1][1], data)
    assert len(holed.interiors) == 1
    assert data["units"][0][1] == "全市"


def test_zoom_band_follows_the_extent():
    assert shapes.zoom_band(102.95, 35.55, 104.55, 37.05) == 9  # 兰州, 1.6°
    assert shapes.zoom_band(104.60, 35.58, 104.61, 35.59) == 16  # a 1 km grid
    assert shapes.encode([], [], grid_names=False)["grids"] == []
