"""民情地图: the map page and what its script asks for (a unit's boundaries, grid colours, case markers and panel).
The reads are `gongzhi.analytics.selectors`; static/js/command-map.js draws them."""

from django.conf import settings
from django.http import HttpResponse, HttpResponseNotModified, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers

from gongzhi.analytics import selectors
from gongzhi.analytics.selectors import Encoded
from gongzhi.web.access import portal_required


def _encoded(request, encoded: Encoded) -> HttpResponse:
    """Boundaries and colours are the same for everyone who may open the unit: the browser keeps them and asks
    with If-None-Match, answered 304 while the ETag holds; the gzip is made once, not per request."""
    if encoded.etag in request.headers.get("If-None-Match", "").replace("W/", "").split(", "):
        response: HttpResponse = HttpResponseNotModified()
    elif "gzip" in request.headers.get("Accept-Encoding", ""):
        response = HttpResponse(encoded.gzipped, content_type="application/json")
        response["Content-Encoding"] = "gzip"
    else:
        response = HttpResponse(encoded.body, content_type="application/json")
    response["ETag"] = encoded.etag
    response["Cache-Control"] = "private, no-cache"
    patch_vary_headers(response, ["Accept-Encoding"])
    return response


def _unit_url(name: str) -> str:
    """A URL of the map's with 0 for the unit id; the script puts the id in."""
    return reverse(f"command:{name}", args=[0])


@portal_required("command")
def map_page(request):
    """The map at the top of the viewer's scope, or at `?unit=` (a unit they may open; others 404)."""
    roots = selectors.map_roots(request.user)
    unit_id = request.GET.get("unit", "")
    panel = None
    if unit_id.isdigit():
        panel = selectors.unit_panel(request.user, int(unit_id))
    elif roots:
        panel = selectors.unit_panel(request.user, roots[0].pk)
    return render(request, "command/map.html", {
        "panel": panel, "roots": roots if len(roots) > 1 else [],
        "urls": {name: _unit_url(f"map_{name}") for name in ("shapes", "colours", "cases", "panel")},
        "case_url": reverse("command:case", args=[0]),
        "tiles": {"url": settings.MAP_TILE_URL, "attribution": settings.MAP_ATTRIBUTION,
                  "subdomains": settings.MAP_TILE_SUBDOMAINS, "crs": settings.MAP_TILE_CRS}})


@portal_required("command")
def map_panel(request, unit_id: int):
    return render(request, "command/_map_panel.html", {"panel": selectors.unit_panel(request.user, unit_id)})


@portal_required("command")
def map_shapes(request, unit_id: int):
    return _encoded(request, selectors.unit_shapes(request.user, unit_id))


@portal_required("command")
def map_colours(request, unit_id: int):
    return _encoded(request, selectors.grid_colours(request.user, unit_id))


@portal_required("command")
def map_cases(request, unit_id: int):
    return JsonResponse(selectors.case_markers(request.user, unit_id))
