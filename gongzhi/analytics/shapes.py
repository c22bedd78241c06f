"""Boundaries sent compactly to the map: simplified for the zoom a unit is shown at, coordinates quantised.

The map shows one unit at a time, fitted to the screen, so the detail worth sending follows from the unit's
extent: `zoom_band` is the web-map zoom at which the unit fills about 1,000 px, and `tolerance` half a pixel
one zoom level further in (so a wheel turn past the fitted view still looks right). Polygons of one level are
simplified together as a coverage (`shapely.coverage_simplify`): an edge two grids share is simplified once, so
neighbours keep meeting without gaps or slivers, as TopoJSON's shared arcs do. Each polygon is then quantised
as TopoJSON is: integers on a grid of `step` degrees from the south-west corner of the box, each ring its first
point then deltas, so most numbers are one or two digits and gzip does the rest.

The JSON (`encode`):
    {"bbox": [west, south, east, north], "step": degrees per integer,
     "units": [[id, name, geometry], …],   the unit's children above grid level, to drill into
     "grids": [[id, geometry] or [id, geometry, name], …]}   every grid under the unit (names when they are
                                                               its children, for their labels)
    geometry = [polygon, …]; polygon = [ring, …] (outer first);
    ring = [x0, y0, dx1, dy1, …]: lng = west + x·step, lat = south + y·step; not closed (the first point is
    not repeated at the end).
`static/js/command-map.js` decodes it (`decodeGeometry`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

FIT_PIXELS = 1024  # about the width of the map a unit is fitted to
TILE_PIXELS = 256


@dataclass(frozen=True)
class Feature:
    id: int
    geometry: BaseGeometry  # Polygon or MultiPolygon, WGS84
    name: str = ""


def zoom_band(west: float, south: float, east: float, north: float) -> int:
    """The web-map zoom at which the box fills about FIT_PIXELS (clamped to 0–18)."""
    extent = max(east - west, (north - south) / max(math.cos(math.radians((south + north) / 2)), 0.1), 1e-9)
    return max(0, min(18, math.floor(math.log2(360 * FIT_PIXELS / (TILE_PIXELS * extent)))))


def tolerance(band: int) -> float:
    """Half a pixel, in degrees of longitude, one zoom level past `band`."""
    return 360 / (TILE_PIXELS * 2 ** (band + 1)) / 2


def simplify(geometries: Sequence[BaseGeometry], tol: float) -> list[BaseGeometry]:
    """The polygons of one level simplified together, keeping the edges they share shared."""
    if not geometries:
        return []
    array = np.empty(len(geometries), dtype=object)
    array[:] = list(geometries)
    simplified = shapely.coverage_simplify(array, tol)
    # An invalid coverage (overlapping grids, which import-grids refuses) may simplify into an invalid shape:
    # that polygon alone is simplified on its own instead.
    return [s if s.is_valid and not s.is_empty else shapely.simplify(g, tol, preserve_topology=True)
            for s, g in zip(simplified, geometries, strict=True)]


def _ring(coords: np.ndarray, west: float, south: float, step: float) -> list[int]:
    points = np.rint((coords[:-1, :2] - (west, south)) / step).astype(np.int64)
    keep = np.ones(len(points), dtype=bool)
    keep[1:] = np.any(points[1:] != points[:-1], axis=1)
    points = points[keep]
    if len(points) > 1 and (points[0] == points[-1]).all():
        points = points[:-1]
    if len(np.unique(points, axis=0)) < 3:
        # Smaller than the step: still drawn, as the step-sized box around where it is.
        x0, y0 = int(points[:, 0].min()), int(points[:, 1].min())
        x1, y1 = max(int(points[:, 0].max()), x0 + 1), max(int(points[:, 1].max()), y0 + 1)
        points = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
    deltas = np.diff(points, axis=0, prepend=[[0, 0]])
    return deltas.ravel().tolist()


def _geometry(geometry: BaseGeometry, west: float, south: float, step: float) -> list[list[list[int]]]:
    polygons = geometry.geoms if isinstance(geometry, shapely.MultiPolygon) else [geometry]
    return [[_ring(np.asarray(ring.coords), west, south, step) for ring in (p.exterior, *p.interiors)]
            for p in polygons if not p.is_empty]


def encode(units: Sequence[Feature], grids: Sequence[Feature], *, grid_names: bool) -> dict[str, Any]:
    """The JSON above, for the box around every feature, simplified for the band that box is shown at."""
    everything = [f.geometry for f in (*units, *grids)]
    if not everything:
        return {"bbox": None, "step": None, "units": [], "grids": []}
    west, south, east, north = (float(v) for v in shapely.total_bounds(everything))
    tol = tolerance(zoom_band(west, south, east, north))
    step = tol / 2
    units_simple = simplify([f.geometry for f in units], tol)
    grids_simple = simplify([f.geometry for f in grids], tol)
    return {
        "bbox": [west, south, east, north], "step": step,
        "units": [[f.id, f.name, _geometry(g, west, south, step)] for f, g in zip(units, units_simple, strict=True)],
        "grids": [[f.id, _geometry(g, west, south, step), *([f.name] if grid_names else [])]
                  for f, g in zip(grids, grids_simple, strict=True)],
    }
