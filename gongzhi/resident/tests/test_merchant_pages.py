"""The merchant's pages (/merchant/): who may open a shop's 核销 page, capturing by typed code, by token (scanner
gun, pasted, or the camera's fetch asking for JSON), refusals in the service's words, the wrong-code delay, and
where a merchant lands after signing in."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from gongzhi.accounts.models import Membership, Role, User
from gongzhi.points.models import Redemption, Shop, ShopItem
from gongzhi.points.selectors.merchant import mask_name
from gongzhi.points.services import awards, redemptions, shops

pytestmark = pytest.mark.django_db

PASSWORD = "Gongzhi#2026"
JSON = {"HTTP_ACCEPT": "application/json"}


def desk_url(shop) -> str:
    return reverse("resident:merchant_desk", args=[shop.pk])


def capture_url(shop) -> str:
    return reverse("resident:merchant_capture", args=[shop.pk])


def give_points(world, times: int = 1) -> None:
    """10 points per time to 王秀兰's household (a 10-point item capped at two a year, then another)."""
    names = ["移风易俗", "移风易俗", "孝老敬亲"]
    for name in names[:times]:
        awards.award_directly(actor=world.village_admin, resident=world.head, item=world.rule(name), reason="测试")


def hold(world, item=None) -> Redemption:
    return redemptions.hold(user=world.resident_user, item=item or world.item)


def make_merchant(username: str, unit) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD, real_name="商户", kind=User.Kind.STAFF)
    Membership.objects.create(user=user, unit=unit, role=Role.MERCHANT)
    return user


@pytest.fixture
def other_shop(points_world):
    """Shop B in the same township, its own merchant and a 10-point item."""
    shop = shops.create_shop(actor=None, unit=points_world.town, fields=shops.ShopFields(
        name="八里镇便民超市", kind=Shop.Kind.ALLIANCE))
    merchant = make_merchant("shanghu_b", points_world.town)
    shop.managers.set([merchant])
    item = shops.add_item(actor=None, shop=shop, fields=shops.ItemFields(name="食用油1升", price=10, stock=3))
    return shop, merchant, item


@pytest.fixture
def merchant_client(client, points_world):
    client.force_login(points_world.merchant)
    return client


# Who may open a shop's page ----------------------------------------------------------------------------------

def test_merchant_of_shop_a_gets_404_on_shop_b(merchant_client, points_world, other_shop):
    shop_b, _merchant_b, item_b = other_shop
    give_points(points_world)
    waiting = hold(points_world, item_b)
    assert merchant_client.get(desk_url(points_world.shop)).status_code == 200
    assert merchant_client.get(desk_url(shop_b)).status_code == 404
    response = merchant_client.post(capture_url(shop_b), {"code": waiting.code})
    assert response.status_code == 404
    response = merchant_client.post(capture_url(shop_b), {"token": redemptions.token_for(waiting)}, **JSON)
    assert response.status_code == 404
    waiting.refresh_from_db()
    assert waiting.status == Redemption.Status.HELD


@pytest.mark.parametrize("who", ["resident_user", "village_admin", "dispatcher"])
def test_resident_or_staff_without_the_shop_get_404(client, points_world, who):
    """The village administrator may manage the shop's catalogue, yet scans nothing: only its managers do."""
    give_points(points_world)
    waiting = hold(points_world)
    client.force_login(getattr(points_world, who))
    assert client.get(desk_url(points_world.shop)).status_code == 404
    assert client.post(capture_url(points_world.shop), {"code": waiting.code}).status_code == 404
    assert client.get(reverse("resident:merchant_home")).status_code == 404
    waiting.refresh_from_db()
    assert waiting.status == Redemption.Status.HELD


def test_an_inactive_shop_answers_404(merchant_client, points_world):
    Shop.objects.filter(pk=points_world.shop.pk).update(is_active=False)
    assert merchant_client.get(desk_url(points_world.shop)).status_code == 404
    page = merchant_client.get(reverse("resident:merchant_home")).content.decode()
    assert "还没有负责的商铺" in page


def test_signed_out_visitor_is_sent_to_the_staff_login(client, points_world):
    response = client.get(desk_url(points_world.shop))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("command:login") + "?next=")
    response = client.post(capture_url(points_world.shop), {"code": "123456"})
    assert response["Location"].startswith(reverse("command:login"))


def test_capture_answers_only_posts(merchant_client, points_world):
    assert merchant_client.get(capture_url(points_world.shop)).status_code == 405


# Landing after sign-in ----------------------------------------------------------------------------------------

def test_merchant_login_lands_on_their_shop(client, points_world):
    response = client.post(reverse("command:login"), {"username": "shanghu", "password": PASSWORD}, follow=True)
    urls = [url for url, _status in response.redirect_chain]
    assert reverse("resident:merchant_home") in urls
    assert response.request["PATH_INFO"] == desk_url(points_world.shop)
    assert "小山村爱心超市" in response.content.decode()


def test_merchant_with_several_shops_picks_one(merchant_client, points_world, other_shop):
    shop_b, _merchant_b, _item = other_shop
    shop_b.managers.add(points_world.merchant)
    assert merchant_client.get("/").url == reverse("resident:merchant_home")
    page = merchant_client.get(reverse("resident:merchant_home")).content.decode()
    assert desk_url(points_world.shop) in page and desk_url(shop_b) in page
    assert "切换商铺" in merchant_client.get(desk_url(shop_b)).content.decode()


def test_merchant_without_a_shop_is_told_whom_to_ask(client, points_world):
    client.force_login(make_merchant("shanghu_new", points_world.town))
    assert client.get("/").url == reverse("resident:merchant_home")
    response = client.get(reverse("resident:merchant_home"))
    assert response.status_code == 200
    assert "还没有负责的商铺" in response.content.decode()


def test_a_resident_still_lands_on_the_resident_home(client, points_world):
    client.force_login(points_world.resident_user)
    assert client.get("/").status_code == 200


# Capturing -----------------------------------------------------------------------------------------------------

def test_capture_by_code_once_then_refused(merchant_client, points_world):
    give_points(points_world)
    waiting = hold(points_world)
    response = merchant_client.post(capture_url(points_world.shop), {"code": f" {waiting.code[:3]} {waiting.code[3:]}"})
    assert response.status_code == 302
    assert response.url == f"{desk_url(points_world.shop)}?done={waiting.pk}"
    done = merchant_client.get(response.url)
    assert done.context["result"].redemption_id == waiting.pk
    page = done.content.decode()
    assert '<p class="capture-item"><span data-slot="item">大米5斤</span> × <span data-slot="quantity">1</span>' in page
    assert "王*兰" in page and "王秀兰" not in page
    waiting.refresh_from_db()
    assert waiting.status == Redemption.Status.CAPTURED and waiting.captured_by == points_world.merchant
    item = ShopItem.objects.get(pk=points_world.item.pk)
    assert (item.stock, item.reserved) == (4, 0)

    again = merchant_client.post(capture_url(points_world.shop), {"code": waiting.code})
    page = again.content.decode()
    assert again.status_code == 200
    assert again.context["refusal"].code == "token_used"
    assert "不能重复领取" in page
    assert ShopItem.objects.get(pk=points_world.item.pk).stock == 4


def test_capture_by_token_json_once_then_refused(merchant_client, points_world):
    give_points(points_world)
    waiting = hold(points_world)
    token = redemptions.token_for(waiting)
    response = merchant_client.post(capture_url(points_world.shop), {"token": token}, **JSON)
    assert response.status_code == 200
    answer = response.json()
    assert answer["ok"] is True
    assert (answer["item"], answer["quantity"], answer["points"], answer["resident"]) == ("大米5斤", 1, 10, "王*兰")
    assert answer["message"] == "领取成功" and answer["waiting"] == 0

    replay = merchant_client.post(capture_url(points_world.shop), {"token": token}, **JSON)
    assert replay.status_code == 409
    assert replay.json()["ok"] is False and replay.json()["code"] == "token_used"
    assert "不能重复领取" in replay.json()["message"]
    item = ShopItem.objects.get(pk=points_world.item.pk)
    assert (item.stock, item.reserved) == (4, 0)


def test_capture_by_token_plain_form_shows_the_page(merchant_client, points_world):
    """A scanner gun types the token into the form and presses Enter: a plain post, answered with the page."""
    give_points(points_world)
    waiting = hold(points_world)
    response = merchant_client.post(capture_url(points_world.shop), {"token": redemptions.token_for(waiting) + "\n"},
                                    follow=True)
    assert response.context["result"].redemption_id == waiting.pk
    waiting.refresh_from_db()
    assert waiting.status == Redemption.Status.CAPTURED


@pytest.mark.parametrize(("token", "words"), [
    ("https://example.com/", "这不是积分兑换二维码"),
    ("GZ1:1.deadbeef:forged", "可能被篡改或伪造"),
])
def test_foreign_or_forged_tokens_are_refused(merchant_client, points_world, token, words):
    response = merchant_client.post(capture_url(points_world.shop), {"token": token}, **JSON)
    assert response.status_code == 409
    assert words in response.json()["message"]
    page = merchant_client.post(capture_url(points_world.shop), {"token": token}).content.decode()
    assert words in page and "capture-refused" in page


def test_altered_token_is_refused(merchant_client, points_world):
    give_points(points_world)
    waiting = hold(points_world)
    token = redemptions.token_for(waiting)
    altered = token.replace(f"GZ1:{waiting.pk}.", f"GZ1:{waiting.pk + 1}.")
    response = merchant_client.post(capture_url(points_world.shop), {"token": altered}, **JSON)
    assert "可能被篡改或伪造" in response.json()["message"]
    waiting.refresh_from_db()
    assert waiting.status == Redemption.Status.HELD


def test_token_of_another_shop_is_refused_with_its_name(merchant_client, points_world, other_shop):
    _shop_b, _merchant_b, item_b = other_shop
    give_points(points_world)
    waiting = hold(points_world, item_b)
    response = merchant_client.post(capture_url(points_world.shop), {"token": redemptions.token_for(waiting)}, **JSON)
    assert response.json()["code"] == "token_other_shop"
    assert "八里镇便民超市" in response.json()["message"]
    waiting.refresh_from_db()
    assert waiting.status == Redemption.Status.HELD


def test_cancelled_and_expired_redemptions_are_refused(merchant_client, points_world):
    give_points(points_world, 2)
    cancelled = hold(points_world)
    redemptions.cancel(user=points_world.resident_user, redemption=cancelled)
    response = merchant_client.post(capture_url(points_world.shop), {"token": redemptions.token_for(cancelled)},
                                    **JSON)
    assert response.json()["code"] == "token_cancelled"
    late = hold(points_world)
    Redemption.objects.filter(pk=late.pk).update(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    response = merchant_client.post(capture_url(points_world.shop), {"code": late.code}, **JSON)
    assert response.json()["code"] == "token_expired" and "过期" in response.json()["message"]


def test_bad_code_format_is_shown_at_the_field(merchant_client, points_world):
    for code in ["", "12345", "abcdef"]:
        response = merchant_client.post(capture_url(points_world.shop), {"code": code})
        page = response.content.decode()
        assert "请输入6位数字兑换码。" in page
        assert 'aria-invalid="true"' in page
    response = merchant_client.post(capture_url(points_world.shop), {"token": ""}, **JSON)
    assert response.status_code == 422 and "请扫描二维码" in response.json()["message"]


def test_wrong_codes_slow_down(merchant_client, points_world):
    give_points(points_world)
    waiting = hold(points_world)
    wrong = "000000" if waiting.code != "000000" else "111111"
    for _attempt in range(5):
        response = merchant_client.post(capture_url(points_world.shop), {"code": wrong}, **JSON)
        assert response.json()["code"] == "code_unknown"
        assert "兑换码不存在" in response.json()["message"]
    # Now even the right code waits.
    response = merchant_client.post(capture_url(points_world.shop), {"code": waiting.code})
    page = response.content.decode()
    assert "输错次数过多" in page and "秒后再试" in page
    waiting.refresh_from_db()
    assert waiting.status == Redemption.Status.HELD


# The page ------------------------------------------------------------------------------------------------------

def test_desk_lists_todays_pickups_and_the_waiting_count(merchant_client, points_world):
    give_points(points_world, 3)
    first, second, third = hold(points_world), hold(points_world), hold(points_world)
    redemptions.capture_code(merchant=points_world.merchant, shop=points_world.shop, code=first.code)
    redemptions.capture_token(merchant=points_world.merchant, shop=points_world.shop,
                              token=redemptions.token_for(second))
    # Yesterday's pickup is not today's.
    Redemption.objects.filter(pk=first.pk).update(ended_at=first.created_at - datetime.timedelta(days=1))
    response = merchant_client.get(desk_url(points_world.shop))
    desk = response.context["desk"]
    assert [p.redemption_id for p in desk.pickups] == [second.pk]
    assert (desk.today, desk.waiting) == (1, 1)
    page = response.content.decode()
    assert "王*兰" in page and "王秀兰" not in page
    assert third.code not in page  # the codes waiting are the residents' to show, not listed here
    # The camera's script, not the QR decoder: that is loaded by the script only where it is needed.
    assert "js/merchant-scan.js" in page
    assert '<script src="/static/vendor/jsqr' not in page


def test_done_shows_only_this_shops_captured_redemption(merchant_client, points_world, other_shop):
    _shop_b, merchant_b, item_b = other_shop
    give_points(points_world, 2)
    mine, theirs = hold(points_world), hold(points_world, item_b)
    redemptions.capture_code(merchant=merchant_b, shop=other_shop[0], code=theirs.code)
    response = merchant_client.get(f"{desk_url(points_world.shop)}?done={theirs.pk}")
    assert response.context["result"] is None
    assert "食用油1升" not in response.content.decode()
    response = merchant_client.get(f"{desk_url(points_world.shop)}?done={mine.pk}")
    assert response.context["result"] is None  # still waiting
    assert merchant_client.get(f"{desk_url(points_world.shop)}?done=x").context["result"] is None


@pytest.mark.parametrize(("name", "masked"), [
    ("王秀兰", "王*兰"), ("王兰", "王*"), ("欧阳秀兰", "欧**兰"), ("王", "王"), ("", "")])
def test_mask_name(name, masked):
    assert mask_name(name) == masked
