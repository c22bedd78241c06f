"""The point → grid index and boundary checks, without the database."""

import numpy as np
import pytest
import shapely

from gongzhi.core.errors import DomainError
from gongzhi.org.geo import GridIndex, check_point, overlapping_pairs, overlapping_with, parse_boundary


def box(x0, y0, x1, y1, holes=()):
    """GeoJSON Polygon; quarter-degree coordinates are exact in binary, so shared edges really coincide."""
    ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
    return {"type": "Polygon", "coordinates": [ring, *holes]}


@pytest.fixture
def index():
    """Two grids side by side sharing the edge lng=104.5; grid 7 has a hole; grid 9 is a two-part
    MultiPolygon further east. Ids are deliberately not in insertion order."""
    hole = [[104.125, 36.125], [104.25, 36.125], [104.25, 36.25], [104.125, 36.25], [104.125, 36.125]]
    multi = {"type": "MultiPolygon", "coordinates": [box(105, 36, 105.25, 36.25)["coordinates"],
                                                     box(105.5, 36, 105.75, 36.25)["coordinates"]]}
    return GridIndex.from_geojson([(7, box(104, 36, 104.5, 36.5, [hole])), (3, box(104.5, 36, 105, 36.5)),
                                   (9, multi)])


def test_point_inside_a_grid(index):
    assert index.locate(104.4, 36.4) == 7
    assert index.locate(104.75, 36.25) == 3


def test_point_on_a_shared_edge_gets_exactly_one_grid_the_lowest_id(index):
    assert index.locate(104.5, 36.25) == 3
    # Same answer whatever order the grids are given in.
    reordered = GridIndex.from_geojson([(3, box(104.5, 36, 105, 36.5)), (7, box(104, 36, 104.5, 36.5))])
    assert reordered.locate(104.5, 36.25) == 3


def test_point_on_an_outer_edge_or_corner_is_in_the_grid(index):
    assert index.locate(104.0, 36.3) == 7
    assert index.locate(105.0, 36.5) == 3


def test_point_in_a_hole_is_not_in_that_grid_but_its_rim_is(index):
    assert index.locate(104.2, 36.2) is None
    assert index.locate(104.125, 36.2) == 7


def test_point_outside_every_grid(index):
    assert index.locate(103.0, 36.2) is None
    assert index.locate(105.4, 36.1) is None  # between the two parts of the MultiPolygon


def test_multipolygon_parts_both_belong_to_the_grid(index):
    assert index.locate(105.1, 36.1) == 9
    assert index.locate(105.6, 36.1) == 9


def test_locate_many_matches_locate_point_by_point(index):
    lngs = np.array([104.4, 104.5, 104.2, 103.0, 105.6, 105.0, np.nan, np.inf])
    lats = np.array([36.4, 36.25, 36.2, 36.2, 36.1, 36.5, 36.2, 36.2])
    result = index.locate_many(lngs, lats)
    assert result.tolist() == [7, 3, -1, -1, 9, 3, -1, -1]
    expected = [index.locate(x, y) for x, y in zip(lngs[:6], lats[:6], strict=True)]
    assert result[:6].tolist() == [-1 if e is None else e for e in expected]


def test_grids_reaching_into_a_box_by_id(index):
    assert index.intersecting(104.4, 36.1, 104.6, 36.2) == [3, 7]
    assert index.intersecting(104.5, 36.4, 104.5, 36.4) == [3, 7]  # a point on the shared edge: both
    assert index.intersecting(105.3, 36.1, 105.4, 36.2) == []  # between the two parts of grid 9
    assert index.intersecting(105.2, 36.1, 105.6, 36.2) == [9]


def test_locate_many_rejects_mismatched_arrays(index):
    with pytest.raises(ValueError):
        index.locate_many(np.zeros(3), np.zeros(2))


def test_empty_index_finds_nothing():
    empty = GridIndex.from_geojson([])
    assert len(empty) == 0
    assert empty.locate(104, 36) is None
    assert empty.locate_many(np.array([104.0]), np.array([36.0])).tolist() == [-1]


def test_unreadable_stored_boundaries_are_skipped_not_fatal():
    index = GridIndex.from_geojson([(1, box(104, 36, 105, 37)), (2, {"type": "Point", "coordinates": [1, 2]}),
                                    (3, {"type": "Polygon"})])
    assert index.skipped == [2, 3]
    assert index.locate(104.5, 36.5) == 1


@pytest.mark.parametrize("geometry, message", [
    (None, "缺少几何图形"),
    ({"type": "Point", "coordinates": [104, 36]}, "几何类型必须是 Polygon 或 MultiPolygon"),
    ({"type": "Polygon", "coordinates": [[[104, 36], [105, 36], [104, 36]]]}, "点数太少"),
    ({"type": "Polygon", "coordinates": [[[104, 36], [105, 36], [104, 36], [104, 36]]]}, "点数太少"),
    ({"type": "Polygon", "coordinates": [[[104, 36], [105, 36], [105, 37], [104, 37], [104, 36.5]]]},
     "环未闭合"),
    ({"type": "Polygon", "coordinates": [[[104, 36], [105, 37], [105, 36], [104, 37], [104, 36]]]},
     "多边形自相交"),
    (box(104, 36, 181, 37), "经度 181.0 超出"),
    (box(104, 36, 105, 91), "纬度 91.0 超出"),
    ({"type": "Polygon", "coordinates": [[["104", 36], [105, 36], [105, 37], [104, 36]]]}, "坐标格式错误"),
    ({"type": "Polygon", "coordinates": []}, "至少要有一个外环"),
    (box(104, 36, 105, 37, [[[106, 36], [107, 36], [107, 37], [106, 36]]]), "洞（内环）不在外环之内"),
    ({"type": "MultiPolygon", "coordinates": [box(104, 36, 105, 37)["coordinates"],
                                              box(104.5, 36.5, 105.5, 37.5)["coordinates"]]},
     "各部分相互重叠"),
])
def test_parse_boundary_rejects_bad_geometry(geometry, message):
    with pytest.raises(DomainError) as caught:
        parse_boundary(geometry)
    assert message in str(caught.value.message)
    assert caught.value.field == "boundary"


def test_parse_boundary_keeps_lng_lat_and_drops_altitude():
    clean, shape = parse_boundary({"type": "Polygon", "coordinates": [
        [[104, 36, 1500], [105, 36, 1500], [105, 37, 1500], [104, 36, 1500]]]})
    assert clean["coordinates"][0][1] == [105.0, 36.0]
    assert shape.area == pytest.approx(0.5)


def test_overlap_counts_shared_area_not_touching_edges():
    a = shapely.box(104, 36, 105, 37)
    touching = shapely.box(105, 36, 106, 37)
    overlapping = shapely.box(104.9, 36, 105.9, 37)
    assert overlapping_pairs([a, touching]) == []
    assert overlapping_pairs([a, touching, overlapping]) == [(0, 2), (1, 2)]
    assert overlapping_with([overlapping, shapely.box(110, 30, 111, 31)], [a, touching]) == [(0, 0), (0, 1)]


@pytest.mark.parametrize("lat, lng, field", [
    (91, 104, "lat"), (-90.5, 104, "lat"), (float("nan"), 104, "lat"), (36, float("inf"), "lng"),
    (36, -181, "lng"),
])
def test_check_point_rejects_impossible_positions(lat, lng, field):
    with pytest.raises(DomainError) as caught:
        check_point(lat=lat, lng=lng)
    assert caught.value.field == field


def test_check_point_accepts_the_extremes():
    check_point(lat=-90, lng=180)
