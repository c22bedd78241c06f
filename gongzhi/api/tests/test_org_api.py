import pytest
from django.test import Client

from gongzhi.accounts.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return Client()


def test_locate_answers_grid_and_ancestors_without_login(tree, api):
    response = api.get("/api/org/locate", {"lat": "35.585", "lng": "104.615"})
    assert response.status_code == 200
    body = response.json()
    assert body["grid"] == {"id": tree["grid2"].pk, "code": "621102101201002", "name": "小山村第2网格",
                            "level": "grid"}
    assert [a["code"] for a in body["ancestors"]] == ["621100", "621102", "621102101", "621102101201"]


def test_locate_outside_every_grid_is_404_with_a_message(tree, api):
    response = api.get("/api/org/locate", {"lat": "36.06", "lng": "103.83"})
    assert response.status_code == 404
    assert response.json()["detail"] == "该位置不在任何网格内。"


@pytest.mark.parametrize("params, field", [
    ({"lat": "91", "lng": "104.6"}, "lat"),
    ({"lat": "-90.01", "lng": "104.6"}, "lat"),
    ({"lat": "35.58", "lng": "180.5"}, "lng"),
    ({"lat": "nan", "lng": "104.6"}, "lat"),
    ({"lat": "35.58", "lng": "inf"}, "lng"),
    ({"lat": "35.58", "lng": "-Infinity"}, "lng"),
])
def test_impossible_coordinates_are_422_naming_the_field(tree, api, params, field):
    response = api.get("/api/org/locate", params)
    assert response.status_code == 422
    body = response.json()
    assert body["field"] == field
    assert ("纬度" if field == "lat" else "经度") in body["detail"]


@pytest.mark.parametrize("params", [{"lat": "北纬", "lng": "104.6"}, {"lat": "35.58"}, {}])
def test_non_numeric_or_missing_coordinates_are_422(tree, api, params):
    response = api.get("/api/org/locate", params)
    assert response.status_code == 422
    assert response.json()["detail"] == "输入的数据无效。"


def test_locate_documents_every_response(api):
    schema = api.get("/api/openapi.json").json()
    responses = schema["paths"]["/api/org/locate"]["get"]["responses"]
    assert set(responses) == {"200", "404", "422"}
    for path in ("/api/org/units/{unit_id}", "/api/org/units/{unit_id}/children"):
        assert set(schema["paths"][path]["get"]["responses"]) == {"200", "404", "422"}


def test_unit_detail_is_scoped(tree, make_staff, api):
    api.force_login(make_staff("va", tree["village"], Role.VILLAGE_ADMIN))
    response = api.get(f"/api/org/units/{tree['grid'].pk}")
    assert response.status_code == 200
    assert response.json()["boundary"] == tree["grid"].boundary
    assert api.get(f"/api/org/units/{tree['grid3'].pk}").status_code == 404
    assert api.get("/api/org/units/987654321").status_code == 404


def test_unit_children_are_scoped_and_anonymous_callers_see_nothing(tree, make_staff, api):
    assert api.get(f"/api/org/units/{tree['village'].pk}/children").status_code == 404
    api.force_login(make_staff("gl", tree["grid2"], Role.GRID_LEADER))
    assert api.get(f"/api/org/units/{tree['village'].pk}/children").status_code == 404
    api.force_login(make_staff("va", tree["village"], Role.VILLAGE_ADMIN))
    response = api.get(f"/api/org/units/{tree['village'].pk}/children")
    assert [u["code"] for u in response.json()] == ["621102101201001", "621102101201002"]


def test_unit_id_out_of_range_is_422_not_a_crash(api, db):
    assert api.get("/api/org/units/99999999999999999999").status_code == 422
