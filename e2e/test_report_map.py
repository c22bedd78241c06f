"""A resident picks the place of a report by tapping their grid on the map, on a 360 px phone."""

import math

import pytest
from playwright.sync_api import expect

from gongzhi.accounts.models import Membership, Role, User
from gongzhi.cases.models import Case
from gongzhi.org.factories import make_tree

from .test_resident_cases import log_in_as

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def tree():
    return make_tree()


@pytest.fixture
def resident(tree):
    user = User.objects.create_user(username="res", kind=User.Kind.RESIDENT, real_name="王秀兰")
    Membership.objects.create(user=user, unit=tree["grid"], role=Role.RESIDENT)
    return user


def test_resident_picks_the_place_on_the_map(page, live_server, tree, resident, shot):
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    log_in_as(page, live_server, resident)

    page.goto(live_server.url + "/")
    page.get_by_role("link", name="我要说事").click()
    page.get_by_label("具体事项").select_option(label="垃圾清运")
    page.get_by_label("要说的事").fill("小山村村口的路灯坏了。")
    page.get_by_label("在地图上选点").check()

    own = page.locator("#map-picker path.map-grid-own")
    expect(own).to_be_visible()
    expect(page.locator("#map-picker path.map-grid")).to_have_count(2)  # the resident's village: both its grids
    expect(page.locator(".map-grid-label")).to_have_text(["小山村第1网格", "小山村第2网格"], use_inner_text=True)
    canvas = page.locator(".map-picker-canvas").bounding_box()
    assert canvas is not None and canvas["height"] >= 0.5 * 740 and canvas["width"] <= 360
    box = own.bounding_box()
    assert box is not None
    own.click(position={"x": box["width"] * 0.3, "y": box["height"] * 0.7})  # off the centred label

    expect(page.get_by_text("已在地图上选定位置（小山村第1网格）。")).to_be_visible()
    lat, lng = float(page.get_by_label("纬度").input_value()), float(page.get_by_label("经度").input_value())
    assert 35.58 < lat < 35.59 and 104.60 < lng < 104.61
    expect(page.locator("#map-picker .leaflet-marker-icon")).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shot(page, "resident-report-map")
    page.get_by_role("button", name="提交").click()

    expect(page.get_by_text("已提交，事件编号")).to_be_visible()
    case = Case.objects.get()
    assert case.grid_id == tree["grid"].pk
    assert (round(case.lat, 6), round(case.lng, 6)) == (lat, lng)
    assert errors == []


def test_without_javascript_there_is_no_map_choice(new_page, live_server, resident):
    page = new_page(java_script_enabled=False)
    log_in_as(page, live_server, resident)
    page.goto(live_server.url + "/cases/new/")
    expect(page.locator('input[name="where"]').first).to_be_attached()  # at least one
    expect(page.locator("#id_where_map")).to_have_count(0)
    expect(page.locator("#map-picker")).to_be_hidden()


# A 1×1 transparent PNG: every tile, so the map has tiles to position without a tile server.
_TILE = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                      "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082")


def test_on_gcj02_tiles_the_picked_point_is_stored_in_wgs84(page, live_server, tree, resident, settings):
    """高德's tiles are drawn in GCJ-02: a place shows there some hundred metres off its WGS84 position. Tapping
    where the tiles show the grid's centre must store the centre's WGS84 coordinates."""
    settings.MAP_TILE_URL = live_server.url + "/tiles/{z}/{x}/{y}.png"
    settings.MAP_TILE_CRS = "gcj02"
    page.route("**/tiles/**", lambda route: route.fulfill(status=200, content_type="image/png", body=_TILE))
    log_in_as(page, live_server, resident)
    page.goto(live_server.url + "/cases/new/")
    page.get_by_label("在地图上选点").check()
    expect(page.locator("#map-picker path.map-grid-own")).to_be_visible()
    tile = page.locator("#map-picker img.leaflet-tile-loaded").first
    expect(tile).to_be_attached()

    centre = (35.585, 104.605)  # of 小山村第1网格 (org.factories.square(104.60, 35.58))
    gcj_lat, gcj_lng = page.evaluate("([lat, lng]) => window.wgs84ToGcj02(lat, lng)", list(centre))
    assert abs(gcj_lng - centre[1]) > 0.002  # the offset the test is about: about 240 m here
    # Where the tiles draw that GCJ-02 point: Web Mercator pixels at the tile's zoom, from the tile's corner (a
    # tile is scaled on screen at a fractional zoom).
    z, x, y = (int(part) for part in tile.get_attribute("src").removesuffix(".png").rsplit("/", 3)[1:])
    scale = 256 * 2 ** z
    px = (gcj_lng + 180) / 360 * scale
    py = (1 - math.log(math.tan(math.radians(gcj_lat)) + 1 / math.cos(math.radians(gcj_lat))) / math.pi) / 2 * scale
    corner = tile.bounding_box()
    assert corner is not None
    size = corner["width"] / 256
    page.mouse.click(corner["x"] + (px - 256 * x) * size, corner["y"] + (py - 256 * y) * size)

    lat, lng = float(page.get_by_label("纬度").input_value()), float(page.get_by_label("经度").input_value())
    assert abs(lat - centre[0]) < 1e-4 and abs(lng - centre[1]) < 1e-4
