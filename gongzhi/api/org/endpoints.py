"""Org tree API: where a point is (public, used before login to place a report) and scoped units."""

from typing import Literal, cast

from django.conf import settings
from django.http import HttpRequest
from ninja import Field, Path, Query, Router, Schema

from gongzhi.accounts import policies
from gongzhi.accounts.models import User
from gongzhi.accounts.selectors import posts_of
from gongzhi.api.schemas import ErrorOut, SignedIn, ValidationErrorOut
from gongzhi.org import selectors

router = Router()

_MAX_ID = 2**63 - 1


class UnitBrief(Schema):
    id: int
    code: str
    name: str
    level: str


class UnitOut(UnitBrief):
    kind: str
    department_type: str
    parent_id: int | None
    is_active: bool


class UnitDetailOut(UnitOut):
    boundary: dict | None = Field(None, description="GeoJSON Polygon/MultiPolygon, WGS84 [lng, lat]")
    centroid_lat: float | None
    centroid_lng: float | None


class LocateOut(Schema):
    grid: UnitBrief
    ancestors: list[UnitBrief] = Field(description="From the root (city) down to the grid's village")


class LocateQuery(Schema):
    # The ranges are enforced by the selector, which names the bad field in a translated message; they are
    # stated here so the schema documents them.
    lat: float = Field(description="Latitude, WGS84", json_schema_extra={"minimum": -90, "maximum": 90})
    lng: float = Field(description="Longitude, WGS84", json_schema_extra={"minimum": -180, "maximum": 180})


@router.get(
    "/locate",
    response={200: LocateOut, 404: ErrorOut, 422: ValidationErrorOut},
    summary="Which grid a point is in",
    description="404 when the point is in no grid; 422 for missing, non-numeric or out-of-range coordinates.",
)
def locate(request: HttpRequest, query: Query[LocateQuery]):
    grid, ancestors = selectors.locate(query.lat, query.lng)
    return {"grid": grid, "ancestors": ancestors}


@router.get(
    "/units/{unit_id}",
    response={200: UnitDetailOut, 404: ErrorOut, 422: ValidationErrorOut},
    summary="One org unit in the caller's scope",
)
def unit_detail(request: HttpRequest, unit_id: int = Path(..., ge=1, le=_MAX_ID)):
    return selectors.get_unit(policies.units_visible_to(request.user), unit_id)


@router.get(
    "/units/{unit_id}/children",
    response={200: list[UnitOut], 404: ErrorOut, 422: ValidationErrorOut},
    summary="Direct children of an org unit, limited to the caller's scope",
)
def unit_children(request: HttpRequest, unit_id: int = Path(..., ge=1, le=_MAX_ID)):
    visible = policies.units_visible_to(request.user)
    return list(selectors.unit_children(visible, selectors.get_unit(visible, unit_id)))


class AreaGridProperties(Schema):
    id: int
    name: str
    own: bool = Field(description="One of the caller's own grids (home grid or grid post)")


class AreaGridFeature(Schema):
    type: Literal["Feature"] = "Feature"
    geometry: dict = Field(description="GeoJSON Polygon/MultiPolygon, WGS84 [lng, lat]")
    properties: AreaGridProperties


class Basemap(Schema):
    url: str = Field(description="Leaflet tile URL template, e.g. https://…/{z}/{x}/{y}.png")
    attribution: str
    subdomains: str = Field(description="What {s} in the template stands for, one character a server")
    crs: Literal["wgs84", "gcj02"] = Field(description="The system the tiles are drawn in; on gcj02 tiles a "
                                                        "client shifts the WGS84 grids to GCJ-02 to draw them, "
                                                        "and a point picked on them back to WGS84")


class ReportAreaOut(Schema):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[AreaGridFeature]
    basemap: Basemap | None = Field(description="The configured tile layer; null draws the grids only")


@router.get(
    "/report-area",
    response={200: ReportAreaOut, 401: ErrorOut},
    auth=SignedIn(),
    summary="The grids to draw on the report map",
    description="A GeoJSON FeatureCollection of the active grids of the caller's village(s) — the villages of "
                "their resident post's grid and of their grid posts — with their own grids flagged. Empty for a "
                "caller without a grid. Grid boundaries are public geometry.",
)
def report_area(request: HttpRequest):
    user = cast(User, request.user)  # SignedIn admits signed-in users only
    grids = selectors.report_area(post.unit for post in posts_of(user))
    basemap = ({"url": settings.MAP_TILE_URL, "attribution": settings.MAP_ATTRIBUTION,
                "subdomains": settings.MAP_TILE_SUBDOMAINS, "crs": settings.MAP_TILE_CRS}
               if settings.MAP_TILE_URL else None)
    return {"features": [{"geometry": grid.boundary, "properties": {"id": grid.pk, "name": grid.name, "own": own}}
                         for grid, own in grids],
            "basemap": basemap}
