"""考核评价 in the browser: a county dispatcher reads the county's figures, drills down to a township, and
downloads the Excel file, which opens with openpyxl; anyone reads the township's public page. Pages are checked
and photographed at phone (360 px) and desk (1920 px) width."""

import io

import pytest
from django.utils import timezone
from openpyxl import load_workbook
from playwright.sync_api import expect

from gongzhi.accounts.models import Role, User
from gongzhi.analytics import rollups
from gongzhi.cases.factories import act, make_categories, report
from gongzhi.cases.workflow import Action
from gongzhi.org.factories import make_tree

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "Gongzhi#2026"
PHONE, DESK = 360, 1920


def both_widths(page, shot, name: str) -> None:
    for width in (PHONE, DESK):
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_load_state()
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        shot(page, f"{name}-{width}")


def test_a_county_dispatcher_reads_ranks_drills_down_and_exports(new_page, live_server, make_staff, shot):
    tree = make_tree()
    cats = make_categories()
    resident = User.objects.create_user(username="res", real_name="王小明", kind=User.Kind.RESIDENT)
    dispatcher = make_staff("乡镇调度员", tree["town"], Role.DISPATCHER)
    make_staff("县调度员", tree["county"], Role.DISPATCHER)
    handler = make_staff("司法所干事", tree["justice"], Role.DEPT_HANDLER)
    for i in range(11):
        case = report(resident, cats["env"])
        act(dispatcher, case, Action.ACCEPT)
        if i < 8:
            act(dispatcher, case, Action.DISPATCH, lead_unit=tree["justice"])
            act(handler, case, Action.SIGN)
            act(handler, case, Action.COMPLETE)
    rollups.catch_up()

    page = new_page(width=DESK, height=900)
    page.goto(f"{live_server.url}/command/login/?next=/command/assessment/")
    page.get_by_label("用户名").fill("县调度员")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="安定区 考核评价")).to_be_visible()
    tiles = page.locator(".kpi-tile")
    expect(tiles.filter(has_text="按时办结率")).to_contain_text("100.0%")
    expect(tiles.filter(has=page.get_by_text("办结率", exact=True))).to_contain_text("8/11")
    both_widths(page, shot, "assessment-county")

    page.locator("#rank-areas").get_by_role("link", name="八里镇").click()
    expect(page.get_by_role("heading", name="八里镇 考核评价")).to_be_visible()
    expect(page.locator("#rank-units")).to_contain_text("八里镇司法所")
    expect(page.locator("#rank-workers")).to_contain_text("司法所干事")
    with page.expect_download() as downloaded:
        page.get_by_role("link", name="导出Excel", exact=True).click()
    book = load_workbook(io.BytesIO(open(downloaded.value.path(), "rb").read()), read_only=True)
    assert {"指标", "部门", "人员"} <= set(book.sheetnames)
    both_widths(page, shot, "assessment-township")

    page.set_viewport_size({"width": DESK, "height": 900})
    page.get_by_role("link", name="月度督查通报（可打印、导出Excel）").click()
    page.get_by_label("通报月份").fill(f"{timezone.localdate():%Y-%m}")
    page.get_by_role("button", name="查看").click()
    expect(page.locator("h1")).to_contain_text("督查通报")
    expect(page.locator("#overdue")).to_have_count(0)  # nothing overdue in this county
    expect(page.get_by_role("button", name="打印")).to_be_visible()
    page.emulate_media(media="print")
    expect(page.locator("header")).to_be_hidden()
    shot(page, "monthly-report-print")
    page.emulate_media(media="screen")
    both_widths(page, shot, "monthly-report")

    public = new_page(width=PHONE, height=900)
    public.goto(f"{live_server.url}/public/assessment/")
    public.get_by_role("link", name="八里镇").click()
    expect(public.get_by_role("heading", name="八里镇 办理情况")).to_be_visible()
    expect(public.locator("#rank-units")).to_contain_text("八里镇司法所")
    expect(public.locator("body")).not_to_contain_text("司法所干事")
    both_widths(public, shot, "assessment-public")
