import datetime

import pytest
from django.urls import reverse

from gongzhi.accounts.models import Role, User
from gongzhi.core.validators import id_check_digit
from gongzhi.registry.models import Household, Resident

pytestmark = pytest.mark.django_db

HEAD_ID = "62110219800101001" + id_check_digit("62110219800101001")


@pytest.fixture
def worker(tree, make_staff):
    user = make_staff("王网格", tree["grid"], Role.GRID_WORKER)
    home = Household.objects.create(village=tree["village"], grid=tree["grid"], number="H-001",
                                    address="小山村一社12号")
    Resident.objects.create(household=home, name="张三", id_number=HEAD_ID, phone="13912345678", gender="M",
                            birth_date=datetime.date(1980, 1, 1), relation=Resident.Relation.HEAD)
    Household.objects.create(village=tree["village"], grid=tree["grid2"], number="H-002",
                             address="小山村二社1号")
    return user


def test_anonymous_visitors_go_to_the_staff_login_with_next(client):
    response = client.get(reverse("worker:home"))
    assert response.status_code == 302
    assert response["Location"] == "/command/login/?next=%2Fworker%2F"


def test_residents_and_command_staff_are_sent_to_their_own_portal(client, tree, make_staff):
    resident = User.objects.create_user(username="r1", kind=User.Kind.RESIDENT)
    client.force_login(resident)
    assert client.get(reverse("worker:home"))["Location"] == "/"
    client.force_login(make_staff("disp", tree["town"], Role.DISPATCHER))
    assert client.get(reverse("worker:home"))["Location"] == "/command/"


def test_home_lists_own_grid_with_counts_and_staff_only(client, worker, tree, make_staff):
    make_staff("邻居网格员", tree["grid2"], Role.GRID_WORKER)
    client.force_login(worker)
    page = client.get(reverse("worker:home")).content.decode()
    assert "小山村第1网格" in page and "小山村" in page and "王网格" in page
    assert "小山村第2网格" not in page and "邻居网格员" not in page
    assert 'aria-current="page"' in page  # bottom navigation marks where we are


def test_grid_detail_lists_households_without_personal_numbers(client, worker, tree):
    client.force_login(worker)
    page = client.get(reverse("worker:grid", args=[tree["grid"].pk]) + "?tab=households").content.decode()
    assert "小山村一社12号" in page and "张三" in page
    assert HEAD_ID not in page and "13912345678" not in page
    assert "小山村二社1号" not in page


def test_neighbouring_and_missing_grids_answer_404(client, worker, tree):
    client.force_login(worker)
    assert client.get(reverse("worker:grid", args=[tree["grid2"].pk])).status_code == 404
    assert client.get(reverse("worker:grid", args=[tree["village"].pk])).status_code == 404
    assert client.get(reverse("worker:grid", args=[999999])).status_code == 404


def test_village_admin_sees_every_grid_of_the_village(client, tree, make_staff):
    client.force_login(make_staff("村管理员", tree["village"], Role.VILLAGE_ADMIN))
    page = client.get(reverse("worker:home")).content.decode()
    assert "小山村第1网格" in page and "小山村第2网格" in page and "大湾村第1网格" not in page


def test_long_household_lists_are_paged(client, worker, tree):
    for n in range(2, 52):
        Household.objects.create(village=tree["village"], grid=tree["grid"], number=f"H-1{n:02d}",
                                 address=f"小山村一社{n}号")
    client.force_login(worker)
    url = reverse("worker:grid", args=[tree["grid"].pk]) + "?tab=households"
    first = client.get(url).content.decode()
    assert "共 51 户" in first and "第1页" in first and "小山村一社51号" not in first
    assert "小山村一社51号" in client.get(url + "&page=2").content.decode()


def test_me_page_shows_posts_preferences_and_logout(client, worker):
    client.force_login(worker)
    page = client.get(reverse("worker:me")).content.decode()
    assert "小山村第1网格 · 专职网格员" in page
    assert reverse("resident:large_type") in page and reverse("set_language") in page
    assert reverse("command:logout") in page
