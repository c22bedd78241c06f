"""Redemption: hold → one capture → stock and points move once; every bad token is refused with a clear
message; cancel and expiry give the points and stock back."""

import datetime

import pytest
import time_machine
from django.core import signing

from gongzhi.accounts.models import Role
from gongzhi.core.errors import DomainError, Forbidden, NotFound
from gongzhi.points.models import Redemption, Shop
from gongzhi.points.selectors.accounts import standing
from gongzhi.points.selectors.integrity import verify_ledger
from gongzhi.points.services import awards, redemptions, shops
from gongzhi.points.services.redemptions import TokenRefused

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 12, 7, 2, 0, tzinfo=datetime.UTC)


@pytest.fixture
def world(points_world):
    """王秀兰's household with 30 points (ten patrols)."""
    w = points_world
    item = w.rule("参加义务巡逻")
    for i in range(10):
        awards.award_directly(actor=w.village_admin, resident=w.head, item=item, reason=f"巡逻{i}")
    return w


def _state(w):
    w.account.refresh_from_db()
    w.item.refresh_from_db()
    return w.account.balance, w.item.stock, w.item.reserved


def test_hold_then_capture_moves_points_and_stock_once(world, django_capture_on_commit_callbacks):
    w = world
    held = redemptions.hold(user=w.resident_user, item=w.item, quantity=2)
    assert (held.points, held.status, len(held.code)) == (20, Redemption.Status.HELD, 6)
    assert _state(w) == (10, 5, 2)
    assert standing(w.account).held == 20
    token = redemptions.token_for(held)
    with django_capture_on_commit_callbacks(execute=True):
        done = redemptions.capture_token(merchant=w.merchant, shop=w.shop, token=token)
    assert done.status == Redemption.Status.CAPTURED and done.captured_by == w.merchant
    assert _state(w) == (10, 3, 0)
    w.shop.account.refresh_from_db()
    assert w.shop.account.balance == 20
    with pytest.raises(TokenRefused) as refused:
        redemptions.capture_token(merchant=w.merchant, shop=w.shop, token=token)
    assert refused.value.code == "token_used" and "不能重复领取" in str(refused.value.message)
    assert _state(w) == (10, 3, 0)
    assert verify_ledger().ok
    from gongzhi.notifications.models import Notification

    assert Notification.objects.filter(recipient=w.resident_user, kind="points.redemption_captured").count() == 1


def test_the_six_digit_code_captures_too(world):
    w = world
    held = redemptions.hold(user=w.resident_user, item=w.item)
    assert redemptions.capture_code(merchant=w.merchant, shop=w.shop, code=f" {held.code} ").pk == held.pk
    with pytest.raises(TokenRefused) as refused:
        redemptions.capture_code(merchant=w.merchant, shop=w.shop, code=held.code)
    assert refused.value.code == "token_used"


@pytest.mark.parametrize("mangle, code", [
    (lambda t: t[:-3] + ("aaa" if not t.endswith("aaa") else "bbb"), "token_invalid"),  # a forged signature
    (lambda t: t.replace(":", ":9", 1), "token_invalid"),  # an altered redemption id
    (lambda t: "GZ1:" + signing.Signer(salt="other").sign("1.x"), "token_invalid"),  # signed with another key
    (lambda t: "https://example.com/?q=1", "token_foreign"),
])
def test_forged_or_altered_tokens_are_refused(world, mangle, code):
    w = world
    held = redemptions.hold(user=w.resident_user, item=w.item)
    with pytest.raises(TokenRefused) as refused:
        redemptions.capture_token(merchant=w.merchant, shop=w.shop, token=mangle(redemptions.token_for(held)))
    assert refused.value.code == code
    held.refresh_from_db()
    assert held.status == Redemption.Status.HELD and _state(w) == (20, 5, 1)


def test_an_expired_token_is_refused_and_releases_the_hold(world):
    w = world
    with time_machine.travel(NOW, tick=False):
        held = redemptions.hold(user=w.resident_user, item=w.item)
    with time_machine.travel(NOW + datetime.timedelta(days=7, seconds=1), tick=False):
        with pytest.raises(TokenRefused) as refused:
            redemptions.capture_token(merchant=w.merchant, shop=w.shop, token=redemptions.token_for(held))
    assert refused.value.code == "token_expired" and "积分已退回" in str(refused.value.message)
    held.refresh_from_db()
    assert held.status == Redemption.Status.EXPIRED
    assert _state(w) == (30, 5, 0)
    assert verify_ledger().ok


def test_the_sweep_expires_due_holds_once(world):
    w = world
    with time_machine.travel(NOW, tick=False):
        due = redemptions.hold(user=w.resident_user, item=w.item)
    with time_machine.travel(NOW + datetime.timedelta(days=6), tick=False):
        fresh = redemptions.hold(user=w.resident_user, item=w.item)
    with time_machine.travel(NOW + datetime.timedelta(days=7, hours=1), tick=False):
        assert redemptions.expire_due() == 1
        assert redemptions.expire_due() == 0
    due.refresh_from_db()
    fresh.refresh_from_db()
    assert (due.status, fresh.status) == (Redemption.Status.EXPIRED, Redemption.Status.HELD)
    assert _state(w) == (20, 5, 1)
    assert verify_ledger().ok


def test_cancel_gives_back_and_the_token_is_then_refused(world):
    w = world
    held = redemptions.hold(user=w.resident_user, item=w.item)
    redemptions.cancel(user=w.resident_user, redemption=held)
    redemptions.cancel(user=w.resident_user, redemption=held)  # twice is fine
    assert _state(w) == (30, 5, 0)
    with pytest.raises(TokenRefused) as refused:
        redemptions.capture_token(merchant=w.merchant, shop=w.shop, token=redemptions.token_for(held))
    assert refused.value.code == "token_cancelled"
    with pytest.raises(NotFound):
        redemptions.cancel(user=w.merchant, redemption=held)


def test_a_token_of_another_shop_is_refused(world, tree):
    w = world
    other = shops.create_shop(actor=None, unit=w.town, fields=shops.ShopFields(name="八里粮油店",
                                                                                  kind=Shop.Kind.ALLIANCE))
    other.managers.set([w.merchant])
    held = redemptions.hold(user=w.resident_user, item=w.item)
    with pytest.raises(TokenRefused) as refused:
        redemptions.capture_token(merchant=w.merchant, shop=other, token=redemptions.token_for(held))
    assert refused.value.code == "token_other_shop" and "小山村爱心超市" in str(refused.value.message)


def test_only_the_shops_managers_capture(world, make_staff, tree):
    w = world
    held = redemptions.hold(user=w.resident_user, item=w.item)
    stranger = make_staff("shanghu2", tree["town"], Role.MERCHANT)
    for user in (stranger, w.village_admin, w.resident_user):
        with pytest.raises(NotFound):
            redemptions.capture_token(merchant=user, shop=w.shop, token=redemptions.token_for(held))
    assert _state(w) == (20, 5, 1)


def test_wrong_codes_slow_down(world):
    w = world
    for _ in range(5):
        with pytest.raises(TokenRefused):
            redemptions.capture_code(merchant=w.merchant, shop=w.shop, code="000000")
    with pytest.raises(DomainError) as refused:
        redemptions.capture_code(merchant=w.merchant, shop=w.shop, code="000000")
    assert refused.value.code == "throttled"
    with pytest.raises(DomainError) as refused:
        redemptions.capture_code(merchant=w.merchant, shop=w.shop, code="12a")
    assert refused.value.code in {"throttled", "invalid"}


def test_holds_respect_points_stock_and_the_village(world, tree):
    w = world
    with pytest.raises(DomainError) as refused:
        redemptions.hold(user=w.resident_user, item=w.item, quantity=4)
    assert "积分不足" in str(refused.value.message)
    assert _state(w) == (30, 5, 0)
    shops.update_item(actor=None, item=w.item, fields=shops.ItemFields(name="大米5斤", price=1, stock=2))
    with pytest.raises(DomainError) as refused:
        redemptions.hold(user=w.resident_user, item=w.item, quantity=3)
    assert refused.value.code == "out_of_stock" and "还可兑换2件" in str(refused.value.message)
    # A villager of 大湾村 cannot buy at 小山村's 爱心超市.
    from gongzhi.points.factories import make_verified_resident

    _res, outsider = make_verified_resident(grid=tree["grid3"], household=None, username="dw", name="大湾人",
                                            id_number="62110219700101001X")
    with pytest.raises(NotFound):
        redemptions.hold(user=outsider, item=w.item)


def test_the_same_hold_form_sent_twice_holds_once(world):
    w = world
    first = redemptions.hold(user=w.resident_user, item=w.item, client_key="h1")
    again = redemptions.hold(user=w.resident_user, item=w.item, client_key="h1")
    assert first.pk == again.pk and _state(w) == (20, 5, 1)


def test_stock_cannot_drop_below_what_is_held(world):
    w = world
    redemptions.hold(user=w.resident_user, item=w.item, quantity=2)
    with pytest.raises(DomainError) as refused:
        shops.update_item(actor=None, item=w.item, fields=shops.ItemFields(name="大米5斤", price=10, stock=1))
    assert "不能少于2" in str(refused.value.message)


def test_unverified_users_cannot_hold(world, resident):
    with pytest.raises(Forbidden):
        redemptions.hold(user=resident, item=world.item)
