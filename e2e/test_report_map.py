"""A resident picks the place of a report by tapping their grid on the map, on a 360 px phone."""

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
