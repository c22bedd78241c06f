"""Reads of the org tree: the cached point → grid index, locating a point, scoped unit listings."""

import logging
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from gongzhi.core.errors import NotFound
from gongzhi.org.geo import GridIndex, check_point
from gongzhi.org.models import Level, OrgUnit, UnitKind, grid_index_token

logger = logging.getLogger(__name__)

@dataclass(frozen=True)
class GridPlace:
    """Where a point lies, as a new case needs it: the grid, its path, its village and its township."""

    grid_id: int
    path: str
    township_id: int | None  # the nearest-to-root township area above the grid; None when there is none
    village_id: int | None = None  # the grid's parent when that is a village area


@dataclass(frozen=True)
class _GridCache:
    token: str
    index: GridIndex
    places: dict[int, GridPlace]


_cache: _GridCache | None = None
_build_lock = threading.Lock()


def _current() -> _GridCache:
    """This process's grid index and grid places, rebuilt when the stored token shows a grid (or a
    township) changed.

    Costs one primary-key read per call while nothing changes. The token is read before the grids, so a
    change committed in between makes the next call rebuild again rather than keep a stale index.
    """
    global _cache
    token = grid_index_token()
    cached = _cache
    if cached is not None and cached.token == token:
        return cached
    with _build_lock:
        cached = _cache
        if cached is not None and cached.token == token:
            return cached
        rows = (OrgUnit.objects.filter(level=Level.GRID, is_active=True, boundary__isnull=False)
                .values_list("id", "boundary", "path"))
        paths: dict[int, str] = {}

        def boundaries() -> Iterator[tuple[int, object]]:
            for grid_id, boundary, path in rows.iterator(chunk_size=2000):
                paths[grid_id] = path
                yield grid_id, boundary

        index = GridIndex.from_geojson(boundaries())
        if index.skipped:
            logger.warning("grid index: unreadable boundary on grids %s left out", index.skipped[:20])
        townships = dict(OrgUnit.objects.filter(level=Level.TOWNSHIP, kind=UnitKind.AREA)
                         .values_list("path", "id"))
        villages = dict(OrgUnit.objects.filter(level=Level.VILLAGE, kind=UnitKind.AREA).values_list("path", "id"))
        places = {grid_id: GridPlace(grid_id, path, _nearest_to_root(path, townships),
                                     villages.get(path[:path.rstrip("/").rfind("/") + 1]))
                  for grid_id, path in paths.items()}
        _cache = _GridCache(token, index, places)
        return _cache


def _nearest_to_root(path: str, units_by_path: dict[str, int]) -> int | None:
    """The id of the shortest proper prefix of `path` found in `units_by_path` (paths end with "/")."""
    end = path.find("/") + 1
    while 0 < end < len(path):
        found = units_by_path.get(path[:end])
        if found is not None:
            return found
        end = path.find("/", end) + 1
    return None


def grid_index() -> GridIndex:
    """This process's index of the active grids (see `_current`)."""
    return _current().index


def places_in_box(*, south: float, west: float, north: float, east: float) -> list[GridPlace]:
    """The places of the active grids that reach into the box, by grid id, from this process's cache (no
    query beyond the token check). Every point of the box that lies in a grid lies in one of them."""
    current = _current()
    return [current.places[grid_id] for grid_id in current.index.intersecting(west, south, east, north)]


def locate(lat: float, lng: float) -> tuple[OrgUnit, list[OrgUnit]]:
    """The grid containing the point and its ancestors from the root down to its village.

    Raises DomainError for coordinates that are not a finite WGS84 position, NotFound outside every grid.
    """
    check_point(lat=lat, lng=lng)
    grid_id = grid_index().locate(lng, lat)
    grid = OrgUnit.objects.filter(pk=grid_id).first() if grid_id is not None else None
    if grid is None:
        raise NotFound(_("该位置不在任何网格内。"), field="lat")
    return grid, list(grid.ancestors())


def locate_place(lat: float, lng: float) -> GridPlace:
    """The grid containing the point, with its path and township, from this process's cache: no query
    beyond the token check, which is what lets case intake keep up with its target.
    Raises DomainError for coordinates that are not a finite WGS84 position, NotFound outside every grid.
    """
    check_point(lat=lat, lng=lng)
    current = _current()
    grid_id = current.index.locate(lng, lat)
    if grid_id is None:
        raise NotFound(_("该位置不在任何网格内。"), field="lat")
    return current.places[grid_id]


def get_unit(visible: QuerySet[OrgUnit], unit_id: int) -> OrgUnit:
    """One unit among `visible` (the caller's scope, e.g. `accounts.policies.units_visible_to(user)`)."""
    unit = visible.filter(pk=unit_id).select_related("parent").first()
    if unit is None:
        raise NotFound()
    return unit


def unit_children(visible: QuerySet[OrgUnit], unit: OrgUnit) -> QuerySet[OrgUnit]:
    """Direct children of `unit` that lie in `visible`, areas first, then departments, by code."""
    return visible.filter(parent=unit).order_by("kind", "code")


def report_area(posts: Iterable[OrgUnit]) -> list[tuple[OrgUnit, bool]]:
    """The grids to draw on the report map, each with whether it is one of the user's own.

    `posts` are the units of the user's active posts (e.g. `accounts.selectors.posts_of`); its grids are
    the user's own (a resident's home grid, a grid worker's grids). Answers every active grid with a boundary
    in the villages of those grids, by code; none when the user holds no grid. Boundaries are public.
    """
    own = {unit.pk: unit.parent_id for unit in posts
           if unit.level == Level.GRID and unit.kind == UnitKind.AREA and unit.is_active}
    if not own:
        return []
    villages = {parent for parent in own.values() if parent is not None}
    grids = (OrgUnit.objects.filter(level=Level.GRID, kind=UnitKind.AREA, is_active=True, boundary__isnull=False)
             .filter(Q(parent_id__in=villages) | Q(pk__in=own)).order_by("code"))
    return [(grid, grid.pk in own) for grid in grids]
