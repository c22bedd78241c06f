"""Reads for the map (民情地图): the units a viewer may open, their boundaries and grid colours, a unit's figures,
a grid's staff and open cases, the open cases to mark, and a case's place.

Every read takes the viewer and answers NotFound for a unit outside their scope, as every other page does.
Colours and figures come from the grid state table (`services.refresh_grid_states`, at most about a minute
old); the lists of cases are read live, through `cases.policies.cases_visible_to`.
"""

from __future__ import annotations

import datetime
import gzip
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import shapely
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.db.models import QuerySet
from django.utils import timezone

from gongzhi.accounts import policies as account_policies
from gongzhi.accounts.models import Membership, User
from gongzhi.analytics import shapes
from gongzhi.analytics.models import Colour, GridState, GridStateRun
from gongzhi.cases import policies as case_policies
from gongzhi.cases.models import Case
from gongzhi.cases.selectors import with_flags
from gongzhi.cases.workflow import OPEN_STATES
from gongzhi.core.errors import NotFound
from gongzhi.org.models import Level, OrgUnit, UnitKind, grid_index_token

# Levels whose open cases are marked one by one (a village has some dozens of grids at most); above them the
# grid colours and the figures per unit stand for the cases.
CASE_MARKER_LEVELS = frozenset({Level.VILLAGE, Level.GRID})
CASE_MARKERS_MAX = 1000  # the most urgent first
PANEL_CASES_MAX = 50
SHAPES_FORMAT = "1"  # part of the cache key and the ETag: bump when `shapes.encode` changes its output
COLOUR_LETTERS = {Colour.RED: "r", Colour.YELLOW: "y", Colour.BLUE: "b"}


def _areas() -> QuerySet[OrgUnit]:
    return OrgUnit.objects.filter(kind=UnitKind.AREA, is_active=True)


def map_roots(user: User | AnonymousUser) -> list[OrgUnit]:
    """Where the viewer's map starts: the area units at the top of their scope (the roots of the tree for
    someone who sees everything). None for a viewer whose posts are all in departments."""
    paths = account_policies.scope_paths(user)
    if paths == ("",):
        return list(_areas().filter(parent__isnull=True).order_by("code"))
    return list(_areas().filter(path__in=paths).order_by("path"))


def map_unit(user: User | AnonymousUser, unit_id: int) -> OrgUnit:
    unit = account_policies.filter_to_scope(_areas(), user).filter(pk=unit_id).first()
    if unit is None:
        raise NotFound()
    return unit


def _trail(user: User | AnonymousUser, unit: OrgUnit) -> list[OrgUnit]:
    """The unit's ancestors the viewer may open, from the top down, then the unit itself."""
    return [a for a in unit.ancestors() if account_policies.in_scope(user, a.path)] + [unit]


# ---------------------------------------------------------------------------------------------------------
# Boundaries and colours, as compact JSON with an ETag


@dataclass(frozen=True)
class Encoded:
    """A JSON answer kept ready to send: its text, its gzip and the ETag it is revalidated by."""

    etag: str
    body: bytes
    gzipped: bytes

    @classmethod
    def of(cls, data: object, version: str) -> Encoded:
        body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
        return cls(etag=f'"{hashlib.sha1(version.encode()).hexdigest()[:20]}"', body=body,
                   gzipped=gzip.compress(body, compresslevel=9, mtime=0))


def _grid_rows(unit: OrgUnit) -> list[tuple[int, str, str, Any]]:
    grids = _areas().filter(level=Level.GRID, boundary__isnull=False)
    grids = grids.filter(pk=unit.pk) if unit.level == Level.GRID else grids.filter(path__startswith=unit.path)
    return list(grids.order_by("pk").values_list("pk", "name", "path", "boundary"))


def _shapes(unit: OrgUnit) -> dict[str, Any]:
    grid_rows = _grid_rows(unit)
    grid_shapes = [shapely.geometry.shape(boundary) for _pk, _name, _path, boundary in grid_rows]
    units = []
    if unit.level not in (Level.VILLAGE, Level.GRID):
        for child in _areas().filter(parent=unit).order_by("code"):
            if child.boundary:
                outline = shapely.geometry.shape(child.boundary)
            else:  # imported data often has grid boundaries only: the child is the union of its grids (not
                # coverage_union_all, which needs neighbours' shared vertices to be equal to the last bit)
                inside = [g for g, row in zip(grid_shapes, grid_rows, strict=True) if row[2].startswith(child.path)]
                if not inside:
                    continue
                outline = shapely.union_all(inside)
            units.append(shapes.Feature(child.pk, outline, child.name))
    grids = [shapes.Feature(pk, geometry, name)
             for (pk, name, _path, _boundary), geometry in zip(grid_rows, grid_shapes, strict=True)]
    return shapes.encode(units, grids, grid_names=not units)


def unit_shapes(user: User | AnonymousUser, unit_id: int) -> Encoded:
    """The boundaries to draw for a unit (see `shapes`), the same for every viewer who may open it; built once
    per unit for each version of the grids (`org.models.grid_index_token`), then kept in Django's cache."""
    unit = map_unit(user, unit_id)
    version = f"shapes:{SHAPES_FORMAT}:{grid_index_token()}:{unit.pk}"
    encoded: Encoded | None = cache.get(version)
    if encoded is None:
        encoded = Encoded.of(_shapes(unit), version)
        cache.set(version, encoded, timeout=None)
    return encoded


def _last_run() -> GridStateRun | None:
    return GridStateRun.objects.order_by("pk").first()


def grid_colours(user: User | AnonymousUser, unit_id: int) -> Encoded:
    """The colour of every grid under a unit: {"ids": ascending grid ids as deltas, "colours": one letter a
    grid, r/y/b}. Kept until a refresh changes some grid's state."""
    unit = map_unit(user, unit_id)
    run = _last_run()
    version = f"colours:{run.changed_at.isoformat() if run else ''}:{unit.pk}"
    encoded: Encoded | None = cache.get(version)
    if encoded is None:
        states = GridState.objects.filter(path__startswith=unit.path).order_by("pk").values_list("pk", "colour")
        ids, letters, last = [], [], 0
        for pk, colour in states:
            ids.append(pk - last)
            letters.append(COLOUR_LETTERS[Colour(colour)])
            last = pk
        encoded = Encoded.of({"ids": ids, "colours": "".join(letters)}, version)
        cache.set(version, encoded, timeout=600)
    return encoded


# ---------------------------------------------------------------------------------------------------------
# The panel beside the map: a unit's figures and its children's, or a grid's staff and open cases


@dataclass
class Figures:
    open_cases: int = 0
    red_cases: int = 0
    yellow_cases: int = 0
    risky_disputes: int = 0
    red_grids: int = 0
    yellow_grids: int = 0
    blue_grids: int = 0

    def add(self, open_cases: int, red_cases: int, yellow_cases: int, risky_disputes: int, colour: str) -> None:
        self.open_cases += open_cases
        self.red_cases += red_cases
        self.yellow_cases += yellow_cases
        self.risky_disputes += risky_disputes
        name = f"{colour}_grids"
        setattr(self, name, getattr(self, name) + 1)

    @property
    def grids(self) -> int:
        return self.red_grids + self.yellow_grids + self.blue_grids


@dataclass
class ChildFigures:
    unit: OrgUnit
    figures: Figures
    colour: str  # a grid's own colour; the worst of a higher unit's grids


@dataclass
class StaffPost:
    name: str
    post: str


@dataclass
class UnitPanel:
    unit: OrgUnit
    trail: list[OrgUnit]
    figures: Figures
    refreshed_at: datetime.datetime | None
    children: list[ChildFigures] = field(default_factory=list)
    staff: list[StaffPost] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)  # open, flagged (`with_flags`), most urgent first
    cases_total: int = 0
    shapes_unit: OrgUnit | None = None  # whose boundaries the map shows: a grid is shown among its village's

    @property
    def marks_cases(self) -> bool:
        return self.unit.level in CASE_MARKER_LEVELS


def _worst(figures: Figures) -> str:
    if figures.red_grids:
        return Colour.RED
    return Colour.YELLOW if figures.yellow_grids else Colour.BLUE


def _unit_figures(unit: OrgUnit, run: GridStateRun | None) -> tuple[Figures, dict[str, Figures]]:
    """The unit's figures and each child's (by path), summed over its grids' states; kept until a refresh
    changes some grid's state (a city's 8,703 rows cost about 50 ms to sum)."""
    version = f"figures:{run.changed_at.isoformat() if run else ''}:{unit.pk}"
    cached: tuple[Figures, dict[str, Figures]] | None = cache.get(version)
    if cached is not None:
        return cached
    figures = Figures()
    by_child: dict[str, Figures] = {}
    start = len(unit.path)
    for path, open_cases, red, yellow, risky, colour in GridState.objects.filter(
            path__startswith=unit.path).values_list(
            "path", "open_cases", "red_cases", "yellow_cases", "risky_disputes", "colour"):
        figures.add(open_cases, red, yellow, risky, colour)
        end = path.find("/", start)
        if end > 0:
            by_child.setdefault(path[:end + 1], Figures()).add(open_cases, red, yellow, risky, colour)
    cache.set(version, (figures, by_child), timeout=600)
    return figures, by_child


def unit_panel(user: User | AnonymousUser, unit_id: int, *, now: datetime.datetime | None = None) -> UnitPanel:
    """What the panel shows for a unit: its figures and each child's (a grid: its state, staff and open cases)."""
    unit = map_unit(user, unit_id)
    run = _last_run()
    figures, by_child = _unit_figures(unit, run)
    panel = UnitPanel(unit=unit, trail=_trail(user, unit), figures=figures,
                      refreshed_at=run.refreshed_at if run else None,
                      shapes_unit=unit.parent if unit.level == Level.GRID and unit.parent else unit)
    if unit.level == Level.GRID:
        posts = (Membership.objects.staff().filter(unit=unit).select_related("user")
                 .order_by("role", "user__real_name", "pk"))
        panel.staff = [StaffPost(p.user.real_name or p.user.username, p.get_role_display()) for p in posts]
        cases = with_flags(case_policies.cases_visible_to(user).filter(grid=unit, status__in=OPEN_STATES),
                           now=now or timezone.now())
        panel.cases_total = cases.count()
        panel.cases = list(cases.select_related("category").order_by("flag_rank", "due", "-pk")[:PANEL_CASES_MAX])
        return panel
    for child in _areas().filter(parent=unit).order_by("code"):
        child_figures = by_child.get(child.path, Figures())
        panel.children.append(ChildFigures(child, child_figures, _worst(child_figures)))
    return panel


# ---------------------------------------------------------------------------------------------------------
# Case markers and a case's place


def case_markers(user: User | AnonymousUser, unit_id: int, *, now: datetime.datetime | None = None) -> dict[str, Any]:
    """The open cases the viewer may see in a village or a grid, most urgent first, at most CASE_MARKERS_MAX:
    {"total": n, "cases": [[id, lat, lng, flag, number, category], …]}. Nothing above village level."""
    unit = map_unit(user, unit_id)
    if unit.level not in CASE_MARKER_LEVELS:
        return {"total": 0, "cases": []}
    grid_ids = ([unit.pk] if unit.level == Level.GRID
                else list(_areas().filter(level=Level.GRID, parent=unit).values_list("pk", flat=True)))
    cases = with_flags(case_policies.cases_visible_to(user).filter(
        grid_id__in=grid_ids, status__in=OPEN_STATES, lat__isnull=False, lng__isnull=False),
        now=now or timezone.now())
    rows = cases.order_by("flag_rank", "-pk").values_list(  # type: ignore[misc]  # `flag` is annotated
        "pk", "lat", "lng", "flag", "created_at", "category__name")[:CASE_MARKERS_MAX]
    zone = timezone.get_default_timezone()
    return {"total": cases.count(), "cases": [
        [pk, round(lat, 6), round(lng, 6), flag, f"{timezone.localtime(created, zone):%Y%m%d}{pk:06d}", category]
        for pk, lat, lng, flag, created, category in rows]}


def case_place(case: Case) -> dict[str, Any] | None:
    """Where a case lies, for the small map on its page: {"point": [lat, lng], "outline": [[lat, lng], …] of its
    grid's outer boundary (simplified to about a metre), or null}. The caller got the case through a selector;
    None when it has no coordinates."""
    if case.lat is None or case.lng is None:
        return None
    outline = None
    boundary = case.grid.boundary if case.grid else None
    if boundary:
        geometry = shapely.simplify(shapely.geometry.shape(boundary), 1e-5, preserve_topology=True)
        largest = max(getattr(geometry, "geoms", [geometry]), key=lambda polygon: polygon.area)
        outline = [[round(lat, 6), round(lng, 6)] for lng, lat, *_z in largest.exterior.coords]
    return {"point": [case.lat, case.lng], "outline": outline}
