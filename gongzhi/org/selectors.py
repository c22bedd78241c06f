"""Reads of the org tree: the cached point → grid index, locating a point, scoped unit listings."""

import logging
import threading

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from gongzhi.core.errors import NotFound
from gongzhi.org.geo import GridIndex, check_point
from gongzhi.org.models import Level, OrgUnit, grid_index_token

logger = logging.getLogger(__name__)

_cache: tuple[str, GridIndex] | None = None
_build_lock = threading.Lock()


def grid_index() -> GridIndex:
    """This process's index of the active grids, rebuilt when the stored token shows any grid changed.

    Costs one primary-key read per call while nothing changes. The token is read before the grids, so a
    change committed in between makes the next call rebuild again rather than keep a stale index.
    """
    global _cache
    token = grid_index_token()
    cached = _cache
    if cached is not None and cached[0] == token:
        return cached[1]
    with _build_lock:
        cached = _cache
        if cached is not None and cached[0] == token:
            return cached[1]
        rows = (OrgUnit.objects.filter(level=Level.GRID, is_active=True, boundary__isnull=False)
                .values_list("id", "boundary"))
        index = GridIndex.from_geojson(rows.iterator(chunk_size=2000))
        if index.skipped:
            logger.warning("grid index: unreadable boundary on grids %s left out", index.skipped[:20])
        _cache = (token, index)
        return index


def locate(lat: float, lng: float) -> tuple[OrgUnit, list[OrgUnit]]:
    """The grid containing the point and its ancestors from the root down to its village.

    Raises DomainError for coordinates that are not a finite WGS84 position, NotFound outside every grid.
    """
    check_point(lat=lat, lng=lng)
    grid_id = grid_index().locate(lng, lat)
    grid = OrgUnit.objects.filter(pk=grid_id).first() if grid_id is not None else None
    if grid is None:
        raise NotFound(_("该位置不在任何网格内。"))
    return grid, list(grid.ancestors())


def get_unit(visible: QuerySet[OrgUnit], unit_id: int) -> OrgUnit:
    """One unit among `visible` (the caller's scope, e.g. `accounts.policies.units_visible_to(user)`)."""
    unit = visible.filter(pk=unit_id).select_related("parent").first()
    if unit is None:
        raise NotFound()
    return unit


def unit_children(visible: QuerySet[OrgUnit], unit: OrgUnit) -> QuerySet[OrgUnit]:
    """Direct children of `unit` that lie in `visible`, areas first, then departments, by code."""
    return visible.filter(parent=unit).order_by("kind", "code")
