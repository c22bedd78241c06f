"""红黑榜 and 建言献策 in the browser. 小山村's village administrator on a 360 px phone puts two households on the
board's red and black lists and submits it; 八里镇's dispatcher at a 1920 px desk approves it; a neighbour sees the
black list with the surname only (李某某) and the legal note, and appeals; the administrator upholds the appeal
and the entry is gone from the board. Then a resident suggests something 可公开, the village replies and
publishes it, and another resident supports it once."""

import datetime

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from gongzhi.publications.factories import make_pub_world
from gongzhi.publications.models import BoardAppeal, BoardEntry, Publication, Status, Suggestion
from gongzhi.publications.services import boards
from gongzhi.web.context_processors import LARGE_TYPE_COOKIE

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


def test_a_board_from_the_village_through_the_township_to_an_appeal(new_page, live_server, pub, tree, shot):
    boards.install_preset_criteria(actor=pub.village_admin, unit=tree["village"])
    board = boards.create_board(actor=pub.village_admin, author_unit=tree["village"],
                                title="小山村2026年第四季度红黑榜",
                                publish_until=timezone.now() + datetime.timedelta(days=30))
    base = live_server.url

    staff = new_page(width=360, height=740)
    sign_in(staff, base, pub.village_admin)
    staff.goto(f"{base}/worker/publications/{board.pk}/")
    expect(staff.get_by_role("heading", name="添加条目")).to_be_visible()
    staff.get_by_label("标准", exact=True).select_option(label="红榜 · 孝老爱亲")
    staff.get_by_label("姓名/户名").fill("王秀兰家")
    staff.get_by_label("事由").fill("常年照顾瘫痪在床的婆婆，十年如一日")
    staff.get_by_role("button", name="添加", exact=True).click()
    expect(staff.get_by_text("已添加到红榜。")).to_be_visible()
    staff.get_by_label("标准", exact=True).select_option(label="黑榜 · 高价彩礼")
    staff.get_by_label("姓名/户名").fill("李大海")
    staff.get_by_label("事由").fill("嫁女索要彩礼28万元，经劝导不改")
    staff.get_by_role("button", name="添加", exact=True).click()
    expect(staff.get_by_text("已添加到黑榜。")).to_be_visible()
    shot(staff, "worker-board-draft-360")
    _no_sideways_scroll(staff, 360)
    staff.get_by_role("button", name="提交审核").click()
    board.refresh_from_db()
    assert board.status == Status.IN_REVIEW

    desk = new_page(width=1920, height=1080)
    sign_in(desk, base, pub.dispatcher)
    desk.goto(f"{base}/command/publications/{board.pk}/")
    expect(desk.get_by_text("李大海")).to_be_visible()
    desk.get_by_role("button", name="审核通过并发布").click()
    expect(desk.get_by_text("已审核通过并发布。")).to_be_visible()
    shot(desk, "command-board-approved-1920")
    _no_sideways_scroll(desk, 1920)

    resident = new_page(width=360, height=740)
    sign_in(resident, base, pub.neighbour)
    resident.goto(f"{base}/public/{board.pk}/")
    expect(resident.get_by_text("王秀兰家")).to_be_visible()
    expect(resident.get_by_text("李某某")).to_be_visible()
    expect(resident.get_by_text("李大海")).to_have_count(0)
    expect(resident.get_by_text("个人信息保护法", exact=False)).to_be_visible()
    shot(resident, "resident-board-360")
    _no_sideways_scroll(resident, 360)
    resident.get_by_role("link", name="申诉").nth(1).click()
    expect(resident.get_by_role("heading", name="红黑榜申诉")).to_be_visible()
    resident.get_by_role("button", name="提交申诉").click()
    expect(resident.get_by_text("请填写申诉理由。")).to_be_visible()
    resident.get_by_label("申诉理由").fill("彩礼是男方自愿给的，且已退回大部分，请村里核实。")
    resident.get_by_role("button", name="提交申诉").click()
    expect(resident.get_by_text("申诉已提交，村里核实后会通知您处理结果。")).to_be_visible()
    expect(resident.get_by_text("您的申诉：待处理")).to_be_visible()
    appeal = BoardAppeal.objects.get()
    assert appeal.appellant == pub.neighbour

    staff.goto(f"{base}/worker/publications/{board.pk}/")
    staff.get_by_label("处理意见").fill("经村“两委”核实，彩礼已退回，撤下该条目。")
    staff.get_by_role("button", name="申诉成立，撤下条目").click()
    expect(staff.get_by_text("申诉已处理，已通知申诉人。")).to_be_visible()
    assert BoardEntry.objects.get(name="李大海").removed_at is not None

    resident.reload()
    expect(resident.get_by_text("李某某")).to_have_count(0)
    expect(resident.get_by_text("王秀兰家")).to_be_visible()

    # In large type (大字模式) the board, the appeal form and the suggestion pages still fit a 360 px phone.
    resident.context.add_cookies([{"name": LARGE_TYPE_COOKIE, "value": "1", "url": base}])
    red_entry = BoardEntry.objects.get(name="王秀兰家")
    for path in (f"/public/{board.pk}/", f"/boards/entries/{red_entry.pk}/appeal/", "/suggestions/",
                 "/suggestions/new/"):
        assert resident.goto(base + path).status == 200, path
        _no_sideways_scroll(resident, 360)


def test_a_suggestion_is_answered_published_and_supported(new_page, live_server, pub, shot):
    base = live_server.url
    author = new_page(width=360, height=740)
    sign_in(author, base, pub.resident)
    author.goto(f"{base}/suggestions/new/")
    expect(author.get_by_role("link", name="上报事件")).to_be_visible()
    author.get_by_label("标题").fill("建议在村口增设路灯")
    author.get_by_label("建议内容").fill("村口到学校一段路晚上没有路灯，老人孩子出门不安全。")
    author.get_by_label("可公开", exact=False).check()
    shot(author, "resident-suggestion-new-360")
    _no_sideways_scroll(author, 360)
    author.get_by_role("button", name="提交建议").click()
    expect(author.get_by_text("建议已提交，村里答复后会通知您。")).to_be_visible()
    item = Publication.objects.get(kind="suggestion")

    staff = new_page(width=360, height=740)
    sign_in(staff, base, pub.village_admin)
    staff.goto(f"{base}/worker/publications/{item.pk}/")
    staff.get_by_label("答复", exact=True).fill("已列入村级公益项目，下月安装太阳能路灯。")
    staff.get_by_role("button", name="答复并公开").click()
    expect(staff.get_by_text("答复已保存，已通知建议人。")).to_be_visible()
    item.refresh_from_db()
    assert item.status == Status.PUBLISHED

    neighbour = new_page(width=360, height=740)
    sign_in(neighbour, base, pub.neighbour)
    neighbour.goto(f"{base}/public/{item.pk}/")
    expect(neighbour.get_by_text("已列入村级公益项目，下月安装太阳能路灯。")).to_be_visible()
    neighbour.get_by_role("button", name="支持这条建议").click()
    expect(neighbour.get_by_text("感谢您的支持！")).to_be_visible()
    expect(neighbour.get_by_text("1人支持")).to_be_visible()
    shot(neighbour, "resident-suggestion-360")
    assert Suggestion.objects.get(publication=item).support_count == 1
