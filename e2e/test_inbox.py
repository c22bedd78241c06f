"""The message inbox in a real browser: badge, inbox page, following a message, on a 360 px phone."""

import re

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from gongzhi.accounts.models import Role, User
from gongzhi.cases.factories import make_categories, report
from gongzhi.notifications.services import notify
from gongzhi.org.factories import make_tree

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NOT_HAN = "[^\u4e00-\u9fff]*"


def han_text(label: str) -> re.Pattern:
    """A text whose Chinese characters spell label, whatever icons, digits or badges come around them."""
    return re.compile(f"^{NOT_HAN}{NOT_HAN.join(map(re.escape, label))}{NOT_HAN}$")


def sign_in(page, live_server, user) -> None:
    """Sign in by handing the browser a session (the SMS login itself is covered in test_resident.py)."""
    client = Client()
    client.force_login(user)
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "url": live_server.url,
                               "value": client.cookies[settings.SESSION_COOKIE_NAME].value}])


def test_resident_follows_a_message_and_the_badge_drops(page, live_server, shot):
    make_tree()
    resident = User.objects.create_user(username="张三", real_name="张三", kind=User.Kind.RESIDENT)
    case = report(resident, make_categories()["env"])
    notify(recipients=[resident], kind="case.accepted", title="您反映的问题已受理",
           body="您反映的“小山村一社路灯不亮”已受理，网格员将在3个工作日内处理。", target_id=case.pk)
    notify(recipients=[resident], kind="system.message", title="村务公开：二〇二六年一月财务收支",
           body="小山村村务监督委员会已公开一月份财务收支情况，欢迎查阅。")
    sign_in(page, live_server, resident)
    page.goto(live_server.url + "/")
    badge = page.locator(".topbar .unread-badge")
    expect(badge).to_have_text("2", use_inner_text=True)
    expect(badge).to_have_attribute("aria-label", "2条未读消息")

    page.get_by_role("link", name="消息").click()
    expect(page).to_have_url(live_server.url + "/messages/")
    items = page.locator("#inbox .inbox-item")
    expect(items).to_have_count(2)
    expect(page.locator("#inbox .is-unread")).to_have_count(2)
    expect(items.first).to_contain_text("刚刚", use_inner_text=True)
    page.wait_for_load_state()  # its stylesheet applied before measuring
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shot(page, "resident-inbox")

    items.filter(has_text="您反映的问题已受理").get_by_role("button", name="查看").click()
    expect(page).to_have_url(live_server.url + f"/cases/{case.pk}/")  # the case, in the resident's own portal
    expect(badge).to_have_text("1", use_inner_text=True)
    expect(badge).to_have_attribute("aria-label", "1条未读消息")

    page.get_by_role("link", name="消息").click()
    expect(page.locator("#inbox .is-unread")).to_have_count(1)
    expect(page.locator("#inbox .is-unread")).not_to_contain_text("您反映的问题已受理", use_inner_text=True)
    # Large type (适老化) still fits a 360 px phone.
    page.get_by_role("button", name="大字模式").click()
    # The toggle sits in the footer, at the end of the page: once it reads pressed, the new page is all there.
    expect(page.get_by_role("button", name="大字模式")).to_have_attribute("aria-pressed", "true")
    expect(page).to_have_url(live_server.url + "/messages/")
    expect(page.locator("html")).to_contain_class("large-type")
    page.wait_for_load_state()  # its stylesheet applied before measuring
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shot(page, "resident-inbox-large-type")

    page.get_by_role("button", name="全部标为已读").click()
    expect(page).to_have_url(live_server.url + "/messages/")
    expect(items).to_have_count(2)  # the new page's list: both still there, now read
    expect(page.locator("#inbox .is-unread")).to_have_count(0)
    expect(badge).to_have_count(0)


def test_staff_portals_show_the_badge_and_the_inbox(new_page, live_server, make_staff, shot):
    tree = make_tree()
    worker = make_staff("王网格", tree["grid"], Role.GRID_WORKER)
    notify(recipients=[worker], kind="system.message", title="新任务：小山村一社路灯不亮",
           body="请在2个工作日内到场核实处理。")
    page = new_page()
    sign_in(page, live_server, worker)
    page.goto(live_server.url + "/worker/")
    nav = page.locator(".bottom-nav a")
    labels = ["网格", "巡查", "任务", "消息", "我的"]
    expect(nav).to_have_text([han_text(label) for label in labels], use_inner_text=True)
    expect(page.locator(".bottom-nav .unread-badge")).to_have_attribute("aria-label", "1条未读消息")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shot(page, "worker-nav")
    nav.nth(3).click()
    expect(page).to_have_url(live_server.url + "/worker/messages/")
    expect(nav.nth(3)).to_have_attribute("aria-current", "page")
    shot(page, "worker-inbox")

    dispatcher = make_staff("调度员", tree["town"], Role.DISPATCHER)
    notify(recipients=[dispatcher], kind="case.limits_due", title="事件办理时限提醒",
           body="即将到期1件，已超期0件，请及时处理。")
    page = new_page(width=1366, height=900)
    sign_in(page, live_server, dispatcher)
    page.goto(live_server.url + "/command/")
    header = page.locator(".desk-header")
    expect(header.get_by_role("link", name="消息").locator(".unread-badge")).to_have_text("1", use_inner_text=True)
    shot(page, "command-header")
    header.get_by_role("link", name="消息").click()
    expect(page).to_have_url(live_server.url + "/command/messages/")
    shot(page, "command-inbox")
    page.get_by_role("button", name="查看").click()
    expect(page).to_have_url(live_server.url + "/command/cases/")  # the digest opens the cases, red and yellow first
    expect(page.get_by_role("heading", level=1)).to_be_visible()  # the new page, down to its main content
    expect(header.locator(".unread-badge")).to_have_count(0)
