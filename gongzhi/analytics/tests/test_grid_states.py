"""The map's colour rule and its refresh, on hand-made cases under a frozen clock: red for a passed limit or an
open dispute at risk, yellow for a limit coming due, blue otherwise; a refresh writes only what changed."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from gongzhi.analytics import selectors, services, tasks
from gongzhi.analytics.models import Colour, GridState, GridStateRun
from gongzhi.cases.factories import act, report
from gongzhi.cases.models import Category
from gongzhi.cases.workflow import Action

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
REPORTED = datetime.datetime(2026, 3, 10, 9, 0, tzinfo=SHANGHAI)  # a Tuesday
IN_GRID3 = {"lat": 35.595, "lng": 104.605}  # 大湾村第1网格; the factory's default point is in tree["grid"]


def colours(tree, now):
    services.refresh_grid_states(now=now)
    return {name: GridState.objects.get(grid=tree[name]).colour for name in ("grid", "grid2", "grid3", "other_grid")}


@pytest.fixture
def reported(people, cats):
    with time_machine.travel(REPORTED, tick=False):
        return report(people["resident"], cats["env"])


def test_a_grid_turns_yellow_as_its_response_limit_comes_due_then_red_once_it_passed(tree, reported):
    due = reported.respond_due
    assert colours(tree, due - datetime.timedelta(hours=7)) == {
        "grid": Colour.BLUE, "grid2": Colour.BLUE, "grid3": Colour.BLUE, "other_grid": Colour.BLUE}
    assert colours(tree, due - datetime.timedelta(hours=1))["grid"] == Colour.YELLOW
    assert colours(tree, due + datetime.timedelta(minutes=1))["grid"] == Colour.RED
    state = GridState.objects.get(grid=tree["grid"])
    assert (state.open_cases, state.red_cases, state.yellow_cases, state.risky_disputes) == (1, 1, 0, 0)


def test_a_handled_case_no_longer_counts_against_its_grid(tree, people, reported):
    with time_machine.travel(REPORTED + datetime.timedelta(hours=1), tick=False):
        act(people["dispatcher"], reported, Action.ACCEPT)
    # Accepted: the handling limit runs (days away), so the passed response limit is no longer red.
    assert colours(tree, reported.respond_due + datetime.timedelta(hours=1))["grid"] == Colour.BLUE
    assert GridState.objects.get(grid=tree["grid"]).open_cases == 1


def test_an_open_marriage_dispute_makes_its_grid_red_before_any_limit_passes(tree, people, cats):
    marriage = Category.objects.get(code="dispute-marriage")
    with time_machine.travel(REPORTED, tick=False):
        report(people["resident"], marriage, **IN_GRID3)
    assert colours(tree, REPORTED + datetime.timedelta(minutes=5))["grid3"] == Colour.RED
    state = GridState.objects.get(grid=tree["grid3"])
    assert (state.red_cases, state.yellow_cases, state.risky_disputes) == (0, 0, 1)


def test_a_refresh_writes_only_what_changed_and_says_when_it_ran(tree, reported):
    due = reported.respond_due
    first = services.refresh_grid_states(now=due - datetime.timedelta(hours=7))
    assert (first.grids, first.changed) == (4, 4)  # every grid's row is new
    again = services.refresh_grid_states(now=due - datetime.timedelta(hours=6, minutes=30))
    assert again.changed == 0
    run = GridStateRun.objects.get()
    assert run.refreshed_at == due - datetime.timedelta(hours=6, minutes=30)
    assert run.changed_at == due - datetime.timedelta(hours=7)  # nothing changed since: the ETag holds
    assert services.refresh_grid_states(now=due + datetime.timedelta(hours=1)).changed == 1
    assert GridStateRun.objects.get().changed_at == due + datetime.timedelta(hours=1)


def test_a_deactivated_grid_loses_its_state(tree):
    services.refresh_grid_states()
    tree["grid2"].is_active = False
    tree["grid2"].save()
    assert services.refresh_grid_states().changed == 1
    assert not GridState.objects.filter(grid=tree["grid2"]).exists()


def test_the_periodic_task_refreshes_and_the_panel_sums_the_children(tree, people, reported):
    with time_machine.travel(reported.respond_due + datetime.timedelta(hours=1), tick=False):
        result = tasks.refresh_grid_states.call_local()
        assert (result["grids"], result["changed"]) == (4, 4)
        panel = selectors.unit_panel(people["county_dispatcher"], tree["county"].pk)
    assert panel.figures.red_grids == 1 and panel.figures.blue_grids == 3 and panel.figures.red_cases == 1
    rows = {row.unit.name: (row.colour, row.figures.open_cases) for row in panel.children}
    assert rows == {"八里镇": (Colour.RED, 1), "城关镇": (Colour.BLUE, 0)}
