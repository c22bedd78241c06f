"""Reads of the org tree: the cached point → grid index, locating a point, scoped unit listings."""

import logging
import threading

from django.db.models import F, OuterRef, QuerySet, Subquery
from django.db.models.lookups import StartsWith
from django.utils.translation import gettext as _

from gongzhi.core.errors import NotFound
from gongzhi.org.geo import GridIndex, check_point
from gongzhi.org.models import GridIndexVersion, Level, OrgUnit, UnitKind, grid_index_token

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


def _grid_with_township(grid_id: int | None) -> OrgUnit | None:
    """The grid row, annotated with `township_id` (its nearest-to-root township area ancestor, or None) and
    `index_token` (the grid index token read in the same statement)."""
    if grid_id is None:
        return None
    # An ancestor is a unit whose path is a proper prefix of the grid's path (paths end with "/").
    township = (OrgUnit.objects.filter(level=Level.TOWNSHIP, kind=UnitKind.AREA, depth__lt=OuterRef("depth"))
                .filter(StartsWith(OuterRef("path"), F("path"))).order_by("depth").values("pk")[:1])
    token = GridIndexVersion.objects.filter(pk=1).values("token")[:1]
    return (OrgUnit.objects.filter(pk=grid_id)
            .annotate(township_id=Subquery(township), index_token=Subquery(token)).first())


def locate_in_township(lat: float, lng: float) -> tuple[OrgUnit, int | None]:
    """The grid containing the point and the id of its nearest-to-root township area ancestor (None when it
    has none): what `locate` answers, for callers that need only the township, in one query.

    The cached index is tried first and the grid row is read together with the index token; the answer is
    kept only if that token is the one the index was built from (so the index was current when the row was
    read), otherwise this falls back to `grid_index()`, which checks the token first as `locate` does.
    Raises DomainError for coordinates that are not a finite WGS84 position, NotFound outside every grid.
    """
    check_point(lat=lat, lng=lng)
    cached = _cache
    if cached is not None:
        grid = _grid_with_township(cached[1].locate(lng, lat))
        if grid is not None and (grid.index_token or "") == cached[0]:  # type: ignore[attr-defined]
            return grid, grid.township_id  # type: ignore[attr-defined]
    grid = _grid_with_township(grid_index().locate(lng, lat))
    if grid is None:
        raise NotFound(_("该位置不在任何网格内。"))
    return grid, grid.township_id  # type: ignore[attr-defined]


def get_unit(visible: QuerySet[OrgUnit], unit_id: int) -> OrgUnit:
    """One unit among `visible` (the caller's scope, e.g. `accounts.policies.units_visible_to(user)`)."""
    unit = visible.filter(pk=unit_id).select_related("parent").first()
    if unit is None:
        raise NotFound()
    return unit


def unit_children(visible: QuerySet[OrgUnit], unit: OrgUnit) -> QuerySet[OrgUnit]:
    """Direct children of `unit` that lie in `visible`, areas first, then departments, by code."""
    return visible.filter(parent=unit).order_by("kind", "code")
