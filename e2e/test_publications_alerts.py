"""紧急通知 in the browser: 八里镇's dispatcher at a 1920 px desk sends a 寻人启事 to 小山村; a resident of the village
on a 360 px phone sees the red banner and the alert in 消息, opens it (read); the dispatcher sees how many residents
it reached and how many texts went out. A resident of 大湾村 sees nothing."""

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from gongzhi.accounts.models import DevSmsMessage
from gongzhi.publications.factories import make_pub_world
from gongzhi.publications.models import AlertDelivery, Publication, ReadMark, Status

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def pub(tree):
    world = make_pub_world(tree)
    for user, phone in ((world.resident, "13800000001"), (world.neighbour, "13800000002"),
                        (world.village2_resident, "13800000003")):
        user.phone = phone
        user.save()
    return world


def sign_in(page, base_url: str, user) -> None:
    client = Client()
    client.force_login(user)
    page.context.clear_cookies()
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "url": base_url,
                               "value": client.cookies[settings.SESSION_COOKIE_NAME].value}])


def test_an_urgent_alert_reaches_the_village_at_once(new_page, live_server, pub, tree, shot):
    base = live_server.url
    desk = new_page(width=1920, height=1080)
    sign_in(desk, base, pub.dispatcher)
    desk.goto(base + "/command/")
    desk.get_by_role("link", name="公开").first.click()
    desk.get_by_role("link", name="紧急通知").first.click()
    expect(desk.get_by_role("heading", name="新建紧急通知")).to_be_visible()
    desk.get_by_label("公开范围").select_option(str(tree["village"].pk))
    desk.get_by_label("标题").fill("寻人启事：小山村走失老人")
    desk.get_by_label("正文").fill("王大爷，78岁，身穿蓝色棉袄，今早离家未归。有线索请联系村委会或拨打110。")
    desk.get_by_role("button", name="保存草稿").click()
    expect(desk.get_by_text("发布后，紧急通知会即时显示")).to_be_visible()
    desk.get_by_role("button", name="发布").click()
    expect(desk.get_by_text("已发布，群众现在可以看到。")).to_be_visible()
    alert = Publication.objects.get(kind="alert")
    assert alert.status == Status.PUBLISHED

    phone = new_page(width=360, height=740)
    sign_in(phone, base, pub.resident)
    phone.goto(base + "/messages/")
    banner = phone.get_by_role("alert").filter(has_text="寻人启事：小山村走失老人")
    expect(banner).to_be_visible()
    expect(phone.locator("#inbox li", has_text="寻人启事：小山村走失老人")).to_be_visible()
    expect(phone.get_by_text("1条未读")).to_be_visible()
    shot(phone, "resident-alert-inbox-360")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    phone.locator("#inbox li", has_text="寻人启事").get_by_role("link", name="查看").click()
    expect(phone.get_by_role("heading", name="寻人启事：小山村走失老人")).to_be_visible()
    expect(phone.get_by_text("这是一条紧急通知")).to_be_visible()
    assert ReadMark.objects.filter(user=pub.resident, publication=alert).exists()

    other = new_page(width=360, height=740)
    sign_in(other, base, pub.village2_resident)
    other.goto(base + "/messages/")
    expect(other.get_by_text("寻人启事")).to_have_count(0)

    # The texts went out through the worker (inline in tests); the sender sees the counts.
    desk.reload()
    counts = desk.locator("#alert-delivery")
    expect(counts.locator('[data-count="recipients"]')).to_have_text("2")
    expect(counts.locator('[data-count="sent"]')).to_have_text("2")
    expect(counts.locator('[data-count="failed"]')).to_have_text("0")
    expect(counts.get_by_text("发送完成")).to_be_visible()
    shot(desk, "command-alert-delivery-1920")
    assert DevSmsMessage.objects.count() == 2
    assert AlertDelivery.objects.get(publication=alert).state == AlertDelivery.State.DONE
