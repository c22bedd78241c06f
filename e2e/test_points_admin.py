"""积分管理 in the browser: a township dispatcher at a 1920 px desk changes a catalogue item (a new version), reads
the statistics and checks the ledger; a village administrator on a 360 px phone adds their village's own item
and stocks the village 爱心超市."""

import re

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from gongzhi.points.models import RuleItem, ShopItem
from gongzhi.points.services import awards, redemptions
from gongzhi.points.services.awards import ReviewDecision

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NEIGHBOURS = "邻里和睦"


def sign_in(page, base_url: str, user) -> None:
    client = Client()
    client.force_login(user)
    page.context.clear_cookies()
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "url": base_url,
                               "value": client.cookies[settings.SESSION_COOKIE_NAME].value}])


def no_sideways_scroll(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.fixture
def month(points_world):
    """A claim approved, an award, a deduction and a redemption picked up, in 小山村."""
    world = points_world
    claim = awards.submit_claim(user=world.resident_user, item=world.rule(NEIGHBOURS), note="调解了邻居的纠纷")
    awards.review_claim(actor=world.village_admin, claim=claim, decision=ReviewDecision.APPROVE)
    awards.award_directly(actor=world.village_admin, resident=world.head, item=world.rule("志愿服务"),
                          reason="参加志愿服务")
    awards.award_directly(actor=world.village_admin, resident=world.head, item=world.rule("孝老敬亲"),
                          reason="照顾婆婆")
    held = redemptions.hold(user=world.resident_user, item=world.item, quantity=1)
    redemptions.capture_code(merchant=world.merchant, shop=world.shop, code=held.code)
    awards.award_directly(actor=world.village_admin, resident=world.head, item=world.rule("乱倒垃圾"),
                          reason="乱倒垃圾")
    return world


def test_a_dispatcher_versions_an_item_reads_the_figures_and_checks_the_ledger(new_page, live_server, month, shot):
    world = month
    page = new_page(width=1920, height=1080)
    sign_in(page, live_server.url, world.dispatcher)
    page.goto(live_server.url + "/command/")
    page.get_by_role("link", name="积分管理", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("积分管理 · 八里镇")
    shot(page, "command-points-hub")
    page.get_by_role("navigation", name="积分管理").get_by_role("link", name="积分细则").click()
    expect(page.get_by_role("heading", name="八里镇积分细则（全乡镇适用）")).to_be_visible()
    shot(page, "command-points-catalogue")
    item = world.rule(NEIGHBOURS)
    page.get_by_role("link", name=f"修改 {item.name}").click()
    page.get_by_label("分值").fill("0")
    page.get_by_role("button", name="保存为新版本").click()
    expect(page.locator("#id_points-field .errorlist")).to_contain_text("非零整数")
    shot(page, "command-points-item-error")
    page.get_by_label("分值").fill("8")
    page.get_by_role("button", name="保存为新版本").click()
    expect(page.get_by_role("status")).to_contain_text("已保存为第2版")
    expect(page.locator(".points-versions li")).to_have_count(2)
    shot(page, "command-points-item-versions")
    assert RuleItem.objects.get(previous=item).points == 8

    page.get_by_role("link", name="积分统计").click()
    expect(page.locator("#village-stats tbody tr").first).to_contain_text("小山村")
    shot(page, "command-points-stats")
    with page.expect_download() as download:
        page.get_by_role("link", name="导出Excel").click()
    assert download.value.suggested_filename.startswith("积分统计-八里镇-")

    page.get_by_role("link", name="十星等级").click()
    expect(page.get_by_role("heading", name="八里镇各星级户数")).to_be_visible()
    shot(page, "command-points-stars")
    page.get_by_role("link", name="商铺管理").click()
    page.get_by_role("link", name="小山村爱心超市").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("小山村爱心超市")
    shot(page, "command-points-shop")
    page.get_by_role("link", name="账本核验").click()
    page.get_by_role("button", name="立即核验").click()
    expect(page.get_by_role("status")).to_contain_text("未发现问题")
    shot(page, "command-points-ledger")
    no_sideways_scroll(page, 1920)


def test_a_village_administrator_adds_their_own_item_and_stocks_the_shop_on_a_phone(new_page, live_server, month,
                                                                                  shot):
    world = month
    page = new_page(width=360, height=740)
    sign_in(page, live_server.url, world.village_admin)
    page.goto(live_server.url + "/worker/")
    # Her 积分 tab opens the claims she reviews; 积分管理 is beside 积分审核 in its sub-navigation.
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="积分").click()
    page.get_by_role("link", name="积分管理").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("积分管理 · 小山村")
    shot(page, "worker-points-hub")
    no_sideways_scroll(page, 360)
    page.get_by_role("link", name="积分细则").click()
    no_sideways_scroll(page, 360)
    shot(page, "worker-points-catalogue")
    page.get_by_role("link", name="添加类别").click()
    page.get_by_label("类别名称").fill("小山村公约")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("status")).to_contain_text("已添加类别“小山村公约”")
    page.get_by_role("link", name=re.compile("添加事项.*小山村公约")).click()
    page.get_by_label("积分事项").fill("清扫村道")
    page.get_by_label("分值").fill("3")
    page.get_by_label("次数上限").fill("4")
    page.get_by_label("上限周期").select_option("month")
    shot(page, "worker-points-item-form")
    no_sideways_scroll(page, 360)
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("status")).to_contain_text("已添加事项“清扫村道”")
    no_sideways_scroll(page, 360)

    page.get_by_role("link", name="积分管理").click()
    page.get_by_role("link", name="商铺管理").click()
    page.get_by_role("link", name="小山村爱心超市").click()
    page.get_by_role("link", name="上架商品").click()
    page.get_by_label("商品名称").fill("食用油")
    page.get_by_label("所需积分").fill("30")
    page.get_by_label("库存").fill("4")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("status")).to_contain_text("已上架“食用油”")
    shot(page, "worker-points-shop")
    no_sideways_scroll(page, 360)
    assert ShopItem.objects.get(name="食用油").stock == 4

    page.get_by_role("link", name="积分管理").click()
    page.get_by_role("link", name="积分统计").click()
    expect(page.locator("#village-figures li")).to_have_count(7)
    shot(page, "worker-points-stats")
    no_sideways_scroll(page, 360)
    page.get_by_role("link", name="积分管理").click()
    page.get_by_role("link", name="十星等级标准").click()
    shot(page, "worker-points-stars")
    no_sideways_scroll(page, 360)
