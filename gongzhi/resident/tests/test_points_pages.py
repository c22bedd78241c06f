"""The resident's points pages: 我的积分, 积分明细, 积分细则 and 申请积分, 我的申请, 积分商城, 我的兑换."""

import datetime
import io
import re

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from gongzhi.accounts.models import Membership, Role, User
from gongzhi.notifications.models import Notification
from gongzhi.points.factories import make_verified_resident
from gongzhi.points.models import Claim, EvidencePhoto, LedgerEntry, Redemption, Shop, ShopItem, StarScale
from gongzhi.points.selectors import resident as selectors
from gongzhi.points.services import awards, redemptions, rules, shops
from gongzhi.points.services.awards import ReviewDecision
from gongzhi.points.services.redemptions import _may_buy_at
from gongzhi.web.targets import url_for

pytestmark = pytest.mark.django_db

DANCE = "文艺演出"  # 2 points, a photo required, 12 a year
NEIGHBOURS = "调解邻里纠纷"  # 5 points, no photo needed, 4 a year
PATROL = "义务巡逻"  # 3 points, no photo needed, 24 a year


@pytest.fixture
def world(points_world, settings):
    settings.STORAGES = {**settings.STORAGES,
                         "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    return points_world


@pytest.fixture
def signed_in(client, world):
    client.force_login(world.resident_user)
    return client


def jpeg(name: str = "活动.jpg") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 120, 40)).save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def give(world, points_name: str = NEIGHBOURS, times: int = 1):
    """Points for 王秀兰's household, given by the village administrator."""
    for n in range(times):
        awards.award_directly(actor=world.village_admin, resident=world.head, item=world.rule(points_name),
                              reason=f"村委会认定 {n}", client_key=f"give-{points_name}-{n}")
    world.account.refresh_from_db()


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


# Every page ----------------------------------------------------------------------------------------------------

def test_every_points_page_renders_for_a_verified_resident(signed_in, world):
    give(world, times=3)  # 15 points
    claim = awards.submit_claim(user=world.resident_user, item=world.rule(DANCE), note="参加了广场舞比赛",
                                photos=[jpeg()])
    redemption = redemptions.hold(user=world.resident_user, item=world.item)
    pages = [reverse("resident:points"), reverse("resident:points_history"), reverse("resident:points_catalogue"),
             reverse("resident:points_claim_new", args=[world.rule(NEIGHBOURS).pk]),
             reverse("resident:points_claims"), reverse("resident:points_claim", args=[claim.pk]),
             reverse("resident:points_shop"), reverse("resident:points_shop_item", args=[world.item.pk]),
             reverse("resident:points_shop_item", args=[world.item.pk]) + "?quantity=1",
             reverse("resident:points_redemptions"),
             reverse("resident:points_redemption", args=[redemption.pk])]
    for url in pages:
        response = signed_in.get(url)
        assert response.status_code == 200, url
        assert "您的身份还没有核验" not in response.content.decode()

    page = text(signed_in.get(reverse("resident:points")))
    assert "<strong>5</strong>" in page  # 15 earned, 10 held for the redemption
    assert "<strong>10</strong>" in page
    assert page.count("★") == 1 and page.count("☆") == 9  # 15 points: one star (10), the second at 20
    assert "再得5分升为2星" in page and "今年已获得15分" in page
    assert "1件审核中" in page and "1个待领取" in page


def test_the_home_page_links_to_my_points(signed_in):
    assert f'href="{reverse("resident:points")}"' in signed_in.get("/").content.decode()


def test_stars_over_all_years_say_so_and_ten_stars_say_there_is_no_next(signed_in, world):
    rules.set_star_scale(actor=None, township=world.town, basis=StarScale.Basis.LIFETIME,
                         thresholds=[1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    give(world, times=2)
    page = text(signed_in.get(reverse("resident:points")))
    assert page.count("★") == 10 and "☆" not in page
    assert "历年累计获得10分" in page and "已达到最高的十星" in page


def test_large_type_mode_reaches_the_points_pages(signed_in, world):
    signed_in.cookies["large_type"] = "1"
    assert '<html lang="zh-hans" class="large-type">' in signed_in.get(reverse("resident:points")).content.decode()


def test_signed_out_visitors_are_sent_to_log_in(client, world):
    response = client.get(reverse("resident:points_shop"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("resident:login"))


# Not verified --------------------------------------------------------------------------------------------------

def test_an_unverified_resident_is_told_how_to_get_verified(client, world, tree):
    user = User.objects.create_user(username="unv", kind=User.Kind.RESIDENT, real_name="赵六")
    Membership.objects.create(user=user, unit=tree["grid"], role=Role.RESIDENT)
    client.force_login(user)
    for name in ("resident:points", "resident:points_history", "resident:points_catalogue", "resident:points_shop"):
        response = client.get(reverse(name))
        assert response.status_code == 200, name
        page = text(response)
        assert "您的身份还没有核验" in page and "村级管理员当面核验" in page, name
    for name in ("resident:points_claims", "resident:points_redemptions"):
        assert client.get(reverse(name)).status_code == 200
    response = client.post(reverse("resident:points_claim_new", args=[world.rule(NEIGHBOURS).pk]),
                           {"note": "调解了邻居纠纷"})
    assert "您的身份还没有核验" in text(response)
    assert not Claim.objects.exists()
    response = client.post(reverse("resident:points_shop_item", args=[world.item.pk]), {"quantity": "1"})
    assert "您的身份还没有核验" in text(response) and not Redemption.objects.exists()


# Only one's own ------------------------------------------------------------------------------------------------

def test_another_residents_claim_and_redemption_answer_404(client, world, tree):
    give(world, times=2)
    claim = awards.submit_claim(user=world.resident_user, item=world.rule(DANCE), note="广场舞", photos=[jpeg()])
    redemption = redemptions.hold(user=world.resident_user, item=world.item)
    photo = EvidencePhoto.objects.get(claim=claim)
    # Her husband shares the household's points, but the claim and the code are hers alone.
    _husband, other = make_verified_resident(grid=tree["grid"], household=world.household, username="husband",
                                             name="张国强", id_number="621102196502143813", head=False)
    client.force_login(other)
    for url in (reverse("resident:points_claim", args=[claim.pk]),
                reverse("resident:points_redemption", args=[redemption.pk]), photo.file.url,
                reverse("resident:points_claim", args=[claim.pk + 100])):
        assert client.get(url).status_code == 404, url
    for url in (reverse("resident:points_claim_withdraw", args=[claim.pk]),
                reverse("resident:points_claim_supplement", args=[claim.pk]),
                reverse("resident:points_redemption_cancel", args=[redemption.pk])):
        assert client.post(url, {"note": "x"}).status_code == 404, url
    assert "广场舞" not in client.get(reverse("resident:points_claims")).content.decode()
    assert "大米5斤" not in client.get(reverse("resident:points_redemptions")).content.decode()
    claim.refresh_from_db()
    redemption.refresh_from_db()
    assert claim.status == Claim.Status.SUBMITTED and redemption.status == Redemption.Status.HELD

    client.force_login(world.resident_user)
    assert client.get(photo.file.url).status_code == 200
    assert client.get(photo.thumbnail.url).status_code == 200
    client.force_login(world.village_admin)  # the reviewer sees the evidence too
    assert client.get(photo.file.url).status_code == 200


# 积分细则 ---------------------------------------------------------------------------------------------------------

def test_the_catalogue_shows_live_items_of_the_township_and_the_village_grouped(signed_in, world, tree):
    own = rules.add_category(actor=None, township=world.town, village=world.village, name="小山村特色")
    rules.add_item(actor=None, category=own, fields=rules.ItemFields(name="参与村史馆讲解", points=3))
    other = rules.add_category(actor=None, township=world.town, village=tree["village2"], name="大湾村特色")
    theirs = rules.add_item(actor=None, category=other, fields=rules.ItemFields(name="大湾村护林巡山", points=3))
    old = world.rule(NEIGHBOURS)
    new = rules.change_item(actor=None, item=old, fields=rules.ItemFields(
        name="邻里和睦，主动调解邻里纠纷（新）", points=6, evidence="当事人或网格员证明", cap_count=4))
    page = text(signed_in.get(reverse("resident:points_catalogue")))
    assert page.count('class="rule-group"') == 8  # the 7 preset categories and the village's own
    assert "参与村史馆讲解" in page and "小山村特色" in page and "大湾村护林巡山" not in page
    assert f'href="{reverse("resident:points_claim_new", args=[new.pk])}"' in page
    assert f'href="{reverse("resident:points_claim_new", args=[old.pk])}"' not in page
    assert "每年最多4次" in page and "扣分项" in page and "系统自动给予" in page
    # Only a live, claimable item of one's own village opens a form.
    deduction = next(i for g in selectors.catalogue(selectors.member(world.resident_user)) for i in g.items
                     if i.is_deduction)
    for item in (old, theirs, deduction):
        assert signed_in.get(reverse("resident:points_claim_new", args=[item.pk])).status_code == 404


# 申请积分 ---------------------------------------------------------------------------------------------------------

def test_a_claim_with_a_photo_goes_to_review_and_the_village_hears_of_it(signed_in, world,
                                                                       django_capture_on_commit_callbacks):
    url = reverse("resident:points_claim_new", args=[world.rule(DANCE).pk])
    form_page = signed_in.get(url).content.decode()
    key = re.search(r'name="client_key" value="(\w+)"', form_page).group(1)
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post(url, {"note": "参加村里的广场舞比赛", "photos": [jpeg()], "client_key": key})
    claim = Claim.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("resident:points_claim", args=[claim.pk])
    assert claim.claimant == world.resident_user and claim.photos.count() == 1
    page = text(signed_in.get(response["Location"]))
    assert "待审核" in page and "申请已提交" in page and "参加村里的广场舞比赛" in page
    assert Notification.objects.filter(recipient=world.village_admin, target_type="claim").count() == 1


def test_a_claim_without_a_note_or_a_required_photo_is_refused_next_to_the_field(signed_in, world, media):
    url = reverse("resident:points_claim_new", args=[world.rule(DANCE).pk])
    response = signed_in.post(url, {"note": "  ", "client_key": "k1"})
    assert response.status_code == 422
    assert 'id="id_note_error"' in response.content.decode() and "请简要说明事迹。" in text(response)
    response = signed_in.post(url, {"note": "参加了广场舞", "client_key": "k2"})
    assert response.status_code == 422
    assert 'id="id_photos_error"' in response.content.decode() and "该事项须上传照片作为佐证。" in text(response)
    assert not Claim.objects.exists() and not EvidencePhoto.objects.exists()
    assert not list((media / "points").rglob("*.jpg")) if (media / "points").exists() else True
    # An item that needs no photo goes without one.
    response = signed_in.post(reverse("resident:points_claim_new", args=[world.rule(NEIGHBOURS).pk]),
                              {"note": "调解了两家的地界纠纷", "client_key": "k3"})
    assert response.status_code == 302 and Claim.objects.count() == 1


def test_the_same_claim_form_sent_twice_makes_one_claim(signed_in, world):
    url = reverse("resident:points_claim_new", args=[world.rule(NEIGHBOURS).pk])
    first = signed_in.post(url, {"note": "调解纠纷", "client_key": "same-key"})
    second = signed_in.post(url, {"note": "调解纠纷", "client_key": "same-key"})
    assert Claim.objects.count() == 1
    assert first["Location"] == second["Location"]


def test_a_second_claim_for_an_item_under_review_is_refused_plainly(signed_in, world):
    url = reverse("resident:points_claim_new", args=[world.rule(NEIGHBOURS).pk])
    signed_in.post(url, {"note": "调解纠纷", "client_key": "a"})
    response = signed_in.post(url, {"note": "又调解了一次", "client_key": "b"})
    assert response.status_code == 422 and "本户已有该事项的申请在审核中" in text(response)
    assert "已申请，审核中" in text(signed_in.get(reverse("resident:points_catalogue")))


# 我的申请 ---------------------------------------------------------------------------------------------------------

def test_more_needed_then_supplement_then_withdraw(signed_in, world, django_capture_on_commit_callbacks):
    claim = awards.submit_claim(user=world.resident_user, item=world.rule(NEIGHBOURS), note="调解纠纷")
    with django_capture_on_commit_callbacks(execute=True):
        awards.review_claim(actor=world.village_admin, claim=claim, decision=ReviewDecision.MORE,
                            note="请补充当事人签字的证明")
    notice = Notification.objects.get(recipient=world.resident_user, target_type="claim")
    assert url_for(notice, portal="resident") == reverse("resident:points_claim", args=[claim.pk])
    page = text(signed_in.get(reverse("resident:points_claim", args=[claim.pk])))
    assert "待补充材料" in page and "请补充当事人签字的证明" in page and "提交补充材料" in page
    notice.refresh_from_db()
    assert notice.read_at is not None  # opening the claim read its message
    url = reverse("resident:points_claim_supplement", args=[claim.pk])
    response = signed_in.post(url, {"note": ""})
    assert response.status_code == 422 and "请填写补充说明。" in text(response)
    response = signed_in.post(url, {"note": "已请双方签字", "photos": [jpeg("证明.jpg")]})
    assert response.status_code == 302
    claim.refresh_from_db()
    assert claim.status == Claim.Status.SUBMITTED and claim.photos.count() == 1 and "已请双方签字" in claim.note
    response = signed_in.post(reverse("resident:points_claim_withdraw", args=[claim.pk]))
    assert response.status_code == 302
    claim.refresh_from_db()
    assert claim.status == Claim.Status.WITHDRAWN
    page = text(signed_in.get(reverse("resident:points_claim", args=[claim.pk])))
    assert "已撤回" in page and "撤回申请" not in page


def test_an_approved_claim_shows_the_points_and_a_rejected_one_the_reason(signed_in, world):
    claim = awards.submit_claim(user=world.resident_user, item=world.rule(NEIGHBOURS), note="调解纠纷")
    awards.review_claim(actor=world.village_admin, claim=claim, decision=ReviewDecision.APPROVE)
    page = text(signed_in.get(reverse("resident:points_claim", args=[claim.pk])))
    assert "已通过" in page and "5分已记入本户积分" in page
    response = signed_in.post(reverse("resident:points_claim_withdraw", args=[claim.pk]))
    assert "该申请已审核，不能撤回。" in text(signed_in.get(response["Location"]))
    other = awards.submit_claim(user=world.resident_user, item=world.rule(DANCE), note="跳舞", photos=[jpeg()])
    awards.review_claim(actor=world.village_admin, claim=other, decision=ReviewDecision.REJECT, note="照片看不清")
    assert "照片看不清" in text(signed_in.get(reverse("resident:points_claim", args=[other.pk])))


# 积分明细 ---------------------------------------------------------------------------------------------------------

def test_history_lists_entries_with_amounts_and_reasons_paged(signed_in, world):
    give(world, times=3)
    redemptions.hold(user=world.resident_user, item=world.item)
    page = text(signed_in.get(reverse("resident:points_history")))
    assert page.count("+5") == 3 and "-10" in page and "事由：村委会认定 0" in page
    assert "小山村爱心超市 大米5斤×1" in page
    for n in range(3, 25):
        awards.award_directly(actor=world.village_admin, resident=world.head, item=world.rule("志愿服务"),
                              reason=f"志愿 {n}", client_key=f"v{n}")
    first = signed_in.get(reverse("resident:points_history"))
    assert first.content.decode().count('class="points-entry-head"') == 20 and "下一页" in text(first)
    second = signed_in.get(reverse("resident:points_history") + "?page=2")
    assert second.content.decode().count('class="points-entry-head"') == LedgerEntry.objects.filter(
        account=world.account).count() - 20


# 积分商城 and 我的兑换 -------------------------------------------------------------------------------------------

def test_the_shop_lists_the_villages_supermarket_and_the_townships_merchants_only(signed_in, world, tree):
    merchant = shops.create_shop(actor=None, unit=world.town, fields=shops.ShopFields(
        name="八里镇便民超市", kind=Shop.Kind.ALLIANCE, address="八里镇街道1号", hours="8:00-20:00"))
    shops.add_item(actor=None, shop=merchant, fields=shops.ItemFields(name="洗衣粉", price=8, stock=3))
    other = shops.create_shop(actor=None, unit=tree["village2"], fields=shops.ShopFields(
        name="大湾村爱心超市", kind=Shop.Kind.LOVE_SUPERMARKET))
    theirs = shops.add_item(actor=None, shop=other, fields=shops.ItemFields(name="食用油", price=5, stock=3))
    far = shops.create_shop(actor=None, unit=tree["other_town"], fields=shops.ShopFields(
        name="城关镇商店", kind=Shop.Kind.ALLIANCE))
    shops.add_item(actor=None, shop=far, fields=shops.ItemFields(name="毛巾", price=5, stock=3))
    page = text(signed_in.get(reverse("resident:points_shop")))
    assert "小山村爱心超市" in page and "八里镇便民超市" in page and "洗衣粉" in page
    assert "大湾村爱心超市" not in page and "城关镇商店" not in page
    assert page.index("小山村爱心超市") < page.index("八里镇便民超市")  # the village's own first
    assert signed_in.get(reverse("resident:points_shop_item", args=[theirs.pk])).status_code == 404
    # The same rule as the hold's.
    member = selectors.member(world.resident_user)
    listed = {offer.shop.pk for offer in selectors.shops(member)}
    assert listed == {s.pk for s in Shop.objects.all() if _may_buy_at(world.head, s)}


def test_holding_without_enough_points_is_refused_with_the_reason_and_changes_nothing(signed_in, world):
    give(world)  # 5 points; the rice costs 10
    url = reverse("resident:points_shop_item", args=[world.item.pk])
    assert "积分不足：现有5分，需要10分。" in text(signed_in.get(url))
    response = signed_in.post(url, {"quantity": "1", "client_key": "hold-1"})
    assert response.status_code == 422
    assert "积分不足：现有5分，需要10分。" in text(response)
    world.account.refresh_from_db()
    world.item.refresh_from_db()
    assert world.account.balance == 5 and world.item.reserved == 0 and not Redemption.objects.exists()


def test_hold_confirm_shows_the_balance_after_and_a_double_submit_holds_once(signed_in, world):
    give(world, PATROL, times=10)  # 30 points
    url = reverse("resident:points_shop_item", args=[world.item.pk])
    page = text(signed_in.get(url + "?quantity=2"))
    assert "大米5斤 × 2" in page and "20分" in page and "兑换后余额" in page and "<dd>10分</dd>" in page
    key = re.search(r'name="client_key" value="(\w+)"', page).group(1)
    first = signed_in.post(url, {"quantity": "2", "client_key": key})
    second = signed_in.post(url, {"quantity": "2", "client_key": key})
    redemption = Redemption.objects.get()
    assert first["Location"] == second["Location"] == reverse("resident:points_redemption", args=[redemption.pk])
    world.account.refresh_from_db()
    world.item.refresh_from_db()
    assert world.account.balance == 10 and world.item.reserved == 2


def test_the_redemption_page_shows_the_qr_code_and_code_uncached_and_cancel_releases(signed_in, world):
    give(world, times=2)
    redemption = redemptions.hold(user=world.resident_user, item=world.item)
    world.account.refresh_from_db()
    assert world.account.balance == 0
    response = signed_in.get(reverse("resident:points_redemption", args=[redemption.pk]))
    assert "no-store" in response["Cache-Control"]
    page = text(response)
    assert '<svg width="' in page and 'viewBox="0 0 ' in page and 'class="redeem-qr-code"' in page
    assert f"{redemption.code[:3]} {redemption.code[3:]}" in page
    assert "小山村村委会" in page and "周一至周五 9:00-17:00" in page and "有效期至" in page
    response = signed_in.post(reverse("resident:points_redemption_cancel", args=[redemption.pk]))
    assert response.status_code == 302
    world.account.refresh_from_db()
    world.item.refresh_from_db()
    redemption.refresh_from_db()
    assert world.account.balance == 10 and world.item.reserved == 0
    assert redemption.status == Redemption.Status.CANCELLED
    page = text(signed_in.get(response["Location"]))
    assert "已取消兑换，10分已退回。" in page and "redeem-qr-code" not in page and redemption.code not in page


def test_captured_and_expired_redemptions_show_their_state_and_time(signed_in, world,
                                                                   django_capture_on_commit_callbacks):
    give(world, times=4)
    taken = redemptions.hold(user=world.resident_user, item=world.item, client_key="a")
    with (time_machine.travel(timezone.now() + datetime.timedelta(hours=1)),
          django_capture_on_commit_callbacks(execute=True)):
        redemptions.capture_code(merchant=world.merchant, shop=world.shop, code=taken.code)
    taken.refresh_from_db()
    page = text(signed_in.get(reverse("resident:points_redemption", args=[taken.pk])))
    when = timezone.localtime(taken.ended_at).strftime("%Y-%m-%d %H:%M")
    assert "已领取" in page and f"已于{when}领取" in page and "redeem-qr-code" not in page
    notice = Notification.objects.get(recipient=world.resident_user, target_type="redemption")
    assert url_for(notice, portal="resident") == reverse("resident:points_redemption", args=[taken.pk])

    lapsing = redemptions.hold(user=world.resident_user, item=world.item, client_key="b")
    later = lapsing.expires_at + datetime.timedelta(minutes=1)
    with time_machine.travel(later):
        page = text(signed_in.get(reverse("resident:points_redemption", args=[lapsing.pk])))
        assert "冻结的积分将自动退回" in page and "redeem-qr-code" not in page and lapsing.code not in page
        redemptions.expire_due()
        page = text(signed_in.get(reverse("resident:points_redemption", args=[lapsing.pk])))
    assert "已过期" in page and "20分已退回" not in page and "10分已退回" in page


def test_an_award_notice_opens_my_points(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        give(world)
    notice = Notification.objects.get(recipient=world.resident_user, target_type="points")
    assert url_for(notice, portal="resident") == reverse("resident:points")


def test_sold_out_items_show_as_such_without_a_button(signed_in, world):
    ShopItem.objects.filter(pk=world.item.pk).update(reserved=5)
    page = text(signed_in.get(reverse("resident:points_shop")))
    assert "已兑完" in page and reverse("resident:points_shop_item", args=[world.item.pk]) not in page


def test_opening_each_points_notice_from_the_inbox_lands_on_its_page(signed_in, world,
                                                                      django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        give(world, times=2)
        claim = awards.submit_claim(user=world.resident_user, item=world.rule(DANCE), note="跳舞", photos=[jpeg()])
        awards.review_claim(actor=world.village_admin, claim=claim, decision=ReviewDecision.APPROVE)
        lapsed = redemptions.hold(user=world.resident_user, item=world.item, client_key="x")
    with (time_machine.travel(lapsed.expires_at + datetime.timedelta(minutes=1)),
          django_capture_on_commit_callbacks(execute=True)):
        redemptions.expire_due()
    expected = {"points.award": reverse("resident:points"),
                "points.claim_reviewed": reverse("resident:points_claim", args=[claim.pk]),
                "points.redemption_expired": reverse("resident:points_redemption", args=[lapsed.pk])}
    mine = Notification.objects.filter(recipient=world.resident_user)
    assert {n.kind for n in mine} == set(expected)
    for notice in mine:
        response = signed_in.post(reverse("resident:message_open", args=[notice.pk]))
        assert response.status_code == 302 and response["Location"] == expected[notice.kind], notice.kind
        assert signed_in.get(response["Location"]).status_code == 200
