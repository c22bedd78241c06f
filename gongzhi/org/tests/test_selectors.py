import pytest

from gongzhi.accounts import policies
from gongzhi.accounts.models import Role
from gongzhi.core.errors import DomainError, NotFound
from gongzhi.org import selectors
from gongzhi.org.factories import square
from gongzhi.org.models import OrgUnit, bump_grid_index_version, grid_index_token

pytestmark = pytest.mark.django_db


def test_locate_answers_the_grid_and_its_ancestors_root_first(tree):
    grid, ancestors = selectors.locate(35.585, 104.605)
    assert grid == tree["grid"]
    assert ancestors == [tree["city"], tree["county"], tree["town"], tree["village"]]


def test_locate_outside_every_grid_is_not_found(tree):
    with pytest.raises(NotFound, match="该位置不在任何网格内"):
        selectors.locate(36.06, 103.83)


@pytest.mark.parametrize("lat, lng, field", [(95, 104.6, "lat"), (35.58, float("nan"), "lng")])
def test_locate_refuses_impossible_coordinates(tree, lat, lng, field):
    with pytest.raises(DomainError) as caught:
        selectors.locate(lat, lng)
    assert caught.value.field == field and caught.value.status == 422


def test_index_is_reused_while_nothing_changes(tree):
    assert selectors.grid_index() is selectors.grid_index()


def test_index_is_rebuilt_when_another_process_bumps_the_version(tree):
    """Another process's change reaches this one only through the stored token: a write that skips the
    bump (QuerySet.update) goes unseen, and the bump alone makes the cached index rebuild."""
    stale = selectors.grid_index()
    OrgUnit.objects.filter(pk=tree["grid"].pk).update(boundary=square(104.60, 35.50))
    assert selectors.grid_index() is stale
    assert selectors.locate(35.585, 104.605)[0] == tree["grid"]

    bump_grid_index_version()
    assert selectors.grid_index() is not stale
    assert selectors.locate(35.505, 104.605)[0] == tree["grid"]
    with pytest.raises(NotFound):
        selectors.locate(35.585, 104.605)


def test_saving_or_deactivating_a_grid_refreshes_the_index(tree):
    selectors.grid_index()
    grid = tree["grid2"]
    grid.is_active = False
    grid.save()
    with pytest.raises(NotFound):
        selectors.locate(35.585, 104.615)


def test_new_grids_are_found_without_restarting(tree):
    selectors.grid_index()
    new = OrgUnit.objects.create(name="新网格", code="621102101202005", level="grid", parent=tree["village2"],
                                 boundary=square(104.70, 35.70))
    assert selectors.locate(35.705, 104.705)[0] == new


def test_locate_place_answers_the_grid_its_path_and_its_township(tree):
    place = selectors.locate_place(35.585, 104.605)
    assert place == selectors.GridPlace(tree["grid"].pk, tree["grid"].path, tree["town"].pk, tree["village"].pk)
    with pytest.raises(NotFound):
        selectors.locate_place(36.06, 103.83)
    with pytest.raises(DomainError):
        selectors.locate_place(95, 104.6)


def test_locate_place_sees_another_process_bump(tree):
    """Like `locate`: the cache answers only while the stored token is the one it was built from."""
    selectors.grid_index()
    OrgUnit.objects.filter(pk=tree["grid"].pk).update(boundary=square(104.60, 35.50))
    assert selectors.locate_place(35.585, 104.605).grid_id == tree["grid"].pk
    bump_grid_index_version()
    assert selectors.locate_place(35.505, 104.605).grid_id == tree["grid"].pk
    with pytest.raises(NotFound):
        selectors.locate_place(35.585, 104.605)


def test_places_in_a_box_are_the_grids_reaching_into_it(tree):
    places = selectors.places_in_box(south=35.584, west=104.605, north=35.586, east=104.615)
    assert [p.grid_id for p in places] == sorted([tree["grid"].pk, tree["grid2"].pk])
    assert {p.township_id for p in places} == {tree["town"].pk}
    assert selectors.places_in_box(south=35.0, west=104.0, north=35.1, east=104.1) == []


def test_a_grid_under_no_township_has_none(tree):
    village = OrgUnit.objects.create(name="直属村", code="621102900", level="village", parent=tree["county"])
    grid = OrgUnit.objects.create(name="直属网格", code="621102900001", level="grid", parent=village,
                                  boundary=square(104.80, 35.80))
    assert selectors.locate_place(35.805, 104.805) == selectors.GridPlace(grid.pk, grid.path, None, village.pk)


def test_saving_a_township_or_a_village_refreshes_the_cached_places_but_a_county_does_not(tree):
    """The cache holds each grid's village and township, so their saves or deletions must reach every
    process."""
    before = grid_index_token()
    tree["county"].save()
    assert grid_index_token() == before
    tree["village"].save()
    after_village = grid_index_token()
    assert after_village != before
    tree["other_town"].save()
    assert grid_index_token() != after_village


def test_units_are_read_within_the_callers_scope(tree, make_staff):
    user = make_staff("va", tree["village"], Role.VILLAGE_ADMIN)
    visible = policies.units_visible_to(user)
    assert selectors.get_unit(visible, tree["grid"].pk) == tree["grid"]
    with pytest.raises(NotFound):
        selectors.get_unit(visible, tree["grid3"].pk)
    assert list(selectors.unit_children(visible, tree["village"])) == [tree["grid"], tree["grid2"]]


def test_children_outside_scope_are_left_out(tree, make_staff):
    user = make_staff("gl", tree["grid2"], Role.GRID_LEADER)
    visible = policies.units_visible_to(user)
    assert list(selectors.unit_children(visible, tree["village"])) == [tree["grid2"]]


def test_children_list_areas_before_departments(tree, make_staff):
    user = make_staff("d", tree["town"], Role.DISPATCHER)
    codes = [u.code for u in selectors.unit_children(policies.units_visible_to(user), tree["town"])]
    assert codes == [tree["village"].code, tree["village2"].code, tree["police"].code, tree["justice"].code]


def test_inner_point_lies_inside_even_a_concave_grid(db):
    from shapely.geometry import Point, shape

    from gongzhi.org.models import OrgUnit

    # A "C" shape whose centroid falls in the open notch, outside the polygon.
    c_shape = {"type": "Polygon", "coordinates": [[[0, 0], [3, 0], [3, 1], [1, 1], [1, 2], [3, 2], [3, 3],
                                                   [0, 3], [0, 0]]]}
    grid = OrgUnit(name="C", code="c", level="grid", boundary=c_shape)
    lat, lng = grid.inner_point()
    assert shape(c_shape).contains(Point(lng, lat))
    grid.centroid_lat, grid.centroid_lng = 1.5, 0.5
    assert grid.inner_point() == (1.5, 0.5)
    assert OrgUnit(name="x", code="x", level="village").inner_point() is None
