"""The resident's points pages on a 360 px phone: 我的积分 → 申请积分 → 待审核; every page at 360 px (in large type
too) and at 1920 px; the redemption's QR code big enough to scan off the phone's screen; each page ≤ 35 KB cold."""

import io

import pytest
import zxingcpp
from django.conf import settings as django_settings
from django.test import Client
from PIL import Image
from playwright.sync_api import expect

from gongzhi.accounts.models import Membership, Role, User
from gongzhi.org.factories import make_tree
from gongzhi.points.factories import make_points_world
from gongzhi.points.models import Claim
from gongzhi.points.services import awards, redemptions
from gongzhi.resident.points_views import QR_BORDER
from gongzhi.web.context_processors import LARGE_TYPE_COOKIE

from . import test_page_weight as weight
from .test_page_weight import BUDGET, load_cold, session_cookie

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DANCE = "参加村里组织的文艺演出、广场舞等文化活动"  # 2 points, a photo required

# The page-weight test's server: static files collected and served as in production.
collected_static = weight.collected_static
production_server = weight.production_server


@pytest.fixture
def world(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {**settings.STORAGES,
                         "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    return make_points_world(make_tree())


def picture(folder, name="广场舞.jpg"):
    path = folder / name
    Image.new("RGB", (800, 600), (180, 60, 60)).save(path, "JPEG")
    return path


def log_in_as(page, base_url: str, user) -> None:
    client = Client()
    client.force_login(user)
    page.context.add_cookies([{"name": django_settings.SESSION_COOKIE_NAME, "url": base_url,
                               "value": client.cookies[django_settings.SESSION_COOKIE_NAME].value}])


def fill_the_account(world, tmp_path):
    """30 points, a claim under review (with a photo) and a redemption waiting for pickup."""
    for n in range(10):
        awards.award_directly(actor=world.village_admin, resident=world.head, item=world.rule("义务巡逻"),
                              reason=f"参加夜间巡逻第{n + 1}次", client_key=f"patrol-{n}")
    with open(picture(tmp_path), "rb") as photo:
        claim = awards.submit_claim(user=world.resident_user, item=world.rule("文艺演出"),
                                    note="参加村里的广场舞比赛，获得二等奖。", photos=[photo])
    redemption = redemptions.hold(user=world.resident_user, item=world.item)
    return claim, redemption


def point_pages(world, claim, redemption) -> list[tuple[str, str]]:
    return [
        ("points", "/points/"),
        ("history", "/points/history/"),
        ("catalogue", "/points/claim/"),
        ("claim-form", f"/points/claim/{world.rule('调解邻里纠纷').pk}/"),
        ("claims", "/points/claims/"),
        ("claim", f"/points/claims/{claim.pk}/"),
        ("shop", "/points/shop/"),
        ("shop-confirm", f"/points/shop/{world.item.pk}/?quantity=1"),
        ("redemptions", "/points/redemptions/"),
        ("redemption", f"/points/redemptions/{redemption.pk}/"),
    ]


def scroll_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def test_a_resident_applies_for_points_and_sees_the_claim_waiting(page, live_server, world, tmp_path, shot):
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in_as(page, live_server.url, world.resident_user)

    page.goto(live_server.url + "/")
    shot(page, "points-journey-home")
    page.get_by_role("link", name="我的积分").click()
    expect(page).to_have_url(live_server.url + "/points/")
    expect(page.get_by_text("可用积分")).to_be_visible()
    expect(page.locator(".stars")).to_have_attribute("aria-label", "0星（满10星）")
    shot(page, "points-journey-index")

    page.get_by_role("link", name="申请积分").click()
    expect(page).to_have_url(live_server.url + "/points/claim/")
    page.get_by_role("link", name=f"申请：{DANCE}").click()
    expect(page.get_by_role("heading", name="申请积分")).to_be_visible()
    page.get_by_role("button", name="提交申请").click()  # nothing filled in
    expect(page.get_by_text("请简要说明事迹。")).to_be_visible()
    page.get_by_label("事迹说明").fill("参加了村里的广场舞比赛。")
    page.get_by_label("照片（最多6张）").set_input_files(str(picture(tmp_path)))
    assert scroll_width(page) <= 360
    shot(page, "points-journey-form")
    page.get_by_role("button", name="提交申请").click()

    expect(page.get_by_text("申请已提交。")).to_be_visible()
    expect(page.locator("main .badge").first).to_have_text("待审核")
    photo = page.locator(".case-photos img")
    expect(photo).to_have_count(1)
    photo.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=photo.element_handle())
    shot(page, "points-journey-claim")

    page.get_by_role("link", name="我的申请").click()
    item = page.locator(".points-claims li").first
    expect(item).to_contain_text(DANCE, use_inner_text=True)
    expect(item).to_contain_text("待审核", use_inner_text=True)
    claim = Claim.objects.get()
    assert claim.status == Claim.Status.SUBMITTED and claim.photos.count() == 1
    assert errors == []


def test_every_points_page_fits_a_phone_in_both_type_sizes_and_a_desktop(new_page, live_server, world, tmp_path,
                                                                          shot):
    claim, redemption = fill_the_account(world, tmp_path)
    unverified = User.objects.create_user(username="unv", kind=User.Kind.RESIDENT, real_name="赵六")
    Membership.objects.create(user=unverified, unit=world.head.grid, role=Role.RESIDENT)
    visits = [(world.resident_user, name, path) for name, path in point_pages(world, claim, redemption)]
    visits.append((unverified, "unverified", "/points/"))
    for width, height, large in ((360, 740, False), (360, 740, True), (1920, 1080, False)):
        page = new_page(width=width, height=height)
        if large:
            page.context.add_cookies([{"name": LARGE_TYPE_COOKIE, "value": "1", "url": live_server.url}])
        for user, name, path in visits:
            log_in_as(page, live_server.url, user)
            response = page.goto(live_server.url + path)
            assert response.status == 200, path
            if large:
                expect(page.locator("html")).to_contain_class("large-type")
            assert scroll_width(page) <= width, (path, width, large)
            # Nothing is cut off at the right edge: every button and link lies inside the screen.
            overflow = page.evaluate("""w => [...document.querySelectorAll('main a, main button, main summary')]
                .filter(e => e.getBoundingClientRect().width && e.getBoundingClientRect().right > w + 0.5)
                .map(e => e.textContent.trim())""", width)
            assert overflow == [], (path, width, large, overflow)
            shot(page, f"points-{name}-{width}{'-large' if large else ''}")
        page.context.close()


def test_the_qr_code_reads_back_big_enough_off_the_phone_and_is_never_cached(new_page, live_server, world, tmp_path):
    _claim, redemption = fill_the_account(world, tmp_path)
    for large in (False, True):
        page = new_page()
        log_in_as(page, live_server.url, world.resident_user)
        if large:
            page.context.add_cookies([{"name": LARGE_TYPE_COOKIE, "value": "1", "url": live_server.url}])
        response = page.goto(f"{live_server.url}/points/redemptions/{redemption.pk}/")
        assert "no-store" in response.headers["cache-control"]
        qr = page.locator(".redeem-qr svg")
        box = qr.bounding_box()
        modules = int(page.locator(".redeem-qr").get_attribute("data-modules"))
        assert qr.get_attribute("viewBox") == f"0 0 {modules} {modules}"
        code_px = box["width"] * (modules - 2 * QR_BORDER) / modules
        assert code_px >= 250, (large, box, modules)
        assert box["x"] >= 0 and box["x"] + box["width"] <= 360
        # What a merchant's camera reads off the screen is the redemption's token.
        read = zxingcpp.read_barcodes(Image.open(io.BytesIO(page.locator(".redeem-qr").screenshot())))
        assert [r.text for r in read] == [redemptions.token_for(redemption)]
        digits = page.locator(".redeem-code")
        expect(digits).to_have_text(f"{redemption.code[:3]} {redemption.code[3:]}")
        size = float(digits.evaluate("e => parseFloat(getComputedStyle(e).fontSize)"))
        assert size >= 40 and digits.bounding_box()["width"] <= 360
        page.context.close()


def test_every_points_page_is_at_most_35_kb_cold(browser, production_server, world, tmp_path, shot):
    claim, redemption = fill_the_account(world, tmp_path)
    cookies = session_cookie(production_server, world.resident_user)
    rows = [(name, path, load_cold(browser, production_server + path, cookies, shot=shot, name=f"points-{name}"))
            for name, path in point_pages(world, claim, redemption)]
    print(f"\n{'page':<14} {'path':<28} {'requests':>8} {'bytes':>6}  {'KB':>5}")
    for name, path, transfer in rows:
        print(f"{name:<14} {path:<28} {len(transfer.received):>8} {transfer.total:>6}  {transfer.total / 1024:>5.1f}")
    heavy = [(name, transfer.total) for name, _path, transfer in rows if transfer.total > BUDGET]
    assert heavy == [], f"over {BUDGET} bytes: {heavy}"
