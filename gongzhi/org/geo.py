"""Grid geometry: checking GeoJSON boundaries and the point → grid index.

Coordinates are WGS84 `[lng, lat]`, as in GeoJSON.

Which grid a point is in — the one rule every caller gets:
a grid is a closed area: its interior and its outline, minus the inside of its holes (a hole's own
outline still belongs to the grid). A point on an edge that two grids share touches both; the index then
answers the grid with the lowest id. Ids never change, so the answer is the same after every rebuild and
in every process, and the older grid keeps the shared edge. A point inside a hole belongs to that grid
only if another grid fills the hole.

Nothing here touches the database: `gongzhi.org.selectors.grid_index()` builds and caches the index for
the grids stored there, and `bench/grid_lookup.py` builds one from synthetic polygons.
"""

import math
import re
from collections.abc import Iterable, Sequence
from typing import Any, TypeAlias

import numpy as np
import shapely
from django.utils.translation import gettext as _
from shapely import STRtree
from shapely.geometry.base import BaseGeometry

from gongzhi.core.errors import DomainError

# Overlap tolerance in square degrees: about 1 m² at China's latitudes (1° ≈ 111 km north–south and
# 85–100 km east–west), far below any real overlap, far above the slivers float rounding leaves along an
# edge two grids share.
OVERLAP_TOLERANCE = 1e-10

Polygonal: TypeAlias = shapely.Polygon | shapely.MultiPolygon


def _object_array(geometries: Sequence[BaseGeometry]) -> np.ndarray:
    array = np.empty(len(geometries), dtype=object)
    array[:] = list(geometries)
    return array


class GridIndex:
    """Point → grid id over polygons held in a shapely STRtree. Read-only once built."""

    def __init__(self, ids: Sequence[int], geometries: Sequence[BaseGeometry], skipped: Sequence[int] = ()):
        if len(ids) != len(geometries):
            raise ValueError("ids and geometries differ in length")
        ids_array = np.asarray(ids, dtype=np.int64)
        # Tree positions follow ascending id, so "lowest id" is "lowest position" when a point hits several.
        order = np.argsort(ids_array, kind="stable")
        self.ids = ids_array[order]
        self.geometries = _object_array(geometries)[order]
        self.skipped = list(skipped)
        self._tree = STRtree(self.geometries)

    @classmethod
    def from_geojson(cls, boundaries: Iterable[tuple[int, object]]) -> "GridIndex":
        """Build from (grid id, GeoJSON geometry) pairs. Boundaries that are not readable polygons are left
        out and their ids listed in `skipped`, so one bad stored row cannot take the lookup down."""
        ids: list[int] = []
        geometries: list[BaseGeometry] = []
        skipped: list[int] = []
        for grid_id, geometry in boundaries:
            try:
                shape = shapely.geometry.shape(geometry)
            except (AttributeError, IndexError, KeyError, TypeError, ValueError, shapely.errors.ShapelyError):
                skipped.append(grid_id)
                continue
            if not isinstance(shape, Polygonal) or shape.is_empty:
                skipped.append(grid_id)
                continue
            ids.append(grid_id)
            geometries.append(shape)
        return cls(ids, geometries, skipped)

    def __len__(self) -> int:
        return len(self.ids)

    def locate(self, lng: float, lat: float) -> int | None:
        """The id of the grid containing the point, or None."""
        hits = self._tree.query(shapely.Point(lng, lat), predicate="intersects")
        return int(self.ids[hits.min()]) if hits.size else None

    def intersecting(self, min_lng: float, min_lat: float, max_lng: float, max_lat: float) -> list[int]:
        """The ids of the grids that reach into the box (boundary or interior), ascending."""
        hits = self._tree.query(shapely.box(min_lng, min_lat, max_lng, max_lat), predicate="intersects")
        return sorted(int(grid_id) for grid_id in self.ids[hits])

    def locate_many(self, lngs: np.ndarray, lats: np.ndarray) -> np.ndarray:
        """Grid ids for many points at once (int64 array, -1 where a point is in no grid or not finite)."""
        lngs = np.asarray(lngs, dtype=np.float64)
        lats = np.asarray(lats, dtype=np.float64)
        if lngs.shape != lats.shape or lngs.ndim != 1:
            raise ValueError("lngs and lats must be 1-D arrays of the same length")
        point_pos, tree_pos = self._tree.query(shapely.points(lngs, lats), predicate="intersects")
        none = len(self.ids)
        best = np.full(len(lngs), none, dtype=np.intp)
        np.minimum.at(best, point_pos, tree_pos)
        result = np.full(len(lngs), -1, dtype=np.int64)
        found = best < none
        result[found] = self.ids[best[found]]
        return result


def check_point(*, lat: float, lng: float) -> None:
    """Raise DomainError unless (lat, lng) is a finite WGS84 position."""
    if not (isinstance(lat, int | float) and -90 <= lat <= 90):
        raise DomainError(_("纬度必须是 -90 到 90 之间的数字。"), field="lat")
    if not (isinstance(lng, int | float) and -180 <= lng <= 180):
        raise DomainError(_("经度必须是 -180 到 180 之间的数字。"), field="lng")


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _position(value: object) -> list[float]:
    if not isinstance(value, list | tuple) or len(value) not in (2, 3) or not all(map(_is_number, value)):
        raise DomainError(_("坐标格式错误：每个点应写成 [经度, 纬度]。"))
    lng, lat = float(value[0]), float(value[1])
    if not (math.isfinite(lng) and math.isfinite(lat)):
        raise DomainError(_("坐标必须是有限的数字。"))
    if not -180 <= lng <= 180:
        raise DomainError(_("经度 %(lng)s 超出 -180 到 180 的范围。") % {"lng": lng})
    if not -90 <= lat <= 90:
        raise DomainError(_("纬度 %(lat)s 超出 -90 到 90 的范围。") % {"lat": lat})
    return [lng, lat]


def _ring(value: object) -> list[list[float]]:
    if not isinstance(value, list | tuple):
        raise DomainError(_("坐标格式错误：每个环应是一串点。"))
    ring = [_position(p) for p in value]
    if len(ring) < 4 or len({tuple(p) for p in ring}) < 3:
        raise DomainError(_("点数太少：每个环至少要有3个不同的点，且首尾两点相同。"))
    if ring[0] != ring[-1]:
        raise DomainError(_("环未闭合：第一个点和最后一个点必须相同。"))
    return ring


def _polygon(value: object) -> list[list[list[float]]]:
    if not isinstance(value, list | tuple) or not value:
        raise DomainError(_("坐标格式错误：多边形至少要有一个外环。"))
    return [_ring(r) for r in value]


_REASON = re.compile(r"^(?P<what>[A-Za-z -]+?)\s*(?:\[(?P<lng>\S+) (?P<lat>\S+)\])?$")


def _invalid_message(reason: str, multi: bool) -> str:
    match = _REASON.match(reason)
    what = match["what"] if match else reason
    where = ""
    if match and match["lng"]:
        where = _("（在经度 %(lng)s、纬度 %(lat)s 附近）") % {
            "lng": round(float(match["lng"]), 6), "lat": round(float(match["lat"]), 6)}
    messages = {
        "Self-intersection": _("多边形各部分相互重叠或自相交") if multi else _("多边形自相交"),
        "Ring Self-intersection": _("边界环自相交"),
        "Hole lies outside shell": _("洞（内环）不在外环之内"),
        "Nested holes": _("洞（内环）相互嵌套"),
        "Interior is disconnected": _("洞把多边形分割成了互不相连的几块"),
        "Nested shells": _("多边形的各部分相互嵌套"),
        "Too few points": _("点数太少，不能构成多边形"),
        "Duplicate Rings": _("存在重复的环"),
    }
    if what in messages:
        return _("%(problem)s%(where)s。") % {"problem": messages[what], "where": where}
    return _("几何图形无效：%(reason)s。") % {"reason": reason}


def parse_boundary(geometry: object) -> tuple[dict[str, Any], Polygonal]:
    """Check a GeoJSON Polygon/MultiPolygon and return (clean GeoJSON, shapely geometry).

    Raises DomainError (field "boundary") naming the first problem found. The clean GeoJSON keeps only
    [lng, lat] per point (any altitude is dropped).
    """
    try:
        if not isinstance(geometry, dict):
            raise DomainError(_("缺少几何图形（geometry）。"))
        kind = geometry.get("type")
        coordinates = geometry.get("coordinates")
        if kind == "Polygon":
            rings = _polygon(coordinates)
            clean = {"type": "Polygon", "coordinates": rings}
            shape: Polygonal = shapely.Polygon(rings[0], rings[1:])
        elif kind == "MultiPolygon":
            if not isinstance(coordinates, list | tuple) or not coordinates:
                raise DomainError(_("坐标格式错误：MultiPolygon 至少要有一个多边形。"))
            parts = [_polygon(p) for p in coordinates]
            clean = {"type": "MultiPolygon", "coordinates": parts}
            shape = shapely.MultiPolygon([shapely.Polygon(p[0], p[1:]) for p in parts])
        else:
            raise DomainError(_("几何类型必须是 Polygon 或 MultiPolygon，而不是 %(kind)s。") % {"kind": kind})
        reason = shapely.is_valid_reason(shape)
        if reason != "Valid Geometry":
            raise DomainError(_invalid_message(reason, kind == "MultiPolygon"))
        if shape.area <= 0:
            raise DomainError(_("多边形面积为零。"))
    except DomainError as exc:
        exc.field = "boundary"
        raise
    return clean, shape


def overlapping_pairs(shapes: Sequence[Polygonal]) -> list[tuple[int, int]]:
    """Positions (i, j), i < j, of shapes sharing more than OVERLAP_TOLERANCE of area. Touching is fine."""
    array = _object_array(shapes)
    first, second = STRtree(array).query(array, predicate="intersects")
    keep = first < second
    return _over_tolerance(array, first[keep], array, second[keep])


def overlapping_with(shapes: Sequence[Polygonal], others: Sequence[Polygonal]) -> list[tuple[int, int]]:
    """Positions (i in shapes, k in others) of pairs sharing more than OVERLAP_TOLERANCE of area."""
    array, other_array = _object_array(shapes), _object_array(others)
    mine, theirs = STRtree(other_array).query(array, predicate="intersects")
    return _over_tolerance(array, mine, other_array, theirs)


def _over_tolerance(a: np.ndarray, i: np.ndarray, b: np.ndarray, k: np.ndarray) -> list[tuple[int, int]]:
    if not len(i):
        return []
    areas = shapely.area(shapely.intersection(a[i], b[k]))
    over = areas > OVERLAP_TOLERANCE
    return sorted(zip(i[over].tolist(), k[over].tolist(), strict=True))
