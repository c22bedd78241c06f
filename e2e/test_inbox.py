"""The message inbox in a real browser: badge, inbox page, following a message, on a 360 px phone."""

import re

import pytest
from django.conf import settings
from django.test import Client

from gongzhi.accounts.models import Role, User
from gongzhi.cases.factories import make_categories, report
from gongzhi.notifications.services import notify
from gongzhi.org.factories import make_tree

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


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
    assert badge.inner_text() == "2"
    assert badge.get_attribute("aria-label") == "2条未读消息"

    page.get_by_role("link", name="消息").click()
    page.wait_for_url(live_server.url + "/messages/")
    items = page.locator("#inbox .inbox-item")
    assert items.count() == 2 and page.locator("#inbox .is-unread").count() == 2
    assert "刚刚" in items.first.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shot(page, "resident-inbox")

    items.filter(has_text="您反映的问题已受理").get_by_role("button", name="查看").click()
    page.wait_for_url(live_server.url + f"/cases/{case.pk}/")  # the case, in the resident's own portal
    assert badge.inner_text() == "1"
    assert badge.get_attribute("aria-label") == "1条未读消息"

    page.get_by_role("link", name="消息").click()
    assert page.locator("#inbox .is-unread").count() == 1
    assert "您反映的问题已受理" not in page.locator("#inbox .is-unread").inner_text()
    # Large type (适老化) still fits a 360 px phone.
    page.get_by_role("button", name="大字模式").click()
    page.wait_for_url(live_server.url + "/messages/")
    assert page.evaluate("document.documentElement.classList.contains('large-type')")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shot(page, "resident-inbox-large-type")

    page.get_by_role("button", name="全部标为已读").click()
    page.wait_for_url(live_server.url + "/messages/")
    assert page.locator("#inbox .is-unread").count() == 0 and badge.count() == 0


def test_staff_portals_show_the_badge_and_the_inbox(new_page, live_server, make_staff, shot):
    tree = make_tree()
    worker = make_staff("王网格", tree["grid"], Role.GRID_WORKER)
    notify(recipients=[worker], kind="system.message", title="新任务：小山村一社路灯不亮",
           body="请在2个工作日内到场核实处理。")
    page = new_page()
    sign_in(page, live_server, worker)
    page.goto(live_server.url + "/worker/")
    nav = page.locator(".bottom-nav a")
    labels = [re.sub(r"[^\u4e00-\u9fff]", "", text) for text in nav.all_inner_texts()]
    assert labels == ["我的网格", "任务", "消息", "我的"]
    assert page.locator(".bottom-nav .unread-badge").get_attribute("aria-label") == "1条未读消息"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shot(page, "worker-nav")
    nav.nth(2).click()
    page.wait_for_url(live_server.url + "/worker/messages/")
    assert nav.nth(2).get_attribute("aria-current") == "page"
    shot(page, "worker-inbox")

    dispatcher = make_staff("调度员", tree["town"], Role.DISPATCHER)
    notify(recipients=[dispatcher], kind="case.limits_due", title="事件办理时限提醒",
           body="即将到期1件，已超期0件，请及时处理。")
    page = new_page(width=1366, height=900)
    sign_in(page, live_server, dispatcher)
    page.goto(live_server.url + "/command/")
    header = page.locator(".desk-header")
    assert header.get_by_role("link", name="消息").locator(".unread-badge").inner_text() == "1"
    shot(page, "command-header")
    header.get_by_role("link", name="消息").click()
    page.wait_for_url(live_server.url + "/command/messages/")
    shot(page, "command-inbox")
    page.get_by_role("button", name="查看").click()
    page.wait_for_url(live_server.url + "/command/cases/")  # the digest opens the cases, red and yellow first
    assert header.locator(".unread-badge").count() == 0
