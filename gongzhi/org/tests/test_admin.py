import pytest

from gongzhi.accounts.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    user = User.objects.create_superuser(username="root", password="Gongzhi#2026")
    client.force_login(user)
    return client


def test_changelist_searches_by_name_and_filters_by_level(tree, admin_client):
    response = admin_client.get("/admin/org/orgunit/", {"q": "小山村", "level__exact": "grid"})
    assert response.status_code == 200
    names = {u.name for u in response.context["cl"].result_list}
    assert names == {"小山村第1网格", "小山村第2网格"}


def test_change_form_keeps_code_parent_and_boundary_read_only(tree, admin_client):
    grid = tree["grid"]
    response = admin_client.post(f"/admin/org/orgunit/{grid.pk}/change/", {
        "name": "改名网格", "kind": "area", "department_type": "", "is_active": "on",
        "code": "HACKED", "parent": tree["village2"].pk, "boundary": "{}"})
    assert response.status_code == 302
    grid.refresh_from_db()
    assert grid.name == "改名网格"
    assert (grid.code, grid.parent_id, grid.boundary) == ("621102101201001", tree["village"].pk,
                                                          tree["grid"].boundary)
