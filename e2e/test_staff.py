import pytest
from django.contrib.auth.models import Permission
from playwright.sync_api import expect

from gongzhi.accounts.models import Role
from gongzhi.core.models import PiiAccessLog
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
    expect(page).to_have_url(live_server.url + "/command/login/?next=%2Fworker%2F")
    log_in(page, "王网格")
    expect(page).to_have_url(live_server.url + "/worker/")
    main = page.locator("main")
    expect(main).to_contain_text("小山村第1网格", use_inner_text=True)
    page.wait_for_load_state()  # all of the page and its stylesheet, for what must be absent and for measuring
    expect(main).not_to_contain_text("小山村第2网格", use_inner_text=True)
    expect(main).not_to_contain_text("李网格", use_inner_text=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shot(page, "worker-home")
    # Bottom navigation targets are thumb-sized.
    assert page.locator(".bottom-nav a").first.bounding_box()["height"] >= 48

    page.get_by_role("link", name="人口、房屋和单位").click()
    page.locator('.record-tabs a[href="?tab=households"]').click()  # the grid's hub (一标三实): its 户 tab
    expect(page.locator("main")).to_contain_text("小山村一社1号", use_inner_text=True)
    shot(page, "worker-grid")
    response = page.goto(f"{live_server.url}/worker/grids/{tree['grid2'].pk}/")
    assert response.status == 404


def test_township_dispatcher_sees_own_township_only(new_page, live_server, tree, make_staff, shot):
    make_staff("调度员", tree["town"], Role.DISPATCHER)
    page = new_page(width=1366, height=900)
    page.goto(live_server.url + "/command/")
    shot(page, "staff-login")
    log_in(page, "调度员")
    expect(page).to_have_url(live_server.url + "/command/")
    unit_tree = page.locator("#unit-tree")
    for name in ["八里镇", "小山村", "大湾村", "小山村第1网格", "小山村第2网格", "大湾村第1网格"]:
        expect(unit_tree).to_contain_text(name, use_inner_text=True)
    expect(unit_tree).not_to_contain_text("城关镇", use_inner_text=True)
    expect(unit_tree).not_to_contain_text("东关社区第1网格", use_inner_text=True)
    shot(page, "command-home")
    # A branch folds away with its toggle, a button beside the unit's link (not a <summary> around it).
    toggle = unit_tree.get_by_role("button", name="小山村的下级")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(unit_tree.get_by_role("link", name="小山村第1网格")).to_be_hidden()
    expect(unit_tree.get_by_role("link", name="大湾村第1网格")).to_be_visible()
    toggle.click()

    page.get_by_role("link", name="小山村第1网格").click()
    expect(page.locator("main")).to_contain_text("GeoJSON", use_inner_text=True)
    shot(page, "command-grid")
    response = page.goto(f"{live_server.url}/command/units/{tree['other_town'].pk}/")
    assert response.status == 404


def test_township_dispatcher_reveals_a_grid_workers_phone_with_a_reason(new_page, live_server, tree, make_staff,
                                                                        shot):
    dispatcher = make_staff("调度员", tree["town"], Role.DISPATCHER)
    # Granted directly: the migration's group does not survive the flush between transactional tests.
    dispatcher.user_permissions.add(Permission.objects.get(codename="unmask_pii"))
    worker = make_staff("王网格", tree["grid"], Role.GRID_WORKER)
    worker.phone = "13712345678"
    worker.save(update_fields=["phone"])
    page = new_page(width=1366, height=900)
    page.goto(f"{live_server.url}/command/units/{tree['grid'].pk}/")
    log_in(page, "调度员")
    people = page.locator("#posts-title + .people")
    expect(people).to_contain_text("137****5678", use_inner_text=True)
    expect(people).not_to_contain_text("13712345678", use_inner_text=True)

    people.locator("li", has_text="王网格").get_by_role("link", name="查看完整号码").click()
    page.get_by_label("联系工作").check()
    page.get_by_label("其他事由或补充说明").fill("通知网格例会")
    shot(page, "command-reveal-form")
    page.get_by_role("button", name="查看完整号码").click()
    expect(page.locator("#pii-value")).to_have_text("13712345678", use_inner_text=True)
    expect(page.locator("main")).to_contain_text("本次查看已记录", use_inner_text=True)
    shot(page, "command-reveal-done")
    assert PiiAccessLog.objects.get().reason == "联系工作：通知网格例会"
    page.get_by_role("link", name="返回").click()
    expect(page).to_have_url(f"{live_server.url}/command/units/{tree['grid'].pk}/")


def test_out_of_scope_page_is_the_portals_own_404_on_a_phone(page, live_server, tree, make_staff, shot):
    """Outside their grid a worker gets the worker portal's 未找到 page (its bottom navigation, a way home),
    never a bare error page, and it fits a 360 px phone."""
    make_staff("王网格", tree["grid"], Role.GRID_WORKER)
    page.goto(live_server.url + f"/worker/grids/{tree['grid2'].pk}/")
    log_in(page, "王网格")
    expect(page).to_have_url(live_server.url + f"/worker/grids/{tree['grid2'].pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("未找到")
    expect(page.locator(".bottom-nav")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("小山村第2网格", use_inner_text=True)
    page.wait_for_load_state()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shot(page, "worker-404")
    page.get_by_role("link", name="返回首页").click()
    expect(page).to_have_url(live_server.url + "/worker/")
    expect(page.locator("main")).to_contain_text("小山村第1网格", use_inner_text=True)
