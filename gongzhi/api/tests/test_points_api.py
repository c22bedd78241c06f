"""The points JSON API: a merchant captures a redemption by its QR token, once; a refusal is 409 with a message
and code; a shop the caller does not manage is 404; bad input 422."""

import datetime

import pytest
import schemathesis
import time_machine
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import ignored_auth, positive_data_acceptance

from gongzhi.accounts.models import Membership, Role, User
from gongzhi.api.tests.fuzzing import CSRF, IDENTITY, breaks_the_cookie, session_cookies
from gongzhi.points.models import Account, LedgerEntry, Redemption, ShopItem
from gongzhi.points.selectors.integrity import verify_ledger
from gongzhi.points.services import awards, redemptions, shops
from gongzhi.wsgi import application

pytestmark = pytest.mark.django_db


def client_for(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.cookies["csrftoken"] = CSRF
    return client


def capture(client, shop_id, data, **extra):
    extra.setdefault("HTTP_X_CSRFTOKEN", CSRF)
    return client.post(f"/api/points/shops/{shop_id}/captures", data, content_type="application/json", **extra)


def held(world, item=None):
    """The household earns 10 points and holds them for one unit of the shop's item."""
    awards.award_directly(actor=world.village_admin, resident=world.head, item=world.rule("孝老敬亲"),
                          reason="照顾婆婆")
    return redemptions.hold(user=world.resident_user, item=item or world.item)


@pytest.fixture
def world(points_world):
    return points_world


@pytest.fixture
def merchant(world):
    return client_for(world.merchant)


def test_the_shops_manager_captures_once_and_the_ledger_balances(world, merchant):
    redemption = held(world)
    token = redemptions.token_for(redemption)
    shop_account = Account.objects.get(shop=world.shop)
    response = capture(merchant, world.shop.pk, {"token": token})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body | {"ended_at": None} == {
        "id": redemption.pk, "shop_id": world.shop.pk, "shop": "小山村爱心超市", "item": "大米5斤", "quantity": 1,
        "points": 10, "status": "captured", "status_label": "已领取", "ended_at": None}
    assert body["ended_at"] is not None
    shop_account.refresh_from_db()
    assert shop_account.balance == 10
    item = ShopItem.objects.get(pk=world.item.pk)
    assert (item.stock, item.reserved) == (4, 0)
    # The same token again: refused with what happened, nothing moves twice.
    entries = LedgerEntry.objects.count()
    again = capture(merchant, world.shop.pk, {"token": token})
    assert again.status_code == 409
    assert again.json()["code"] == "token_used" and "已于" in again.json()["detail"]
    assert "不能重复领取" in again.json()["detail"]
    assert LedgerEntry.objects.count() == entries
    assert ShopItem.objects.get(pk=world.item.pk).stock == 4
    assert verify_ledger().ok


@pytest.mark.parametrize(("token", "code"), [
    ("hello", "token_foreign"),
    ("GZ1:1.abcdef:forged", "token_invalid"),
])
def test_a_code_that_is_not_a_genuine_token_is_refused(world, merchant, token, code):
    response = capture(merchant, world.shop.pk, {"token": token})
    assert response.status_code == 409
    assert response.json()["code"] == code and response.json()["detail"]


def test_an_altered_token_is_refused_and_captures_nothing(world, merchant):
    token = redemptions.token_for(held(world))
    pk_part, rest = token.removeprefix("GZ1:").split(".", 1)
    altered = f"GZ1:{int(pk_part) + 1}.{rest}"
    response = capture(merchant, world.shop.pk, {"token": altered})
    assert response.status_code == 409 and response.json()["code"] == "token_invalid"
    assert Redemption.objects.get().status == Redemption.Status.HELD


def test_an_expired_or_cancelled_token_is_refused(world, merchant):
    redemption = held(world)
    token = redemptions.token_for(redemption)
    # A week later (the merchant's session is fresh: staff sessions end after an idle hour).
    with time_machine.travel(timezone.now() + datetime.timedelta(days=redemptions.HOLD_DAYS, hours=1)):
        response = capture(client_for(world.merchant), world.shop.pk, {"token": token})
    assert response.status_code == 409 and response.json()["code"] == "token_expired"
    assert Redemption.objects.get().status == Redemption.Status.EXPIRED
    assert verify_ledger().ok
    second = redemptions.hold(user=world.resident_user, item=world.item)
    redemptions.cancel(user=world.resident_user, redemption=second)
    response = capture(merchant, world.shop.pk, {"token": redemptions.token_for(second)})
    assert response.status_code == 409 and response.json()["code"] == "token_cancelled"


def test_another_shops_token_is_refused_at_a_shop_the_merchant_also_runs(world, merchant):
    other = shops.create_shop(actor=None, unit=world.town, fields=shops.ShopFields(name="八里惠民粮油店",
                                                                                  kind="alliance"))
    other.managers.set([world.merchant])
    token = redemptions.token_for(held(world))
    response = capture(merchant, other.pk, {"token": token})
    assert response.status_code == 409 and response.json()["code"] == "token_other_shop"
    assert "小山村爱心超市" in response.json()["detail"]


def test_only_the_shops_managers_may_capture_others_get_404(world, tree, make_staff):
    token = redemptions.token_for(held(world))
    other_merchant = make_staff("shanghu2", tree["town"], Role.MERCHANT)
    outsiders = [other_merchant, world.resident_user, world.dispatcher, world.village_admin]
    for user in outsiders:
        response = capture(client_for(user), world.shop.pk, {"token": token})
        assert response.status_code == 404, user.username
        assert response.json()["code"] == "not_found"
    # A shop that does not exist answers alike; a closed shop too, even to its manager.
    assert capture(client_for(world.merchant), 999_999, {"token": token}).status_code == 404
    world.shop.is_active = False
    world.shop.save()
    assert capture(client_for(world.merchant), world.shop.pk, {"token": token}).status_code == 404
    assert Redemption.objects.get().status == Redemption.Status.HELD


def test_a_village_administrator_managing_the_supermarket_captures(world):
    world.shop.managers.add(world.village_admin)
    response = capture(client_for(world.village_admin), world.shop.pk,
                       {"token": redemptions.token_for(held(world))})
    assert response.status_code == 200 and response.json()["status"] == "captured"


def test_not_signed_in_401_no_csrf_403_not_json_415(world):
    token = redemptions.token_for(held(world))
    anonymous = Client(enforce_csrf_checks=True)
    response = capture(anonymous, world.shop.pk, {"token": token})
    assert response.status_code == 401 and response.json()["code"] == "not_authenticated"
    merchant = client_for(world.merchant)
    assert capture(merchant, world.shop.pk, {"token": token}, HTTP_X_CSRFTOKEN="").status_code == 403
    form = merchant.post(f"/api/points/shops/{world.shop.pk}/captures", {"token": token}, HTTP_X_CSRFTOKEN=CSRF)
    assert form.status_code in {400, 415}
    world.merchant.is_active = False
    world.merchant.save()
    assert capture(merchant, world.shop.pk, {"token": token}).status_code == 401
    assert Redemption.objects.get().status == Redemption.Status.HELD


@pytest.mark.parametrize("data", [{}, {"token": ""}, {"token": "x" * 201}, {"token": 5},
                                  {"token": "GZ1:x", "extra": 1}, {"token": "GZ1:\x00"}])
def test_bad_input_is_422_and_changes_nothing(world, merchant, data):
    redemption = held(world)
    response = capture(merchant, world.shop.pk, data)
    assert response.status_code == 422 and response.json()["detail"]
    assert Redemption.objects.get(pk=redemption.pk).status == Redemption.Status.HELD


def test_the_endpoint_is_in_the_openapi_schema():
    paths = Client().get("/api/openapi.json").json()["paths"]
    assert set(paths["/api/points/shops/{shop_id}/captures"]["post"]["responses"]) == {
        "200", "400", "401", "403", "404", "409", "415", "422", "503"}


# --- fuzzing the operation signed in as the merchant (test_openapi_fuzz only ever sees 401 here)

points_schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application).include(
    path_regex="^/api/points")


@pytest.fixture
def merchant_cookies(world):
    """The merchant's session, with a held redemption to be found, plus the CSRF cookie."""
    held(world)
    assert Membership.objects.filter(user=world.merchant, role=Role.MERCHANT).exists()
    return session_cookies(User.objects.get(pk=world.merchant.pk))


@points_schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_signed_in_endpoints_conform_to_their_schema(case, merchant_cookies, keep_test_connection):
    if breaks_the_cookie(case):
        return
    case.call_and_validate(cookies=merchant_cookies, headers={"X-CSRFToken": CSRF, **IDENTITY},
                           excluded_checks=[positive_data_acceptance, ignored_auth])
