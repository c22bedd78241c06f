"""The whole loop of a case in the browser: the resident reports (with a photo) and rates on the resident
pages, staff accept, dispatch, sign, complete, visit and close on the command-centre and worker pages. The
resident signs in through a session made by Django's test client (the SMS-code login has its own tests)."""

import io
import re

import pytest
from django.test import Client
from PIL import Image
from playwright.sync_api import expect

from gongzhi.accounts.models import Role, User
from gongzhi.cases.factories import make_categories
from gongzhi.cases.models import Case
from gongzhi.org.factories import make_tree

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "Gongzhi#2026"


def log_in(page, url: str, username: str) -> None:
    page.goto(url)
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def test_whole_case_loop(new_page, live_server, make_staff, shot):
    tree = make_tree()
    make_categories()
    resident = User.objects.create_user(username="res", password=PASSWORD, real_name="王小明",
                                        kind=User.Kind.RESIDENT)
    make_staff("调度员", tree["town"], Role.DISPATCHER)
    make_staff("司法所", tree["justice"], Role.DEPT_HANDLER)
    make_staff("网格员", tree["grid"], Role.GRID_WORKER)
    session = Client()
    session.force_login(resident)
    mobile = new_page()
    mobile.context.add_cookies([{"name": "sessionid", "value": session.cookies["sessionid"].value,
                                 "url": live_server.url}])
    mobile.goto(f"{live_server.url}/cases/new/")
    mobile.get_by_label("事件类型").select_option(label="矛盾纠纷")  # two steps: type, then matter
    mobile.get_by_label("具体事项").select_option(label="婚姻家庭纠纷")
    mobile.get_by_label("要说的事").fill("邻里因宅基地边界发生争执。")
    photo = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 40, 40)).save(photo, "JPEG")
    mobile.locator("input[name=photos]").set_input_files(
        [{"name": "p.jpg", "mimeType": "image/jpeg", "buffer": photo.getvalue()}])
    mobile.get_by_label("纬度").fill("35.585")
    mobile.get_by_label("经度").fill("104.605")
    mobile.get_by_role("button", name="提交").click()
    expect(mobile).to_have_url(re.compile(r".*/cases/\d+/$"))
    case = Case.objects.get(reporter=resident)
    assert case.attachments.count() == 1
    command_url = f"{live_server.url}/command/cases/{case.pk}/"

    desk = new_page(width=1366, height=900)
    log_in(desk, f"{live_server.url}/command/login/?next=/command/cases/intake/", "调度员")
    desk.get_by_role("link", name=case.number).click()
    desk.locator("#action-accept").get_by_role("button", name="受理").click()
    expect(desk.locator("#case-status")).to_contain_text("已受理", use_inner_text=True)
    dispatch = desk.locator("#action-dispatch")
    dispatch.get_by_label("主办单位").select_option(label="八里镇司法所")
    dispatch.get_by_role("button", name="派单").click()
    expect(desk.locator("#case-status")).to_contain_text("已派单", use_inner_text=True)
    shot(desk, "case-dispatched")

    handler = new_page(width=1366, height=900)
    log_in(handler, f"{live_server.url}/command/login/?next=/command/cases/{case.pk}/", "司法所")
    handler.locator("#action-sign").get_by_role("button", name="签收").click()
    expect(handler.locator("#case-status")).to_contain_text("正在办理", use_inner_text=True)
    complete = handler.locator("#action-complete")
    expect(complete).to_have_attribute("open", "")  # after 签收 the next step, 办结, is the open form
    complete.get_by_label("说明").fill("经调解双方达成协议。")
    complete.get_by_role("button", name="办结").click()
    expect(handler.locator("#case-status")).to_contain_text("已办结", use_inner_text=True)

    phone = new_page()
    log_in(phone, f"{live_server.url}/command/login/?next=/worker/cases/", "网格员")
    phone.get_by_role("link", name=case.category.name).first.click()
    visit = phone.locator("#action-visit")
    visit.get_by_label("电话回访").check()
    visit.get_by_label("已解决").check()
    visit.get_by_label("回访情况").fill("当事人表示问题已解决。")
    visit.get_by_role("button", name="回访").click()
    expect(phone.locator("#case-status")).to_contain_text("已回访", use_inner_text=True)
    phone.wait_for_load_state()  # its stylesheet applied before measuring
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    shot(phone, "worker-visit")

    desk.goto(command_url)
    desk.locator("#action-close").get_by_role("button", name="结案").click()
    expect(desk.locator("#case-status")).to_contain_text("已完成", use_inner_text=True)

    mobile.goto(f"{live_server.url}/cases/{case.pk}/")
    mobile.get_by_label("满意", exact=True).check()
    mobile.get_by_role("button", name="提交评价").click()
    expect(mobile.locator(".messages")).to_contain_text("感谢您的评价", use_inner_text=True)  # saved
    desk.goto(command_url)
    timeline = desk.locator("#timeline")
    for step in ["上报", "受理", "派单", "签收", "办结", "回访确认", "结案", "评价"]:
        expect(timeline).to_contain_text(step, use_inner_text=True)
    expect(desk.locator("#case-status")).to_contain_text("已评价", use_inner_text=True)
    expect(desk.locator(".attachments img")).to_have_count(1)
    shot(desk, "case-timeline")
