"""The points economy end to end, as its people use it (seed 000: 线上申请积分 → 村级管理员后台审核 → 给予相应积分 →
累计到道德储蓄银行 → 换购商铺兑换生成二维码 → 商铺管理员扫码 → 领取相应实物):

a villager applies on her phone, the village administrator approves on his, she redeems rice in the village's
爱心超市 and shows the QR code; the code on a screenshot of her page is read by zxing-cpp here, and by the
merchant's page through its camera (the screenshot is what the fake camera films, and the page's own decoder
reads it). Her points and the shop's stock change once; showing the code again is refused.
"""

import base64
import io
import json

import pytest
import zxingcpp
from django.conf import settings as django_settings
from django.test import Client
from PIL import Image
from playwright.sync_api import expect

from gongzhi.org.factories import make_tree
from gongzhi.points.factories import make_points_world
from gongzhi.points.models import Account, Redemption, ShopItem
from gongzhi.points.selectors.integrity import verify_ledger
from gongzhi.points.services import redemptions

from .test_points_merchant import FAKE_CAMERA, NO_DETECTOR, sign_in_as_merchant

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CUSTOM = "移风易俗，婚事新办、丧事简办"  # 10 points, no photo required


@pytest.fixture
def world(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {**settings.STORAGES,
                         "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    return make_points_world(make_tree(), price=10, stock=5)


def sign_in(page, base_url: str, user) -> None:
    client = Client()
    client.force_login(user)
    page.context.add_cookies([{"name": django_settings.SESSION_COOKIE_NAME, "url": base_url,
                               "value": client.cookies[django_settings.SESSION_COOKIE_NAME].value}])


def balance(world) -> int:
    return Account.objects.get(pk=world.account.pk).balance


def test_claim_approve_redeem_and_scan_once(new_page, live_server, world, shot):
    base = live_server.url
    errors: list[str] = []

    # 1. 王秀兰 applies on her phone.
    villager = new_page(width=360, height=740)
    villager.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(villager, base, world.resident_user)
    villager.goto(base + "/points/claim/")
    villager.get_by_role("link", name=f"申请：{CUSTOM}").click()
    villager.get_by_label("事迹说明").fill("儿子婚事新办，不收彩礼，不大操大办。")
    villager.get_by_role("button", name="提交申请").click()
    expect(villager.get_by_text("申请已提交。")).to_be_visible()

    # 2. The village administrator approves on his phone; the points reach her household's account.
    office = new_page(width=360, height=740)
    sign_in(office, base, world.village_admin)
    office.goto(base + "/worker/")
    office.get_by_role("navigation", name="主导航").get_by_role("link", name="积分").click()
    office.locator("#claims").get_by_role("link").first.click()
    expect(office.get_by_text("儿子婚事新办")).to_be_visible()
    office.get_by_role("button", name="通过（10分）").click()
    expect(office.locator("#claim-status")).to_have_text("已通过")
    assert balance(world) == 10

    # 3. She sees the points and redeems a bag of rice: the points are held, the code shown.
    villager.goto(base + "/points/")
    expect(villager.locator("main")).to_contain_text("10")
    villager.goto(base + "/points/shop/")
    villager.get_by_role("link", name="兑换：大米5斤").click()
    if villager.get_by_role("button", name="下一步").count():
        villager.get_by_role("button", name="下一步").click()
    villager.get_by_role("button", name="确认兑换").click()
    held = Redemption.objects.get()
    expect(villager).to_have_url(f"{base}/points/redemptions/{held.pk}/")
    assert balance(world) == 0
    shot(villager, "journey-redemption-360")

    # 4. What the merchant's camera will see: her screen. zxing-cpp reads the token off the screenshot.
    screen = villager.screenshot(full_page=True)
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(screen)))
    assert len(found) == 1 and found[0].format == zxingcpp.BarcodeFormat.QRCode
    token = found[0].text
    assert token == redemptions.token_for(held)
    expect(villager.get_by_text(f"{held.code[:3]} {held.code[3:]}")).to_be_visible()  # shown in two groups

    # 5. The merchant scans it at the counter (his browser has no BarcodeDetector: the vendored decoder reads
    #    the camera's frames, which show her screenshot).
    counter = new_page(width=360, height=740)
    counter.on("pageerror", lambda error: errors.append(str(error)))
    qr = villager.locator("svg.redeem-qr-code").screenshot()
    picture = "data:image/png;base64," + base64.b64encode(qr).decode()
    counter.context.add_init_script(f"window.__qr = {json.dumps(picture)};")
    counter.context.add_init_script(FAKE_CAMERA)
    counter.context.add_init_script(NO_DETECTOR)
    sign_in_as_merchant(counter, base)
    expect(counter).to_have_url(f"{base}/merchant/{world.shop.pk}/")
    counter.get_by_role("button", name="扫码核销").click()
    result = counter.locator("#capture-result")
    expect(result.locator(".capture-ok")).to_contain_text("领取成功", timeout=15_000)
    expect(result).to_contain_text("大米5斤 × 1")
    shot(counter, "journey-merchant-captured-360")

    # 6. Shown again, the code is refused; points and stock moved exactly once.
    counter.get_by_role("button", name="继续扫码").click()
    expect(result.locator(".capture-refused")).to_contain_text("不能重复领取", timeout=15_000)
    item = ShopItem.objects.get(pk=world.item.pk)
    assert (item.stock, item.reserved) == (4, 0)
    assert Account.objects.get(shop=world.shop).balance == 10
    assert balance(world) == 0
    assert Redemption.objects.get().status == Redemption.Status.CAPTURED
    report = verify_ledger()
    assert report.ok and report.entries == 6, report.problems

    # 7. Her page now says it was picked up, and no longer shows a code to scan.
    villager.reload()
    expect(villager.get_by_text("已领取").first).to_be_visible()
    expect(villager.locator("svg.redeem-qr-code")).to_have_count(0)
    assert errors == []
