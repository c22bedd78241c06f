"""重点人员 in the browser: a grid worker on a 360 px phone opens an overdue key person from the home page, records a
visit, and the person leaves the overdue list; the command centre's list, record and risk warning at desk width."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from gongzhi.accounts.models import Role
from gongzhi.analytics import services as analytics_services
from gongzhi.registry.models import KeyPersonView, Visit
from gongzhi.registry.tests.key_person_factories import listed, person

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
NAME = "欧阳建国"


@pytest.fixture
def grid(tree, make_staff):
    """欧阳建国 (high risk, listed 10 days ago: a visit owed 3 days ago) and 诸葛明 (low risk, due later)."""
    worker = make_staff("王网格", tree["grid"], Role.GRID_WORKER)
    today = timezone.localdate()
    overdue = listed(worker, person(tree["grid"], NAME), categories=("released", "drug"), responsible=worker,
                     started_on=today - datetime.timedelta(days=10),
                     care_plan="每周上门谈话一次，了解就业和家庭情况；逢节假日加密走访。")
    listed(worker, person(tree["grid"], "诸葛明"), risk_level="low", care_plan="每月电话联系。")
    person(tree["grid"], "司马光")
    return {"worker": worker, "overdue": overdue, "tree": tree}


def log_in(page, live_server, username: str, portal: str) -> None:
    page.goto(live_server.url + f"/command/login/?next=/{portal}/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill("Gongzhi#2026")
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(live_server.url + f"/{portal}/")


def test_a_grid_worker_visits_an_overdue_key_person_on_a_phone(new_page, live_server, grid, shot):
    page = new_page(width=360, height=740)
    log_in(page, live_server, "王网格", "worker")
    block = page.locator("#home-key-persons")
    expect(block).to_contain_text(NAME)
    expect(block).to_contain_text("已逾期3天")
    shot(page, "kp-worker-home-360")
    block.get_by_role("link", name="已逾期").click()
    items = page.locator("#key-persons li")
    expect(items).to_have_count(1)
    expect(items.first).to_contain_text(NAME)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shot(page, "kp-worker-overdue-360")

    items.first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(NAME)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shot(page, "kp-worker-record-360")
    page.get_by_role("button", name="登记走访").click()
    expect(page.get_by_text("请填写走访情况。")).to_be_visible()  # nothing recorded without notes
    page.get_by_label("走访情况").fill("上门见到本人，已在镇上找到工作，家属配合。")
    page.get_by_role("button", name="登记走访").click()
    expect(page.get_by_text("走访已登记。")).to_be_visible()
    expect(page.locator("#kp-visits")).to_contain_text("已在镇上找到工作")
    expect(page.locator("#kp-plan")).to_contain_text("按计划")
    assert Visit.objects.filter(key_person=grid["overdue"]).count() == 1
    assert KeyPersonView.objects.filter(key_person=grid["overdue"]).count() >= 2

    page.get_by_role("link", name="重点人员").first.click()
    page.get_by_role("link", name="已逾期 0").click()
    expect(page.locator("#key-persons")).to_have_count(0)
    expect(page.get_by_text("没有逾期未走访的重点人员。")).to_be_visible()
    shot(page, "kp-worker-after-visit-360")

    # 列管: find 司马光 by name in the grid, then the plan.
    page.get_by_role("link", name="列管重点人员").click()
    page.get_by_label("姓名或身份证号").fill("司马")
    page.get_by_role("button", name="查找").click()
    page.locator("#kp-candidates li", has_text="司马光").get_by_role("link", name="列为重点人员").click()
    page.get_by_label("信访重点").check()
    page.get_by_label("中风险").check()
    page.get_by_label("帮扶管控措施").fill("每半月上门了解诉求，协调村调委会化解。")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shot(page, "kp-worker-list-form-360")
    page.get_by_role("button", name="列管").click()
    expect(page.get_by_text("已将司马光列为重点人员。")).to_be_visible()
    expect(page.locator("#kp-plan")).to_contain_text("每15天")


def test_the_command_centre_lists_opens_and_is_warned(new_page, live_server, grid, make_staff, shot):
    make_staff("李调度", grid["tree"]["town"], Role.DISPATCHER)
    analytics_services.refresh_warnings()
    page = new_page(width=1920, height=1080)
    log_in(page, live_server, "李调度", "command")
    page.goto(live_server.url + "/command/key-persons/")
    table = page.get_by_role("region", name="重点人员")
    expect(table.locator("tbody tr")).to_have_count(2)
    expect(table.locator("tbody tr").first).to_contain_text(NAME)
    expect(page.locator("#kp-by-risk")).to_contain_text("高风险 1")
    shot(page, "kp-command-list-1920")
    table.get_by_role("link", name=NAME).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(NAME)
    expect(page.locator("#kp-viewers")).to_contain_text("李调度")
    shot(page, "kp-command-record-1920")
    page.goto(live_server.url + "/command/warnings/?kind=unvisited_key_person")
    row = page.get_by_role("region", name="风险预警").locator("tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(NAME)
    expect(row).to_contain_text("已逾期3天")
    shot(page, "kp-command-warnings-1920")
