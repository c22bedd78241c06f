"""A township dispatcher's 全部事件 (issue 11) on a 360 px phone and a 1920 px screen: filter by keyword, export
what the filter shows, and see a notice of a new case appear while the page is open, without the table moving;
the notice's link then shows it."""

import io
import re

import openpyxl
import pytest
from playwright.sync_api import expect

from e2e.test_command_tables import SIZES, WRAPPED_NUMBERS, sign_in
from gongzhi.accounts.models import Role
from gongzhi.cases.factories import act, make_categories, make_resident, report
from gongzhi.cases.workflow import Action
from gongzhi.org.factories import make_tree

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def desk(make_staff):
    tree = make_tree()
    cats = make_categories()
    resident = make_resident("res", "王秀兰", tree["grid"])
    dispatcher = make_staff("李调度", tree["town"], Role.DISPATCHER)
    lamps = []
    for n, text in enumerate(["村口路灯坏了一个月，晚上看不见路。", "水渠堵塞，雨天积水漫进院子。",
                              "小学门口路灯不亮，孩子放学看不清路。", "邻里因宅基地边界发生争执。"]):
        case = report(resident, cats["env"], description=text)
        if n % 2:
            act(dispatcher, case, Action.ACCEPT)
        if "路灯" in text:
            lamps.append(case)
    return {"dispatcher": dispatcher, "resident": resident, "cats": cats, "lamps": lamps}


def let_time_pass(page, *, until, steps: int = 20) -> None:
    """Move the page's clock on 5 s at a time, letting each poll's answer arrive (real time), until `until()`."""
    for _step in range(steps):
        page.clock.run_for(5_000)
        page.wait_for_timeout(250)
        if until():
            return


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_a_dispatcher_filters_exports_and_is_told_of_a_new_case(new_page, live_server, desk, shot, tmp_path,
                                                                 width, height):
    page = new_page(width=width, height=height, accept_downloads=True)
    page.clock.install()  # the poll's 15 s pass at the test's command
    sign_in(page, live_server.url, desk["dispatcher"])
    page.goto(live_server.url + "/command/cases/")
    page.get_by_label("关键词").fill("路灯")
    page.get_by_role("button", name="筛选").click()
    expect(page).to_have_url(re.compile(r"q=%E8%B7%AF%E7%81%AF"))
    rows = page.get_by_role("region", name="全部事件").locator("tbody tr")
    expect(rows).to_have_count(2)
    shown = [rows.nth(i).locator("td").nth(1).inner_text().split()[0] for i in range(2)]
    assert shown == [c.number for c in reversed(desk["lamps"])]
    table = page.locator("table.data")
    assert table.evaluate(WRAPPED_NUMBERS) == [], f"numbers broken at {width} px"
    assert page.evaluate("document.documentElement.scrollWidth") <= width, f"the page overflows at {width} px"
    shot(page, f"case-list-filtered-{width}")

    with page.expect_download() as download:
        page.get_by_role("link", name="导出Excel").click()
    path = tmp_path / "export.xlsx"
    download.value.save_as(path)
    sheet = openpyxl.load_workbook(io.BytesIO(path.read_bytes()), read_only=True).active
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == shown

    notice = page.get_by_role("status").filter(has_text="新事件")
    with page.expect_response(re.compile(r"/command/cases/poll/")) as polled:
        page.clock.run_for(16_000)
    assert polled.value.status == 204
    expect(notice).to_be_hidden()
    new = report(desk["resident"], desk["cats"]["env"], description="河边路灯杆倒了。")
    report(desk["resident"], desk["cats"]["env"], description="垃圾没人清运。")  # not what the list shows
    let_time_pass(page, until=notice.is_visible)
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("有1件新事件")
    expect(rows).to_have_count(2)  # the table stays as it was until asked
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shot(page, f"case-list-new-case-{width}")
    notice.get_by_role("link", name="刷新列表").click()
    expect(rows).to_have_count(3)
    expect(rows.first.locator("td").nth(1)).to_have_text(new.number)
    expect(notice).to_be_hidden()
