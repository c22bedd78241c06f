"""延期 and 归档 in the browser: the handling department asks for more time on its case page, the township's
dispatcher finds the request under 待审批延期 and approves it, and the new limit shows on both pages (each side
in its own browser context, with its own session); an archived case is found under 已归档 and by its number.
Pages are checked and photographed at phone (360 px) and desk (1920 px) width."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from gongzhi.accounts.models import Role, User
from gongzhi.cases.factories import act, make_categories, report
from gongzhi.cases.models import Case, ExtensionRequest
from gongzhi.cases.sweep import run_sweep
from gongzhi.cases.workflow import Action
from gongzhi.core import workcalendar
from gongzhi.org.factories import make_tree

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "Gongzhi#2026"
PHONE, DESK = 360, 1920


def log_in(page, url: str, username: str) -> None:
    page.goto(url)
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def fits(page, width: int) -> None:
    page.wait_for_load_state()  # its stylesheet applied before measuring
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def both_widths(page, shot, name: str) -> None:
    """Screenshots of the page at phone and desk width, checking it never scrolls sideways."""
    for width in (PHONE, DESK):
        page.set_viewport_size({"width": width, "height": 900})
        fits(page, width)
        shot(page, f"{name}-{width}")


def test_a_handler_asks_for_more_time_and_the_dispatcher_approves_it(new_page, live_server, make_staff, shot):
    tree = make_tree()
    cats = make_categories()
    resident = User.objects.create_user(username="res", password=PASSWORD, real_name="王小明",
                                        kind=User.Kind.RESIDENT)
    dispatcher = make_staff("调度员", tree["town"], Role.DISPATCHER)
    handler = make_staff("司法所", tree["justice"], Role.DEPT_HANDLER)
    case = report(resident, cats["family"], description="邻里因宅基地边界发生争执，需要测量后调解。")
    act(dispatcher, case, Action.ACCEPT)
    act(dispatcher, case, Action.DISPATCH, lead_unit=tree["justice"])
    act(handler, case, Action.SIGN)
    case.refresh_from_db()
    day = timezone.localtime(workcalendar.add_working_days(case.handle_due, 5)).date()
    case_path = f"/command/cases/{case.pk}/"

    # The department, on a phone: 申请延期 with a reason and a date.
    phone = new_page(width=PHONE, height=740)
    log_in(phone, f"{live_server.url}/command/login/?next={case_path}", "司法所")
    form = phone.locator("#action-request_extension")
    form.locator("summary").click()
    form.get_by_label("申请延期至").fill(day.isoformat())
    form.get_by_label("延期理由").fill("需等待国土所测量宅基地边界后再组织调解。")
    both_widths(phone, shot, "extension-request-form")
    phone.set_viewport_size({"width": PHONE, "height": 740})
    form.get_by_role("button", name="申请延期").click()
    expect(phone.locator(".messages")).to_contain_text("延期申请已提交，等待审批。", use_inner_text=True)
    expect(phone.locator("#extensions")).to_contain_text("待审批", use_inner_text=True)
    expect(phone.locator("#extensions")).to_contain_text(f"{day:%Y-%m-%d} 17:30", use_inner_text=True)
    expect(phone.locator("#action-request_extension")).to_have_count(0)  # one request at a time
    expect(phone.locator("#action-approve_extension")).to_have_count(0)  # not the handler's to decide
    both_widths(phone, shot, "extension-requested")

    # The township's dispatcher, at a desk: 待审批延期 → the case → 批准延期.
    desk = new_page(width=DESK, height=1000)
    log_in(desk, f"{live_server.url}/command/login/?next=/command/cases/intake/", "调度员")
    desk.get_by_role("link", name="待审批延期").click()
    expect(desk).to_have_url(re.compile(r".*/command/cases/extensions/$"))
    expect(desk.locator("table.data")).to_contain_text(f"{day:%Y-%m-%d} 17:30", use_inner_text=True)
    both_widths(desk, shot, "extension-pending-list")
    desk.set_viewport_size({"width": DESK, "height": 1000})
    desk.get_by_role("link", name=case.number).click()
    expect(desk.locator("#extensions")).to_contain_text("需等待国土所测量", use_inner_text=True)
    expect(desk.locator("#action-request_extension")).to_have_count(0)
    approve = desk.locator("#action-approve_extension")
    expect(approve).to_have_attribute("open", "")  # a waiting request: its decision is the form shown open
    approve.get_by_label("审批意见").fill("同意延期，请测量后尽快调解。")
    both_widths(desk, shot, "extension-decision-form")
    desk.set_viewport_size({"width": DESK, "height": 1000})
    approve.get_by_role("button", name="批准延期").click()
    expect(desk.locator(".messages")).to_contain_text("已批准延期，办理期限已更新。", use_inner_text=True)
    expect(desk.locator(".case-facts")).to_contain_text(f"{day:%Y-%m-%d} 17:30", use_inner_text=True)
    expect(desk.locator("#extensions")).to_contain_text("已批准", use_inner_text=True)
    expect(desk.locator("#timeline")).to_contain_text("批准延期", use_inner_text=True)
    both_widths(desk, shot, "extension-approved")

    # The department sees the new limit and the decision.
    phone.reload()
    expect(phone.locator(".case-facts")).to_contain_text(f"{day:%Y-%m-%d} 17:30", use_inner_text=True)
    expect(phone.locator("#extensions")).to_contain_text("同意延期", use_inner_text=True)
    assert ExtensionRequest.objects.get().decision == "approved"
    assert timezone.localtime(Case.objects.get(pk=case.pk).handle_due).date() == day


def test_an_archived_case_is_found_under_its_filter_and_by_number(new_page, live_server, make_staff, shot):
    tree = make_tree()
    cats = make_categories()
    resident = User.objects.create_user(username="res", real_name="王小明", kind=User.Kind.RESIDENT)
    dispatcher = make_staff("调度员", tree["town"], Role.DISPATCHER)
    handler = make_staff("司法所", tree["justice"], Role.DEPT_HANDLER)
    case = report(resident, cats["env"], description="村口垃圾堆放多日无人清运。")
    act(dispatcher, case, Action.ACCEPT)
    act(dispatcher, case, Action.DISPATCH, lead_unit=tree["justice"])
    for actor, action in [(handler, Action.SIGN), (handler, Action.COMPLETE), (dispatcher, Action.CONFIRM),
                          (dispatcher, Action.CLOSE), (resident, Action.RATE)]:
        act(actor, case, action)
    assert run_sweep().archived == 1

    desk = new_page(width=DESK, height=1000)
    log_in(desk, f"{live_server.url}/command/login/?next=/command/cases/", "调度员")
    expect(desk.locator("main")).not_to_contain_text(case.number)
    desk.get_by_label("归档").select_option(label="已归档")
    desk.get_by_role("button", name="筛选").click()
    expect(desk.locator("table.data")).to_contain_text(case.number, use_inner_text=True)
    expect(desk.locator("h1")).to_have_text("已归档事件")
    both_widths(desk, shot, "archived-list")
    desk.set_viewport_size({"width": DESK, "height": 1000})
    desk.goto(f"{live_server.url}/command/cases/")
    desk.get_by_label("事件编号").fill(case.number)
    desk.get_by_role("search", name="按编号查找").get_by_role("button", name="查找").click()
    expect(desk).to_have_url(re.compile(rf".*/command/cases/{case.pk}/$"))
    expect(desk.locator("#case-archived")).to_be_visible()
    expect(desk.locator("#timeline")).to_contain_text("归档", use_inner_text=True)
    both_widths(desk, shot, "archived-case")
