"""Plain-language summary of a GeoJSON boundary for the unit page (no map needed to check one)."""

import json
from dataclasses import dataclass

from shapely.geometry import shape


@dataclass
class BoundarySummary:
    geometry_type: str
    vertices: int
    west: float
    south: float
    east: float
    north: float
    centroid_lng: float
    centroid_lat: float
    text: str


def summarize_boundary(boundary: dict | None) -> BoundarySummary | None:
    if not boundary:
        return None
    geom = shape(boundary)
    west, south, east, north = geom.bounds
    # A closed ring repeats its first point; count each corner once.
    rings = list(geom.geoms) if hasattr(geom, "geoms") else [geom]
    vertices = sum(len(p.exterior.coords) - 1 + sum(len(i.coords) - 1 for i in p.interiors) for p in rings)
    centroid = geom.centroid
    return BoundarySummary(
        geometry_type=geom.geom_type, vertices=vertices, west=west, south=south, east=east, north=north,
        centroid_lng=centroid.x, centroid_lat=centroid.y,
        text=json.dumps(boundary, ensure_ascii=False, indent=1),
    )
