import pytest
from django.test import Client

from gongzhi.accounts.models import Membership, Role, User
from gongzhi.org.factories import make_unit, square
from gongzhi.org.models import Level

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return Client()


def _resident(tree, username="res"):
    user = User.objects.create_user(username=username, kind=User.Kind.RESIDENT, real_name="王秀兰")
    Membership.objects.create(user=user, unit=tree["grid"], role=Role.RESIDENT)
    return user


def _grids(response):
    return [(f["properties"]["name"], f["properties"]["own"]) for f in response.json()["features"]]


def test_resident_gets_the_grids_of_their_village_with_their_own_flagged(tree, api):
    make_unit("小山村第3网格", "621102101201003", Level.GRID, tree["village"], boundary=square(104.62, 35.59),
              is_active=False)
    make_unit("小山村第4网格", "621102101201004", Level.GRID, tree["village"])  # no boundary: nothing to draw
    api.force_login(_resident(tree))
    response = api.get("/api/org/report-area")
    assert response.status_code == 200
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert body["basemap"] is None
    assert _grids(response) == [("小山村第1网格", True), ("小山村第2网格", False)]
    feature = body["features"][0]
    assert feature == {"type": "Feature", "geometry": tree["grid"].boundary,
                       "properties": {"id": tree["grid"].pk, "name": "小山村第1网格", "own": True}}


def test_grid_worker_gets_the_villages_of_all_their_grid_posts(tree, make_staff, api):
    worker = make_staff("gw", tree["grid2"], Role.GRID_WORKER)
    Membership.objects.create(user=worker, unit=tree["grid3"], role=Role.GRID_WORKER)
    Membership.objects.create(user=worker, unit=tree["other_grid"], role=Role.GRID_WORKER, is_active=False)
    api.force_login(worker)
    assert _grids(api.get("/api/org/report-area")) == [
        ("小山村第1网格", False), ("小山村第2网格", True), ("大湾村第1网格", True)]


def test_users_without_a_grid_get_an_empty_collection(tree, make_staff, api):
    api.force_login(User.objects.create_user(username="new", kind=User.Kind.RESIDENT))
    assert api.get("/api/org/report-area").json() == {"type": "FeatureCollection", "features": [], "basemap": None}
    api.force_login(make_staff("va", tree["village"], Role.VILLAGE_ADMIN))
    assert api.get("/api/org/report-area").json()["features"] == []


def test_configured_basemap_is_passed_on(tree, api, settings):
    settings.MAP_TILE_URL = "https://tiles.example.cn/{z}/{x}/{y}.png"
    settings.MAP_ATTRIBUTION = "© 示例地图"
    settings.MAP_TILE_SUBDOMAINS = "1234"
    settings.MAP_TILE_CRS = "gcj02"
    api.force_login(_resident(tree))
    assert api.get("/api/org/report-area").json()["basemap"] == {
        "url": "https://tiles.example.cn/{z}/{x}/{y}.png", "attribution": "© 示例地图", "subdomains": "1234",
        "crs": "gcj02"}


def test_signed_out_is_401(tree, api):
    response = api.get("/api/org/report-area")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_report_area_documents_every_response(api):
    schema = api.get("/api/openapi.json").json()
    assert set(schema["paths"]["/api/org/report-area"]["get"]["responses"]) == {"200", "401"}
