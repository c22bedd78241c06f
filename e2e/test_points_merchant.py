"""The merchant's 核销 page in the browser: signing in lands on the shop; a typed code is captured (a plain form
post, with or without JavaScript); a QR code read by the camera path is captured once and its replay refused.

The camera is stubbed in the page (`add_init_script`): getUserMedia answers with a canvas's stream, and either
the browser's BarcodeDetector is replaced by one that "sees" a known token, or there is none and the vendored
jsQR reads a real QR code drawn on that canvas. The real journey (the resident's screenshot decoded with
zxing-cpp) is the points journey's test.
"""

import json

import pytest
import segno
from playwright.sync_api import expect

from gongzhi.points.factories import make_points_world
from gongzhi.points.models import Redemption, ShopItem
from gongzhi.points.services import awards, redemptions

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "Gongzhi#2026"

# A camera that films a canvas: grey, or the QR code of `window.__qr` (a PNG data URI) when the test gives one.
FAKE_CAMERA = """
(() => {
  if (!navigator.mediaDevices) { return; }
  navigator.mediaDevices.getUserMedia = () => {
    const canvas = document.createElement("canvas");
    canvas.width = 480; canvas.height = 480;
    const context = canvas.getContext("2d");
    const image = new Image();
    if (window.__qr) { image.src = window.__qr; }
    let tick = 0;
    const paint = () => {
      context.fillStyle = tick++ % 2 ? "#f4f4f4" : "#f6f6f6";  // a changing picture keeps frames coming
      context.fillRect(0, 0, 480, 480);
      if (image.complete && image.naturalWidth) { context.drawImage(image, 90, 90, 300, 300); }
    };
    paint();
    setInterval(paint, 100);
    return Promise.resolve(canvas.captureStream(10));
  };
})();
"""

# The browser's own reader, seeing `token` in every frame.
FAKE_DETECTOR = """
((token) => {
  window.__detections = 0;
  window.BarcodeDetector = class {
    static getSupportedFormats() { return Promise.resolve(["qr_code", "ean_13"]); }
    detect() { window.__detections += 1; return Promise.resolve([{ rawValue: token, format: "qr_code" }]); }
  };
})(%s);
"""

NO_DETECTOR = "delete window.BarcodeDetector;"


@pytest.fixture
def world(tree, media):
    world = make_points_world(tree)
    for name in ["移风易俗", "移风易俗"]:
        awards.award_directly(actor=world.village_admin, resident=world.head, item=world.rule(name), reason="测试")
    return world


def sign_in_as_merchant(page, base_url: str) -> None:
    page.goto(base_url + "/merchant/")
    expect(page).to_have_url(base_url + "/command/login/?next=%2Fmerchant%2F")
    page.get_by_label("用户名").fill("shanghu")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def stock(world) -> tuple[int, int]:
    item = ShopItem.objects.get(pk=world.item.pk)
    return item.stock, item.reserved


def test_merchant_signs_in_and_types_a_code(page, live_server, world, shot):
    waiting = redemptions.hold(user=world.resident_user, item=world.item)
    sign_in_as_merchant(page, live_server.url)
    expect(page).to_have_url(f"{live_server.url}/merchant/{world.shop.pk}/")
    expect(page.get_by_role("heading", name="小山村爱心超市")).to_be_visible()
    expect(page.locator("[data-waiting]")).to_have_text("1")
    # No camera here (Chromium without a fake device still offers the button: the API exists).
    page.wait_for_load_state()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert page.evaluate("!!window.jsQR") is False  # the decoder stays unloaded until a scan needs it
    shot(page, "merchant-desk-360")

    page.get_by_label("兑换码（6位数字）").fill(waiting.code)
    page.get_by_role("button", name="确认领取").click()
    result = page.locator("#capture-result")
    expect(result).to_contain_text("领取成功")
    expect(result).to_contain_text("大米5斤 × 1")
    expect(result).to_contain_text("王*兰")
    expect(page.locator("[data-waiting]")).to_have_text("0")
    expect(page.locator("#pickup-list li")).to_have_count(1)
    shot(page, "merchant-code-captured-360")
    assert stock(world) == (4, 0)

    # The same code again: refused in red, in the service's words; nothing moves.
    page.get_by_label("兑换码（6位数字）").fill(waiting.code)
    page.get_by_role("button", name="确认领取").click()
    expect(page.locator(".capture-refused")).to_contain_text("不能重复领取")
    shot(page, "merchant-code-refused-360")
    assert stock(world) == (4, 0)


def test_without_javascript_the_code_form_still_works(new_page, live_server, world):
    waiting = redemptions.hold(user=world.resident_user, item=world.item)
    page = new_page(java_script_enabled=False)
    sign_in_as_merchant(page, live_server.url)
    expect(page.get_by_role("button", name="扫码核销")).to_be_hidden()
    page.get_by_label("兑换码（6位数字）").fill(waiting.code)
    page.get_by_role("button", name="确认领取").click()
    expect(page.locator("#capture-result")).to_contain_text("领取成功")
    assert Redemption.objects.get(pk=waiting.pk).status == Redemption.Status.CAPTURED


@pytest.mark.parametrize("width", [360, 1920])
def test_a_scanned_token_is_captured_once(new_page, live_server, world, shot, width):
    waiting = redemptions.hold(user=world.resident_user, item=world.item)
    token = redemptions.token_for(waiting)
    page = new_page(width=width, height=1080 if width > 1000 else 740)
    page.context.add_init_script(FAKE_CAMERA)
    page.context.add_init_script(FAKE_DETECTOR % json.dumps(token))
    sign_in_as_merchant(page, live_server.url)
    expect(page).to_have_url(f"{live_server.url}/merchant/{world.shop.pk}/")
    shot(page, f"merchant-desk-{width}")

    page.get_by_role("button", name="扫码核销").click()
    result = page.locator("#capture-result")
    expect(result.locator(".capture-ok")).to_contain_text("领取成功")
    expect(result).to_contain_text("大米5斤 × 1")
    expect(result).to_contain_text("王*兰")
    expect(page.locator("[data-waiting]")).to_have_text("0")
    expect(page.locator("[data-today]")).to_have_text("1")
    expect(page.locator("#pickup-list li")).to_have_count(1)
    # The camera stopped with the first reading.
    expect(page.locator("[data-scan-view]")).to_be_hidden()
    assert page.evaluate("document.querySelector('[data-scan-video]').srcObject") is None
    assert page.evaluate("!!window.jsQR") is False  # the browser's reader did it: no decoder downloaded
    shot(page, f"merchant-scanned-{width}")
    assert stock(world) == (4, 0)

    # 继续扫码: the camera again, the same code again: refused, in red, nothing moves.
    page.get_by_role("button", name="继续扫码").click()
    expect(result.locator(".capture-refused")).to_contain_text("不能重复领取")
    expect(page.locator("[data-waiting]")).to_have_text("0")
    expect(page.locator("#pickup-list li")).to_have_count(1)
    shot(page, f"merchant-scan-refused-{width}")
    assert stock(world) == (4, 0)
    assert Redemption.objects.get(pk=waiting.pk).status == Redemption.Status.CAPTURED


def test_without_barcode_detector_jsqr_reads_the_frames(new_page, live_server, world, shot):
    waiting = redemptions.hold(user=world.resident_user, item=world.item)
    qr = segno.make(redemptions.token_for(waiting), error="m").png_data_uri(scale=6, border=4)
    page = new_page()
    page.context.add_init_script(f"window.__qr = {json.dumps(qr)};")
    page.context.add_init_script(FAKE_CAMERA)
    page.context.add_init_script(NO_DETECTOR)
    sign_in_as_merchant(page, live_server.url)
    page.get_by_role("button", name="扫码核销").click()
    expect(page.locator("#capture-result .capture-ok")).to_contain_text("领取成功", timeout=20_000)
    assert page.evaluate("typeof window.jsQR") == "function"
    shot(page, "merchant-jsqr-scanned-360")
    assert Redemption.objects.get(pk=waiting.pk).status == Redemption.Status.CAPTURED


def test_a_refused_camera_points_to_the_code_form(new_page, live_server, world):
    page = new_page()
    page.context.add_init_script("""
      navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException("denied", "NotAllowedError"));
    """)
    sign_in_as_merchant(page, live_server.url)
    page.get_by_role("button", name="扫码核销").click()
    expect(page.locator("[data-scan-problem]")).to_contain_text("请在浏览器设置中允许本网站使用相机")
    expect(page.get_by_label("兑换码（6位数字）")).to_be_focused()
    expect(page.get_by_role("button", name="扫码核销")).to_be_visible()


def test_the_camera_shows_until_stopped(new_page, live_server, world, shot):
    page = new_page()
    page.context.add_init_script(FAKE_CAMERA)  # grey: nothing to read
    page.context.add_init_script(NO_DETECTOR)
    sign_in_as_merchant(page, live_server.url)
    page.get_by_role("button", name="扫码核销").click()
    expect(page.locator("[data-scan-status]")).to_have_text("请将居民手机上的二维码放在画面中间")
    page.wait_for_function("document.querySelector('[data-scan-video]').readyState >= 2")
    shot(page, "merchant-camera-open-360")
    page.get_by_role("button", name="停止扫码").click()
    expect(page.locator("[data-scan-view]")).to_be_hidden()
    assert page.evaluate("document.querySelector('[data-scan-video]').srcObject") is None
    expect(page.get_by_role("button", name="扫码核销")).to_be_visible()
