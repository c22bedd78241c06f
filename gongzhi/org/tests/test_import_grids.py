import json

import pytest

from gongzhi.accounts.models import Role
from gongzhi.accounts.policies import scope_paths
from gongzhi.core.errors import DomainError, Forbidden, NotFound
from gongzhi.org import selectors, services
from gongzhi.org.factories import square
from gongzhi.org.models import Level, OrgUnit, grid_index_token

pytestmark = pytest.mark.django_db

BOW_TIE = {"type": "Polygon", "coordinates": [[[104.61, 35.59], [104.62, 35.60], [104.62, 35.59],
                                                [104.61, 35.60], [104.61, 35.59]]]}


def feature(code, name, parent_code, geometry):
    return {"type": "Feature", "properties": {"code": code, "name": name, "parent_code": parent_code},
            "geometry": geometry}


def collection(*features):
    return {"type": "FeatureCollection", "features": list(features)}


def snapshot():
    """Everything an import could change."""
    return (list(OrgUnit.objects.order_by("pk").values_list("pk", "code", "name", "parent_id", "boundary")),
            grid_index_token())


def test_import_creates_grids_under_their_village(tree):
    before = grid_index_token()
    # The first new grid touches 大湾村第1网格 along an edge and 小山村第2网格 along another: allowed.
    result = services.import_grids(scope=None, geojson=collection(
        feature("621102101202002", "大湾村第2网格", "621102101202", square(104.61, 35.59)),
        feature(621102101202003, "大湾村第3网格", "621102101202", square(104.62, 35.59)),
    ))
    assert (result.created, result.updated, result.dry_run) == (2, 0, False)
    grid = OrgUnit.objects.get(code="621102101202002")
    assert grid.level == Level.GRID and grid.parent == tree["village2"]
    assert grid.path == tree["village2"].path + "621102101202002/"
    assert (grid.centroid_lng, grid.centroid_lat) == pytest.approx((104.615, 35.595))
    assert OrgUnit.objects.filter(code="621102101202003").exists()  # numeric code accepted as text
    assert grid_index_token() != before
    assert selectors.locate(35.595, 104.615)[0] == grid


def test_import_updates_an_existing_grid_of_the_same_village(tree):
    result = services.import_grids(scope=None, geojson=collection(
        feature(tree["grid3"].code, "大湾村第1网格（调整后）", "621102101202", square(104.60, 35.59, 0.005))))
    assert (result.created, result.updated) == (0, 1)
    tree["grid3"].refresh_from_db()
    assert tree["grid3"].name == "大湾村第1网格（调整后）"
    with pytest.raises(NotFound):
        selectors.locate(35.598, 104.608)  # the part the grid gave up
    assert selectors.locate(35.592, 104.602)[0] == tree["grid3"]


GOOD = feature("621102101202002", "大湾村第2网格", "621102101202", square(104.61, 35.59))


@pytest.mark.parametrize("bad, message", [
    (feature("621102101202009", "坏", "621102101202", BOW_TIE), "多边形自相交"),
    (feature("621102101202009", "坏", "621102101202",
             {"type": "Polygon", "coordinates": [[[104.63, 35.59], [104.64, 35.59], [104.63, 35.59]]]}),
     "点数太少"),
    (feature("621102101202009", "坏", "621102101202", {"type": "Point", "coordinates": [104.63, 35.59]}),
     "几何类型必须是 Polygon 或 MultiPolygon"),
    (feature("621102101202009", "坏", "621102101202",
             {"type": "LineString", "coordinates": [[104.63, 35.59], [104.64, 35.6]]}),
     "几何类型必须是 Polygon 或 MultiPolygon"),
    (feature("621102101202009", "坏", "621102101202", square(184.0, 35.59)), "经度 184.0 超出"),
    (feature("621102101202009", "坏", "999999", square(104.63, 35.59)), "所属村(社区)编码 999999 不存在"),
    (feature("621102101202009", "坏", "621102101", square(104.63, 35.59)), "不是村(社区)"),
    (feature("621102101202002", "重复", "621102101202", square(104.63, 35.59)),
     "编码 621102101202002 在文件中重复出现（第1个要素已使用）"),
    (feature("621102101202009", "压线", "621102101202", square(104.615, 35.595)), "与第1个要素"),
    (feature("621102101202009", "压线", "621102101202", square(104.605, 35.585)),
     "与已有网格「小山村第1网格」（编码 621102101201001）重叠"),
    (feature("621102101202", "冒用", "621102101202", square(104.63, 35.59)), "不是网格的单位使用"),
    (feature("621102101201001", "改挂", "621102101202", square(104.63, 35.59)), "不能改变网格所属的村(社区)"),
    (feature("x/y", "坏编码", "621102101202", square(104.63, 35.59)), "编码 x/y 无效"),
    (feature(None, None, None, square(104.63, 35.59)), "缺少网格编码"),
    ({"type": "Polygon", "coordinates": []}, "不是 GeoJSON 要素"),
])
def test_any_error_rejects_the_whole_file_and_changes_nothing(tree, bad, message):
    before = snapshot()
    with pytest.raises(services.GridImportError) as caught:
        services.import_grids(scope=None, geojson=collection(GOOD, bad))
    assert any(line.startswith("第2个要素") and message in line for line in caught.value.errors), \
        caught.value.errors
    assert message in str(caught.value.message)
    assert snapshot() == before


def test_every_problem_is_listed_with_its_feature_number(tree):
    with pytest.raises(services.GridImportError) as caught:
        services.import_grids(scope=None, geojson=collection(
            GOOD,
            feature("621102101202008", "", "621102101202", BOW_TIE),
            feature("621102101202009", "好", "nope", {"type": "Point", "coordinates": [1, 2]}),
        ))
    errors = caught.value.errors
    assert [e.split("：")[0] for e in errors] == [
        "第2个要素（编码 621102101202008）", "第2个要素（编码 621102101202008）",
        "第3个要素（编码 621102101202009）", "第3个要素（编码 621102101202009）"]
    assert "缺少网格名称" in errors[0] and "多边形自相交" in errors[1]


@pytest.mark.parametrize("content, message", [
    ("{not json", "不是有效的 JSON"),
    (json.dumps({"type": "Feature"}), "FeatureCollection"),
    (json.dumps({"type": "FeatureCollection", "features": []}), "没有任何要素"),
])
def test_unreadable_files_are_refused(tree, tmp_path, content, message):
    path = tmp_path / "grids.geojson"
    path.write_text(content, encoding="utf-8")
    before = snapshot()
    with pytest.raises(DomainError, match=message):
        services.import_grids(scope=None, geojson=path)
    assert snapshot() == before


def test_missing_file_is_refused(tree, tmp_path):
    with pytest.raises(DomainError, match="无法读取文件"):
        services.import_grids(scope=None, geojson=str(tmp_path / "absent.geojson"))


def test_import_reads_a_file_path(tree, tmp_path):
    path = tmp_path / "grids.geojson"
    path.write_text(json.dumps(collection(GOOD), ensure_ascii=False), encoding="utf-8")
    assert services.import_grids(scope=None, geojson=str(path)).created == 1


def test_dry_run_counts_without_writing(tree):
    before = snapshot()
    result = services.import_grids(scope=None, geojson=collection(GOOD), dry_run=True)
    assert (result.created, result.updated, result.dry_run) == (1, 0, True)
    assert snapshot() == before


def test_progress_is_reported_while_writing(tree):
    calls = []
    services.import_grids(scope=None, geojson=collection(GOOD),
                          progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 1)]


def test_staff_may_import_only_into_villages_in_their_scope(tree, make_staff):
    own = make_staff("va2", tree["village2"], Role.VILLAGE_ADMIN)
    assert services.import_grids(scope=scope_paths(own), geojson=collection(GOOD)).created == 1

    outsider = make_staff("disp", tree["other_town"], Role.DISPATCHER)
    other = feature("621102101202007", "大湾村第7网格", "621102101202", square(104.63, 35.59))
    with pytest.raises(services.GridImportError, match="不存在，或不在您的管辖范围内"):
        services.import_grids(scope=scope_paths(outsider), geojson=collection(other))

    admin = make_staff("root", tree["other_grid"], Role.SYSTEM_ADMIN)
    assert services.import_grids(scope=scope_paths(admin), geojson=collection(other)).created == 1


def test_people_without_a_staff_post_may_not_import(tree, make_staff):
    resident = make_staff("res", tree["grid"], Role.RESIDENT)
    with pytest.raises(Forbidden):
        services.import_grids(scope=scope_paths(resident), geojson=collection(GOOD))
    assert not OrgUnit.objects.filter(code=GOOD["properties"]["code"]).exists()


def test_set_grid_boundary_reshapes_the_grid_and_the_index_follows(tree):
    grid = tree["grid"]
    assert selectors.locate(35.585, 104.605)[0] == grid
    services.set_grid_boundary(scope=None, grid=grid, geometry=square(104.60, 35.57, 0.01))
    with pytest.raises(NotFound):
        selectors.locate(35.585, 104.605)
    assert selectors.locate(35.575, 104.605)[0] == grid
    grid.refresh_from_db()
    assert grid.centroid_lat == pytest.approx(35.575)


@pytest.mark.parametrize("geometry, message", [
    (BOW_TIE, "多边形自相交"),
    (square(104.605, 35.58), "与已有网格「小山村第2网格」"),
])
def test_set_grid_boundary_refuses_bad_or_overlapping_shapes(tree, geometry, message):
    before = snapshot()
    with pytest.raises(DomainError, match=message) as caught:
        services.set_grid_boundary(scope=None, grid=tree["grid"], geometry=geometry)
    assert caught.value.field == "boundary"
    assert snapshot() == before


def test_set_grid_boundary_checks_the_actor(tree, make_staff):
    outsider = make_staff("disp", tree["other_town"], Role.DISPATCHER)
    with pytest.raises(NotFound):
        services.set_grid_boundary(scope=scope_paths(outsider), grid=tree["grid"], geometry=square(104.60, 35.57))
    worker = make_staff("gw", tree["grid"], Role.GRID_WORKER)
    with pytest.raises(Forbidden):
        services.set_grid_boundary(scope=scope_paths(worker), grid=tree["grid"], geometry=square(104.60, 35.57))
    village_admin = make_staff("va", tree["village"], Role.VILLAGE_ADMIN)
    services.set_grid_boundary(scope=scope_paths(village_admin), grid=tree["grid"], geometry=square(104.60, 35.57))
    tree["grid"].refresh_from_db()
    assert tree["grid"].boundary == square(104.60, 35.57)


def test_only_grids_have_boundaries_set(tree):
    with pytest.raises(DomainError, match="只有网格才能设置边界"):
        services.set_grid_boundary(scope=None, grid=tree["village"], geometry=square(104.70, 35.57))
