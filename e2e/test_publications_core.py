"""公开 in the browser: 小山村's village administrator on a 360 px phone writes a 村情动态 open to moderated
comments and publishes it; a resident of the village finds it on the home page, opens it and asks a question; the
administrator answers it and the resident reads the answer. A 红黑榜 needs the township: the village submits it,
八里镇's dispatcher at a 1920 px desk finds it by the 公开 count, is refused a return without a reason, approves it."""

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from gongzhi.publications.factories import make_pub_world
from gongzhi.publications.models import Comment, Publication, Status
from gongzhi.publications.services import core

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ACCEL_REDIRECT = ""


@pytest.fixture
def pub(tree):
    return make_pub_world(tree)


def sign_in(page, base_url: str, user) -> None:
    client = Client()
    client.force_login(user)
    page.context.clear_cookies()
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "url": base_url,
                               "value": client.cookies[settings.SESSION_COOKIE_NAME].value}])


def _no_sideways_scroll(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_a_notice_from_the_village_to_its_residents_and_back(new_page, live_server, pub, shot):
    base = live_server.url
    staff = new_page(width=360, height=740)
    sign_in(staff, base, pub.village_admin)
    staff.goto(base + "/worker/")
    staff.get_by_role("navigation", name="主导航").get_by_role("link", name="公开").click()
    expect(staff.get_by_role("heading", name="公开事项")).to_be_visible()
    staff.get_by_role("link", name="村情动态").click()
    expect(staff.get_by_role("heading", name="新建村情动态")).to_be_visible()
    staff.get_by_role("button", name="保存草稿").click()
    expect(staff.get_by_text("请填写标题")).to_be_visible()
    staff.get_by_label("标题").fill("村道硬化工程下周开工")
    staff.get_by_label("正文").fill("村东头至小学段道路硬化，施工期间请绕行。\n有意见请留言。")
    staff.get_by_label("标签").fill("村道 施工")
    staff.get_by_label("群众评论").select_option("moderated")
    shot(staff, "worker-publication-new-360")
    _no_sideways_scroll(staff, 360)
    staff.get_by_role("button", name="保存草稿").click()
    expect(staff.get_by_text("草稿已保存")).to_be_visible()
    staff.get_by_role("button", name="发布").click()
    expect(staff.get_by_text("已发布，群众现在可以看到。")).to_be_visible()
    shot(staff, "worker-publication-detail-360")
    _no_sideways_scroll(staff, 360)
    item = Publication.objects.get()
    assert item.status == Status.PUBLISHED

    resident = new_page(width=360, height=740)
    sign_in(resident, base, pub.resident)
    resident.goto(base + "/")
    resident.get_by_role("link", name="村道硬化工程下周开工").click()
    expect(resident.get_by_role("heading", name="村道硬化工程下周开工")).to_be_visible()
    resident.get_by_label("我要留言").fill("施工期间三轮车能过吗？")
    resident.get_by_role("button", name="提交留言").click()
    expect(resident.get_by_text("留言已提交，经工作人员审核后公开显示。")).to_be_visible()
    expect(resident.get_by_text("审核中")).to_be_visible()
    shot(resident, "resident-publication-360")
    _no_sideways_scroll(resident, 360)

    staff.reload()
    staff.locator("#comments summary", has_text="答复").click()
    staff.get_by_label("答复").fill("可以，靠右侧通行。")
    staff.get_by_role("button", name="提交答复").click()
    expect(staff.get_by_text("已答复，留言已显示。")).to_be_visible()
    assert Comment.objects.get().state == Comment.State.VISIBLE

    resident.reload()
    expect(resident.get_by_text("可以，靠右侧通行。")).to_be_visible()
    resident.goto(base + "/public/notices/?tag=村道")
    expect(resident.locator("#publications li")).to_have_count(1)
    shot(resident, "resident-public-notices-360")


def test_the_township_reviews_a_village_board_at_the_desk(new_page, live_server, pub, tree, shot):
    board = core.create_draft(actor=pub.village_admin, kind="board", author_unit=tree["village"],
                              title="小山村2026年第四季度红黑榜")
    core.submit(actor=pub.village_admin, publication=board)
    base = live_server.url
    desk = new_page(width=1920, height=1080)
    sign_in(desk, base, pub.dispatcher)
    desk.goto(base + "/command/")
    link = desk.get_by_role("link", name="公开")
    expect(link.get_by_role("img", name="1条公开事项待审核")).to_be_visible()
    link.click()
    desk.get_by_role("link", name="待我审核").click()
    desk.get_by_role("link", name="小山村2026年第四季度红黑榜").click()
    desk.locator("summary", has_text="退回修改").click()
    desk.get_by_role("button", name="退回修改").click()
    expect(desk.get_by_text("请填写原因。")).to_be_visible()
    desk.get_by_role("button", name="审核通过并发布").click()
    expect(desk.get_by_text("已审核通过并发布。")).to_be_visible()
    shot(desk, "command-publication-approved-1920")
    _no_sideways_scroll(desk, 1920)
    board.refresh_from_db()
    assert board.status == Status.PUBLISHED
