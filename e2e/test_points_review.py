"""积分审核 in the browser: 小山村's village administrator on a 360 px phone finds the waiting claim by the 积分
tab's count, refuses to reject it without a reason, approves it, and on the household's page deducts points for
burning straw (more than the household holds) and corrects a mistaken award; 八里镇's dispatcher at a 1920 px
desk approves a township item and reads the village ledger with its stars."""

import io

import pytest
from django.conf import settings
from django.test import Client
from PIL import Image
from playwright.sync_api import expect

from gongzhi.points.models import Account, Award, Claim
from gongzhi.points.services import awards as award_services

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ACCEL_REDIRECT = ""


def sign_in(page, base_url: str, user) -> None:
    client = Client()
    client.force_login(user)
    page.context.clear_cookies()
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "url": base_url,
                               "value": client.cookies[settings.SESSION_COOKIE_NAME].value}])


def jpeg(name: str, colour: tuple[int, int, int]):
    from django.core.files.uploadedfile import SimpleUploadedFile

    buffer = io.BytesIO()
    Image.new("RGB", (900, 700), colour).save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


@pytest.fixture
def claims(points_world):
    w = points_world
    village = award_services.submit_claim(user=w.resident_user, item=w.rule("孝老敬亲"),
                                          note="婆婆瘫痪在床十年，一直悉心照顾，村民小组可以作证。",
                                          photos=[jpeg("照顾婆婆.jpg", (180, 120, 90))])
    township = award_services.submit_claim(user=w.resident_user, item=w.rule("好媳妇"), note="被评为县级“好媳妇”。",
                                           photos=[jpeg("证书.jpg", (200, 40, 40))])
    return {"village": village, "township": township}


def _no_sideways_scroll(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_the_village_administrator_reviews_and_keeps_the_ledger_on_a_phone(new_page, live_server, points_world,
                                                                          claims, shot):
    w = points_world
    page = new_page(width=360, height=740)
    base = live_server.url
    sign_in(page, base, w.village_admin)
    page.goto(base + "/worker/")
    tab = page.get_by_role("navigation", name="主导航").get_by_role("link", name="积分")
    expect(tab.get_by_role("img", name="1条积分申请待审核")).to_be_visible()
    tab.click()
    expect(page.get_by_role("heading", name="积分审核")).to_be_visible()
    expect(page.locator("#claims li")).to_have_count(1)  # the township's item is not hers
    shot(page, "worker-points-queue-360")
    _no_sideways_scroll(page, 360)

    page.locator("#claims").get_by_role("link").first.click()
    expect(page.get_by_text("婆婆瘫痪在床十年")).to_be_visible()
    expect(page.get_by_text("621102********3826")).to_be_visible()
    photo = page.locator(".step-photos img").first
    expect(photo).to_be_visible()
    assert page.request.get(base + photo.get_attribute("src")).status == 200
    shot(page, "worker-points-claim-360")
    _no_sideways_scroll(page, 360)

    page.locator("#decide-reject summary").click()
    page.locator("#decide-reject").get_by_role("button", name="驳回申请").click()
    expect(page.get_by_text("请填写驳回原因。")).to_be_visible()
    shot(page, "worker-points-claim-reject-error-360")
    assert Claim.objects.get(pk=claims["village"].pk).status == Claim.Status.SUBMITTED
    page.get_by_role("button", name="通过（10分）").click()
    expect(page.get_by_text("已通过，积分已记入该户账户。")).to_be_visible()
    expect(page.locator("#claim-status")).to_have_text("已通过")
    assert Account.objects.get(household=w.household).balance == 10

    # The household's page: correct the award, then deduct more than the household holds.
    page.get_by_role("link", name="H-P01").click()
    expect(page.get_by_role("heading", name="户号 H-P01")).to_be_visible()
    page.locator("#awards li").filter(has_text="孝老敬亲").get_by_role("link", name="更正").click()
    expect(page.get_by_role("heading", name="更正积分记录")).to_be_visible()
    page.get_by_role("button", name="确认更正").click()
    expect(page.get_by_text("请填写更正原因。")).to_be_visible()
    page.get_by_label("更正原因").fill("重复申请，上月已给予。")
    shot(page, "worker-points-reverse-360")
    _no_sideways_scroll(page, 360)
    page.get_by_role("button", name="确认更正").click()
    expect(page.get_by_text("已更正：-10分。")).to_be_visible()
    assert Account.objects.get(household=w.household).balance == 0

    page.locator("#deduct summary").click()
    page.get_by_label("扣分事项").select_option(label="-10分 · 违规焚烧秸秆、垃圾，经查实")
    page.get_by_label("扣分事由").fill("6月12日在自家地头焚烧麦秆，经网格员现场核实。")
    page.locator("#deduct").get_by_label("佐证照片（可选，最多6张）").set_input_files(files=[{
        "name": "现场.jpg", "mimeType": "image/jpeg", "buffer": jpeg("现场.jpg", (90, 90, 90)).read()}])
    shot(page, "worker-points-deduct-form-360")
    _no_sideways_scroll(page, 360)
    page.get_by_role("button", name="确认扣分").click()
    expect(page.get_by_text("该户积分不足，实际扣减0分，余额为0。")).to_be_visible()
    deduction = Award.objects.get(rule_item__name__startswith="违规焚烧")
    assert (deduction.points, deduction.booked, deduction.photos.count()) == (-10, 0, 1)
    expect(page.locator("#awards li").first).to_contain_text("积分不足，实际记账0分")
    page.wait_for_load_state()
    shot(page, "worker-points-household-360")
    _no_sideways_scroll(page, 360)

    page.goto(base + "/worker/points/ledger/")
    expect(page.get_by_role("heading", name="小山村积分台账")).to_be_visible()
    page.wait_for_load_state()
    shot(page, "worker-points-ledger-360")
    _no_sideways_scroll(page, 360)

    # Large type (适老化): the six tabs and the ledger still fit the phone.
    page.context.add_cookies([{"name": "large_type", "value": "1", "url": base}])
    page.reload()
    expect(page.locator("html.large-type")).to_have_count(1)
    page.wait_for_load_state()
    shot(page, "worker-points-ledger-large-360")
    _no_sideways_scroll(page, 360)


def test_the_township_dispatcher_approves_a_township_item_at_a_desk(new_page, live_server, points_world, claims,
                                                                    shot):
    w = points_world
    award_services.award_directly(actor=w.dispatcher, resident=w.head, item=w.rule("参加村里组织的文艺演出"),
                                  reason="参加重阳节文艺演出", photos=[jpeg("演出.jpg", (40, 90, 160))])
    page = new_page(width=1920, height=1080)
    base = live_server.url
    sign_in(page, base, w.dispatcher)
    page.goto(base + "/command/")
    link = page.get_by_role("link", name="积分审核")
    expect(link.get_by_role("img", name="2条积分申请待审核")).to_be_visible()
    link.click()
    region = page.get_by_role("region", name="积分审核")
    expect(region.locator("tbody tr")).to_have_count(2)
    page.wait_for_load_state()
    shot(page, "command-points-queue-1920")
    region.get_by_role("link", name="被评为县级以上“好媳妇”“好婆婆”“五好家庭”").click()
    page.wait_for_load_state()
    shot(page, "command-points-claim-1920")
    page.get_by_role("button", name="通过（20分）").click()
    expect(page.get_by_text("已通过，积分已记入该户账户。")).to_be_visible()
    assert Account.objects.get(household=w.household).balance == 22

    page.get_by_role("link", name="村积分台账").click()
    page.get_by_role("link", name="小山村").click()
    ledger = page.get_by_role("region", name="小山村积分台账")
    expect(ledger.locator("tr", has_text="H-P01")).to_contain_text("22")
    expect(ledger.locator("tr", has_text="H-P01").get_by_role("img", name="2星")).to_be_visible()
    page.wait_for_load_state()
    shot(page, "command-points-ledger-1920")
    ledger.get_by_role("link", name="H-P01").click()
    expect(page.locator("#awards li")).to_have_count(2)
    page.wait_for_load_state()
    shot(page, "command-points-household-1920")
    _no_sideways_scroll(page, 1920)
