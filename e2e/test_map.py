"""民情地图 in the browser: a county dispatcher opens the map, drills down county → township → village → grid
(on the map and through the panel), sees the grid's panel and opens one of its cases; on a 360 px phone and a
1920 px screen, with no tiles configured (the plain background)."""

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from gongzhi.accounts.models import Role
from gongzhi.analytics import services
from gongzhi.cases.factories import make_categories, make_resident, report
from gongzhi.org.factories import make_tree

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def city(make_staff):
    tree = make_tree()
    cats = make_categories()
    resident = make_resident("res", "王秀兰", tree["grid2"])
    make_staff("张网格", tree["grid2"], Role.GRID_WORKER)
    cases = [report(resident, cats["env"], lat=35.585, lng=104.615, description=f"小山村二组路灯坏了第{n}盏。")
             for n in range(3)]
    report(resident, cats["env"], lat=35.595, lng=104.605, description="大湾村的事。")
    services.refresh_grid_states()
    return {"tree": tree, "cases": cases, "dispatcher": make_staff("区调度员", tree["county"], Role.DISPATCHER)}


def sign_in(page, base_url, user):
    client = Client()
    client.force_login(user)
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "url": base_url,
                               "value": client.cookies[settings.SESSION_COOKIE_NAME].value}])


def map_shows(page, unit):
    expect(page.locator("html")).to_have_attribute("data-map-ready", str(unit.pk))
    expect(page.locator("#map-panel h2")).to_contain_text(unit.name)


@pytest.mark.parametrize("width,height", [(360, 740), (1920, 1080)])
def test_a_county_dispatcher_drills_down_to_a_grid_and_opens_a_case(new_page, live_server, city, shot, width,
                                                                     height):
    tree = city["tree"]
    page = new_page(width=width, height=height)
    sign_in(page, live_server.url, city["dispatcher"])
    page.goto(f"{live_server.url}/command/map/")
    map_shows(page, tree["county"])
    expect(page.get_by_text("数据更新于")).to_be_visible()
    expect(page.locator("#command-map canvas")).to_be_visible()  # drawn on the plain background, no tiles
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shot(page, f"map-county-{width}")

    page.locator("#map-panel").get_by_role("link", name="八里镇").click()
    map_shows(page, tree["town"])
    assert page.url.endswith(f"?unit={tree['town'].pk}")
    # The map itself: just south-east of the middle of 八里镇 lies 小山村 (its second grid).
    canvas = page.locator("#command-map").bounding_box()
    page.locator("#command-map").click(position={"x": canvas["width"] / 2 + 15, "y": canvas["height"] / 2 + 15})
    map_shows(page, tree["village"])
    shot(page, f"map-village-{width}")

    page.locator("#map-panel").get_by_role("link", name="小山村第2网格").click()
    map_shows(page, tree["grid2"])
    panel = page.locator("#map-panel")
    expect(panel).to_contain_text("张网格 · 专职网格员")
    expect(panel.locator("#map-grid-cases tbody tr")).to_have_count(3)
    expect(page.locator("#command-map .case-cluster, #command-map path.leaflet-interactive").first).to_be_attached()
    shot(page, f"map-grid-{width}")

    page.go_back()  # the browser's back button goes up a level
    map_shows(page, tree["village"])
    page.go_forward()
    map_shows(page, tree["grid2"])
    case = city["cases"][0]
    panel.get_by_role("link", name=case.number).click()
    expect(page).to_have_url(f"{live_server.url}/command/cases/{case.pk}/")
    expect(page.locator("#case-status")).to_contain_text("已上报", use_inner_text=True)
    page.locator(".case-place").scroll_into_view_if_needed()  # the small map loads once in view
    expect(page.locator("#case-map path")).to_have_count(2)  # the grid's outline and the case's point
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shot(page, f"map-case-{width}")


def test_another_townships_unit_is_not_found(new_page, live_server, city, make_staff):
    page = new_page(width=1920, height=1080)
    sign_in(page, live_server.url, make_staff("镇调度员", city["tree"]["town"], Role.DISPATCHER))
    page.goto(f"{live_server.url}/command/map/")
    map_shows(page, city["tree"]["town"])
    expect(page.locator("#map-panel")).not_to_contain_text("城关镇")
    response = page.goto(f"{live_server.url}/command/map/?unit={city['tree']['other_town'].pk}")
    assert response.status == 404
