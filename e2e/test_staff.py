import pytest

from gongzhi.accounts.models import Role
from gongzhi.org.factories import make_tree
from gongzhi.registry.models import Household

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "Gongzhi#2026"


@pytest.fixture
def tree(make_staff):
    units = make_tree()
    for grid, number, address in [("grid", "H-1", "小山村一社1号"), ("grid2", "H-2", "小山村二社2号")]:
        Household.objects.create(village=units["village"], grid=units[grid], number=number, address=address)
    return units


def log_in(page, username: str) -> None:
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def test_grid_worker_sees_only_their_own_grid(page, live_server, tree, make_staff, shot):
    make_staff("王网格", tree["grid"], Role.GRID_WORKER)
    make_staff("李网格", tree["grid2"], Role.GRID_WORKER)
    page.goto(live_server.url + "/worker/")
    page.wait_for_url("**/command/login/?next=%2Fworker%2F")
    log_in(page, "王网格")
    page.wait_for_url(live_server.url + "/worker/")
    main = page.locator("main").inner_text()
    assert "小山村第1网格" in main and "小山村第2网格" not in main and "李网格" not in main
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shot(page, "worker-home")
    # Bottom navigation targets are thumb-sized.
    assert page.locator(".bottom-nav a").first.bounding_box()["height"] >= 48

    page.get_by_role("link", name="查看住户").click()
    assert "小山村一社1号" in page.locator("main").inner_text()
    shot(page, "worker-grid")
    response = page.goto(f"{live_server.url}/worker/grids/{tree['grid2'].pk}/")
    assert response.status == 404


def test_township_dispatcher_sees_own_township_only(new_page, live_server, tree, make_staff, shot):
    make_staff("调度员", tree["town"], Role.DISPATCHER)
    page = new_page(width=1366, height=900)
    page.goto(live_server.url + "/command/")
    shot(page, "staff-login")
    log_in(page, "调度员")
    page.wait_for_url(live_server.url + "/command/")
    tree_text = page.locator("#unit-tree").inner_text()
    for name in ["八里镇", "小山村", "大湾村", "小山村第1网格", "小山村第2网格", "大湾村第1网格"]:
        assert name in tree_text
    assert "城关镇" not in tree_text and "东关社区第1网格" not in tree_text
    shot(page, "command-home")

    page.get_by_role("link", name="小山村第1网格").click()
    assert "GeoJSON" in page.locator("main").inner_text()
    shot(page, "command-grid")
    response = page.goto(f"{live_server.url}/command/units/{tree['other_town'].pk}/")
    assert response.status == 404
