import datetime
import itertools

import pytest

from gongzhi.accounts.models import Role
from gongzhi.core.errors import NotFound
from gongzhi.core.validators import id_check_digit
from gongzhi.registry import selectors
from gongzhi.registry.models import Household, Resident

pytestmark = pytest.mark.django_db


_serial = itertools.count(1)


def new_id_number() -> str:
    first = f"62110219800101{next(_serial):03d}"
    return first + id_check_digit(first)


def add_household(grid, number, *, members=1, head="户主"):
    home = Household.objects.create(village=grid.parent, grid=grid, number=number,
                                    address=f"{grid.name}{number}号")
    for i in range(members):
        Resident.objects.create(household=home, name=head if i == 0 else f"成员{i}",
                                id_number=new_id_number(),
                                gender="M", birth_date=datetime.date(1980, 1, 1),
                                relation=Resident.Relation.HEAD if i == 0 else Resident.Relation.CHILD)
    return home


@pytest.fixture
def populated(tree):
    add_household(tree["grid"], "0001", members=3, head="张三")
    add_household(tree["grid"], "0002", members=1, head="李四")
    add_household(tree["grid3"], "0003", members=2)
    add_household(tree["other_grid"], "0004", members=4)
    return tree


def test_unit_counts_roll_up_only_what_is_in_scope(populated, make_staff):
    t = populated
    dispatcher = make_staff("d", t["town"], Role.DISPATCHER)
    counts = selectors.unit_counts(dispatcher, [t["town"], t["village"], t["village2"], t["county"]])
    town = counts[t["town"].pk]
    assert (town.grids, town.households, town.residents) == (3, 3, 6)
    assert (counts[t["village"].pk].households, counts[t["village"].pk].residents) == (2, 4)
    assert counts[t["village2"].pk].residents == 2
    # The county lies above the dispatcher's scope: only the town's part of it is counted.
    assert counts[t["county"].pk].residents == 6


def test_grid_summaries_list_only_visible_grids_with_staff(populated, make_staff):
    t = populated
    worker = make_staff("gw", t["grid"], Role.GRID_WORKER)
    make_staff("gw2", t["grid2"], Role.GRID_WORKER)
    [summary] = selectors.grid_summaries(worker)
    assert summary.grid == t["grid"] and summary.village == t["village"]
    assert (summary.households, summary.residents) == (2, 4)
    assert [p.user.username for p in summary.staff] == ["gw"]


def test_households_in_grid_names_the_head_and_refuses_other_grids(populated, make_staff):
    t = populated
    worker = make_staff("gw", t["grid"], Role.GRID_WORKER)
    rows = list(selectors.households_in_grid(worker, t["grid"]))
    assert [(h.number, h.head_name, h.member_count) for h in rows] == [("0001", "张三", 3),
                                                                        ("0002", "李四", 1)]
    with pytest.raises(NotFound):
        selectors.households_in_grid(worker, t["grid2"])
    with pytest.raises(NotFound):
        selectors.visible_grid(worker, t["other_grid"].pk)


def test_scope_tree_nests_areas_and_puts_departments_beside_them(populated, make_staff):
    t = populated
    dispatcher = make_staff("d", t["town"], Role.DISPATCHER)
    [root] = selectors.scope_tree(dispatcher)
    assert root.unit == t["town"]
    assert {d.name for d in root.departments} == {"八里镇司法所", "八里派出所"}
    assert [c.unit.name for c in root.children] == ["小山村", "大湾村"]
    assert [g.unit.name for g in root.children[0].children] == ["小山村第1网格", "小山村第2网格"]


def test_scope_tree_leaves_grids_out_of_a_large_tree(populated, make_staff):
    t = populated
    dispatcher = make_staff("d", t["town"], Role.DISPATCHER)
    [root] = selectors.scope_tree(dispatcher, max_grids=2)
    village = root.children[0]
    assert village.children == [] and village.hidden_grids == 2
    assert village.counts.grids == 2


def test_unit_detail_hides_units_out_of_scope(populated, make_staff):
    t = populated
    dispatcher = make_staff("d", t["town"], Role.DISPATCHER)
    detail = selectors.unit_detail(dispatcher, t["village"].pk)
    assert [c.name for c, _ in detail.children] == ["小山村第1网格", "小山村第2网格"]
    assert detail.ancestors == [t["town"]]
    with pytest.raises(NotFound):
        selectors.unit_detail(dispatcher, t["other_village"].pk)


def test_resident_overview_of_an_unmatched_account_is_empty(tree, make_staff):
    user = make_staff("someone", tree["grid"], Role.RESIDENT)
    overview = selectors.resident_overview(user)
    assert overview.record is None and overview.staff == []
