"""The dashboard's reads (数据看板) against a few hand-placed cases under a frozen clock, and their scope: a township
viewer never sees another township's figures or cases (out of scope is absent, or NotFound when asked for)."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection

from gongzhi.analytics import rollups, selectors, services
from gongzhi.analytics.models import DayCount
from gongzhi.cases.factories import act, report
from gongzhi.cases.workflow import Action
from gongzhi.core.errors import NotFound

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime.datetime(2026, 3, 20, 10, 0, tzinfo=SHANGHAI)  # a Friday
TODAY = NOW.date()
OTHER_TOWN = {"lat": 35.585, "lng": 104.625}  # in 东关社区第1网格, 城关镇


def at(month, day, hour):
    return datetime.datetime(2026, month, day, hour, 0, tzinfo=SHANGHAI)


def reported(people, category, moment, **place):
    with time_machine.travel(moment, tick=False):
        return report(people["resident"], category, **place)


@pytest.fixture
def city(people, tree, cats):
    """八里镇: A (03-18, 环境卫生类, answered on the spot 03-20), B (03-18, 政策咨询类), C (03-20, 环境卫生类),
    D (02-10, 环境卫生类); 城关镇: E and F (03-20, 环境卫生类). Folded and the grid states refreshed at NOW."""
    a = reported(people, cats["env"], at(3, 18, 9))
    b = reported(people, cats["policy"], at(3, 18, 11))
    c = reported(people, cats["env"], at(3, 20, 9))
    d = reported(people, cats["env"], at(2, 10, 9))
    e = reported(people, cats["env"], at(3, 20, 9), **OTHER_TOWN)
    f = reported(people, cats["env"], at(3, 20, 9), **OTHER_TOWN)
    with time_machine.travel(at(3, 20, 9) + datetime.timedelta(minutes=30), tick=False):
        act(people["grid_worker"], a, Action.RESOLVE_ON_SPOT)
    with time_machine.travel(NOW, tick=False):
        rollups.catch_up()
    services.refresh_grid_states(now=NOW)
    return {"a": a, "b": b, "c": c, "d": d, "e": e, "f": f}


def test_tiles_of_a_township_and_of_its_county(people, tree, city):
    town = selectors.tiles(people["dispatcher"], tree["town"], today=TODAY)
    assert (town.reported_today, town.handled_today) == (1, 1)  # C; A answered on the spot
    assert (town.month["reported"], town.month["handled"]) == (3, 1)  # A, B, C; A
    assert town.on_time.value == 0 and town.satisfaction.value is None  # A answered two days after its report
    assert town.open_cases >= 2  # B and C at least (GridState)
    county = selectors.tiles(people["county_dispatcher"], tree["county"], today=TODAY)
    assert (county.reported_today, county.handled_today, county.month["reported"]) == (3, 1, 5)
    assert county.open_cases > town.open_cases
    # Grids have no daily rows; the village has the same day as its township.
    assert not DayCount.objects.filter(path=tree["grid"].path).exists()
    assert DayCount.objects.get(path=tree["village"].path, day=TODAY).reported == 1


def test_trends_by_day_week_and_month(people, tree, city):
    series = selectors.trends(people["dispatcher"], tree["town"], today=TODAY)
    day = series["day"]
    assert len(day.labels) == 30 and day.labels[-1] == "03-20"
    assert dict(zip(day.labels, day.reported, strict=True))["03-18"] == 2
    assert (day.reported[-1], day.handled[-1]) == (1, 1)
    assert sum(day.reported) == 3  # D (02-10) is 38 days back
    week = series["week"]
    assert len(week.labels) == 12
    assert (week.reported[-1], week.handled[-1]) == (3, 1)  # Monday 03-16 to today
    assert sum(week.reported) == 4  # D's week (02-09) is the seventh back
    month = series["month"]
    assert month.labels[-2:] == ["2026-02", "2026-03"] and month.reported[-2:] == [1, 3]
    assert month.handled[-1] == 1 and len(month.labels) == 12


def test_category_mix_this_month_and_the_last_twelve(people, tree, city):
    mix = selectors.category_mix(people["dispatcher"], tree["town"], today=TODAY)
    assert (mix["month"].items, mix["month"].total) == ([("环境卫生类", 2), ("政策咨询类", 1)], 3)
    assert (mix["year"].items, mix["year"].total) == ([("环境卫生类", 3), ("政策咨询类", 1)], 4)
    county = selectors.category_mix(people["county_dispatcher"], tree["county"], today=TODAY)
    assert county["month"].items == [("环境卫生类", 4), ("政策咨询类", 1)]


def test_hotspots_and_rankings_stay_in_the_township(people, tree, city):
    spots = selectors.hotspots(people["dispatcher"], tree["town"])
    assert [s.name for s in spots.grids] == ["小山村第1网格"]
    assert spots.grids[0].place == "小山村" and spots.grids[0].open_cases >= 2
    county_spots = selectors.hotspots(people["county_dispatcher"], tree["county"])
    assert {s.name for s in county_spots.grids} == {"小山村第1网格", "东关社区第1网格"}
    ranked = selectors.rankings(people["county_dispatcher"], tree["county"], today=TODAY)
    assert [(r.unit.name, r.reported, r.handled) for r in ranked] == [("八里镇", 3, 1), ("城关镇", 2, 0)]
    assert [r.unit.name for r in selectors.rankings(people["dispatcher"], tree["town"], today=TODAY)] == [
        "小山村", "大湾村"]


def test_the_stream_is_the_newest_cases_in_scope(people, tree, city):
    town = selectors.newest_cases(people["dispatcher"], tree["town"])
    assert [s.id for s in town] == [city[k].pk for k in ("d", "c", "b", "a")]  # by id, newest first
    assert town[0].place == "八里镇 · 小山村第1网格" and town[0].category == "环境卫生类"
    assert selectors.newest_cases(people["dispatcher"], tree["town"], after=city["d"].pk) == []
    county = selectors.newest_cases(people["county_dispatcher"], tree["county"], limit=3)
    assert [s.id for s in county] == [city[k].pk for k in ("f", "e", "d")]
    assert selectors.newest_case_id() == city["f"].pk


def test_another_township_is_not_found(people, tree, city):
    viewer = people["dispatcher"]
    with pytest.raises(NotFound):
        selectors.dashboard_unit(viewer, tree["other_town"].pk)
    for read in (selectors.tiles, selectors.trends, selectors.category_mix, selectors.hotspots,
                 selectors.rankings, selectors.newest_cases):
        with pytest.raises(NotFound):
            read(viewer, tree["other_town"])
        with pytest.raises(NotFound):
            read(viewer, tree["county"])  # above the viewer's post
    assert selectors.dashboard_unit(viewer) == tree["town"]
    other = selectors.newest_cases(people["other_dispatcher"], tree["other_town"])
    assert [s.id for s in other] == [city["f"].pk, city["e"].pk]
    other_tiles = selectors.tiles(people["other_dispatcher"], tree["other_town"], today=TODAY)
    assert (other_tiles.reported_today, other_tiles.month["reported"]) == (2, 2)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's query plan")
def test_the_stream_walks_the_primary_key_from_the_newest(people, tree):
    """The stream's "newest 12" reads along the primary key and stops, whatever the number of cases in scope."""
    from gongzhi.analytics.selectors.dashboard import _stream_filter
    from gongzhi.cases import selectors as case_selectors

    for unit, viewer in ((tree["town"], people["dispatcher"]), (tree["county"], people["county_dispatcher"])):
        query = case_selectors.all_cases(viewer, _stream_filter(unit)).filter(pk__gt=0)[:selectors.STREAM_SIZE]
        sql, params = query.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            plan = [row[3] for row in cursor.fetchall()]
        assert plan[0] == "SEARCH cases_case USING INTEGER PRIMARY KEY (rowid>?)", plan
        assert not any("cases_case" in step and "B-TREE" in step for step in plan), plan
