"""民情地图's pages and JSON: scoped to the viewer (another township's boundaries, colours, panel and cases answer
404), boundaries and colours revalidated by ETag and sent gzipped, a grid's panel without phone numbers."""

import gzip
import json

import pytest

from gongzhi.accounts.models import Role
from gongzhi.analytics import services
from gongzhi.cases.factories import make_resident, report

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(people, cats, tree, make_staff):
    make_staff("网格长老王", tree["grid"], Role.GRID_LEADER)
    people["grid_worker"].phone = "13900001111"
    people["grid_worker"].save()
    here = report(people["resident"], cats["env"], description="村口路灯坏了。")
    there_resident = make_resident("res4", "孙七", tree["other_grid"])
    there = report(there_resident, cats["env"], lat=35.585, lng=104.625, description="东关社区的事。")
    services.refresh_grid_states()
    return {"here": here, "there": there}


def get(client, user, url, **headers):
    client.force_login(user)
    return client.get(url, headers=headers)


def test_the_map_page_starts_at_the_viewers_unit_with_the_rule_in_words(client, people, tree, world):
    page = get(client, people["dispatcher"], "/command/map/").content.decode()
    assert f'data-unit="{tree["town"].pk}"' in page and "小山村" in page and "城关镇" not in page
    assert "有超过时限仍未办结的事件" in page and "数据更新于" in page
    assert 'data-shapes-url="/command/map/0/shapes/"' in page
    county = get(client, people["county_dispatcher"], "/command/map/").content.decode()
    assert "八里镇" in county and "城关镇" in county


@pytest.mark.parametrize("what", ["panel", "shapes", "colours", "cases"])
def test_a_township_dispatcher_gets_404_for_another_townships_units(client, people, tree, world, what):
    for unit in ("other_town", "other_village", "other_grid", "county"):
        assert get(client, people["dispatcher"], f"/command/map/{tree[unit].pk}/{what}/").status_code == 404
    assert get(client, people["dispatcher"], f"/command/map/{tree['grid'].pk}/{what}/").status_code == 200
    assert get(client, people["dispatcher"], f"/command/map/?unit={tree['other_town'].pk}").status_code == 404


def test_case_markers_show_only_the_viewers_cases_and_only_in_a_village_or_grid(client, people, tree, world):
    village = get(client, people["dispatcher"], f"/command/map/{tree['village'].pk}/cases/").json()
    assert village["total"] == 1 and village["cases"][0][0] == world["here"].pk
    assert village["cases"][0][4] == world["here"].number and village["cases"][0][3] == "green"
    assert get(client, people["dispatcher"], f"/command/map/{tree['town'].pk}/cases/").json() == {
        "total": 0, "cases": []}
    county = get(client, people["county_dispatcher"], f"/command/map/{tree['other_grid'].pk}/cases/").json()
    assert [row[0] for row in county["cases"]] == [world["there"].pk]


def test_a_grids_panel_lists_its_staff_without_phones_and_its_open_cases(client, people, tree, world):
    page = get(client, people["dispatcher"], f"/command/map/{tree['grid'].pk}/panel/").content.decode()
    assert "wgy · 专职网格员" in page and "网格长老王 · 网格长" in page and "13900001111" not in page
    assert f'href="/command/cases/{world["here"].pk}/"' in page and world["here"].number in page
    assert f'data-shapes-unit="{tree["village"].pk}"' in page and "data-marks-cases" in page
    assert world["there"].number not in page


def test_boundaries_are_gzipped_once_and_revalidated_by_etag(client, people, tree, world):
    url = f"/command/map/{tree['town'].pk}/shapes/"
    first = get(client, people["dispatcher"], url, accept_encoding="gzip")
    assert first["Content-Encoding"] == "gzip" and first["Cache-Control"] == "private, no-cache"
    data = json.loads(gzip.decompress(first.content))
    assert {row[1] for row in data["units"]} == {"小山村", "大湾村"}  # outlines made from their grids
    assert {row[0] for row in data["grids"]} == {tree[g].pk for g in ("grid", "grid2", "grid3")}
    assert get(client, people["dispatcher"], url, if_none_match=f"W/{first['ETag']}").status_code == 304
    tree["grid"].name = "小山村一组"
    tree["grid"].save()  # a new grid version: a new ETag
    again = get(client, people["dispatcher"], url, if_none_match=first["ETag"])
    assert again.status_code == 200 and again["ETag"] != first["ETag"]


def test_colours_follow_the_state_table(client, people, tree, world):
    data = get(client, people["county_dispatcher"], f"/command/map/{tree['county'].pk}/colours/").json()
    ids = []
    for delta in data["ids"]:
        ids.append((ids[-1] if ids else 0) + delta)
    assert sorted(ids) == ids and set(ids) == {tree[g].pk for g in ("grid", "grid2", "grid3", "other_grid")}
    assert set(data["colours"]) == {"b"}


def test_the_case_page_carries_its_place_for_the_small_map(client, people, tree, world):
    page = get(client, people["dispatcher"], f"/command/cases/{world['here'].pk}/").content.decode()
    assert 'id="case-map"' in page and "data-auto" in page and "js/case-map.js" in page
    assert "&quot;point&quot;:[35.585,104.605]" in page and "[35.59,104.6]" in page  # the grid's corner
    worker = get(client, people["grid_worker"], f"/worker/cases/{world['here'].pk}/").content.decode()
    assert 'id="case-map"' in worker and "data-auto" not in worker  # a phone fetches Leaflet on a tap
