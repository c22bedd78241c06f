"""积分审核 and 村积分台账 in the worker portal (小山村's village administrator) and the command portal (八里镇's
dispatcher): who sees and decides which claims, each decision with its validation, a replayed approval crediting
once, giving, deducting and correcting points on a household's page, the village's ledger in one query per page,
and who may open a claim's or an award's photos."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from gongzhi.accounts.models import Role
from gongzhi.notifications.models import Notification
from gongzhi.points.factories import make_verified_resident
from gongzhi.points.models import Account, Award, Claim, EvidencePhoto
from gongzhi.points.services import awards as award_services
from gongzhi.registry.models import Household
from gongzhi.testing.fieldwork import phone_photo
from gongzhi.web.targets import url_for

pytestmark = pytest.mark.django_db

FILIAL = "孝老敬亲"        # a village item, 10 points, photo required, once a year
DAUGHTER_IN_LAW = "好媳妇"  # a township item, 20 points
DRIVE = "参加村里组织的文艺演出"  # a village item, 2 points, 12 a year
BURNING = "违规焚烧秸秆"     # a village deduction, -10


@pytest.fixture
def office(points_world, tree, make_staff):
    w = points_world
    return {
        "w": w,
        "supervisor": make_staff("督查员", tree["town"], Role.SUPERVISOR),
        "station": make_staff("村工作站", tree["village"], Role.VILLAGE_STATION),
        "other_admin": make_staff("大湾村管理员", tree["village2"], Role.VILLAGE_ADMIN),
        "other_dispatcher": make_staff("城关调度", tree["other_town"], Role.DISPATCHER),
        "grid_worker": make_staff("网格员", tree["grid"], Role.GRID_WORKER),
    }


@pytest.fixture
def claims(office):
    w = office["w"]
    village = award_services.submit_claim(user=w.resident_user, item=w.rule(FILIAL), note="照顾瘫痪婆婆十年",
                                          photos=[phone_photo()])
    township = award_services.submit_claim(user=w.resident_user, item=w.rule(DAUGHTER_IN_LAW),
                                           note="被评为县级好媳妇", photos=[phone_photo()])
    return {"village": village, "township": township}


@pytest.fixture
def neighbour(points_world):
    """Another verified resident of 小山村, in a household of her own."""
    w = points_world
    home = Household.objects.create(village=w.village, grid=w.head.grid, number="H-P02", address="小山村一社9号")
    resident, user = make_verified_resident(grid=w.head.grid, household=home, username="lmz", name="李美珍",
                                            id_number="621102197001010013")
    return {"household": home, "resident": resident, "user": user}


def _login(client, user):
    client.force_login(user)
    return client


def claim_url(portal, claim, decision=None):
    if decision:
        return reverse(f"{portal}:points_claim_review", args=[claim.pk, decision])
    return reverse(f"{portal}:points_claim", args=[claim.pk])


def _balance(w):
    return Account.objects.get(household=w.household).balance


# ---------------------------------------------------------------------------------------------------------
# Who sees and decides which claims


def test_the_village_administrator_reviews_only_her_villages_village_items(client, office, claims):
    w = office["w"]
    _login(client, w.village_admin)
    page = client.get(reverse("worker:points_review"))
    assert page.status_code == 200
    text = page.content.decode()
    assert claim_url("worker", claims["village"]) in text
    assert claim_url("worker", claims["township"]) not in text  # a township item waits for the township
    # She may see it among all her village's claims, without the buttons.
    assert claim_url("worker", claims["township"]) in client.get(reverse("worker:points_review") + "?scope=all") \
        .content.decode()
    detail = client.get(claim_url("worker", claims["township"]))
    assert detail.status_code == 200 and 'id="approve"' not in detail.content.decode()
    assert "该事项由乡镇(街道)管理员审核" in detail.content.decode()
    assert client.post(claim_url("worker", claims["township"], "approve")).status_code == 403
    assert Claim.objects.get(pk=claims["township"].pk).status == Claim.Status.SUBMITTED
    # Her own item: the page with the three decisions.
    detail = client.get(claim_url("worker", claims["village"])).content.decode()
    assert 'id="approve"' in detail and 'id="decide-reject"' in detail and 'id="decide-more"' in detail
    assert "照顾瘫痪婆婆十年" in detail and "H-P01" in detail
    assert "621102********3826" in detail and "621102196804123826" not in detail  # masked


def test_the_township_dispatcher_reviews_township_and_village_items(client, office, claims):
    w = office["w"]
    _login(client, w.dispatcher)
    text = client.get(reverse("command:points_review")).content.decode()
    assert claim_url("command", claims["village"]) in text and claim_url("command", claims["township"]) in text
    response = client.post(claim_url("command", claims["township"], "approve"))
    assert response.status_code == 302
    assert Claim.objects.get(pk=claims["township"].pk).status == Claim.Status.APPROVED
    assert _balance(w) == 20


def test_a_supervisor_sees_claims_and_cannot_act(client, office, claims):
    _login(client, office["supervisor"])
    text = client.get(reverse("command:points_review")).content.decode()
    assert claim_url("command", claims["village"]) in text  # all they may see: they review nothing
    detail = client.get(claim_url("command", claims["village"]))
    assert detail.status_code == 200
    assert 'id="approve"' not in detail.content.decode() and 'id="decide-reject"' not in detail.content.decode()
    assert client.post(claim_url("command", claims["village"], "approve")).status_code == 403
    assert client.post(claim_url("command", claims["village"], "reject"), {"reject-note": "不符"}).status_code == 403
    assert Claim.objects.get(pk=claims["village"].pk).status == Claim.Status.SUBMITTED


@pytest.mark.parametrize("who", ["other_dispatcher", "other_admin"])
def test_outside_the_village_a_claim_is_not_found(client, office, claims, who):
    user = office[who]
    portal = "command" if who == "other_dispatcher" else "worker"
    _login(client, user)
    assert claim_url(portal, claims["village"]) not in client.get(reverse(f"{portal}:points_review")).content.decode()
    assert client.get(claim_url(portal, claims["village"])).status_code == 404
    assert client.post(claim_url(portal, claims["village"], "approve")).status_code == 404
    assert client.get(reverse(f"{portal}:points_household", args=[office["w"].household.pk])).status_code == 404
    assert client.get(reverse(f"{portal}:points_village", args=[office["w"].village.pk])).status_code == 404
    assert Claim.objects.get(pk=claims["village"].pk).status == Claim.Status.SUBMITTED


def test_a_grid_worker_has_no_points_office(client, office, claims):
    _login(client, office["grid_worker"])
    assert client.get(reverse("worker:points_review")).status_code == 404
    assert client.get(claim_url("worker", claims["village"])).status_code == 404
    assert "points/review" not in client.get(reverse("worker:home")).content.decode()


def test_the_nav_shows_the_pending_count_to_reviewers_only(client, office, claims):
    w = office["w"]
    _login(client, w.village_admin)
    nav = client.get(reverse("worker:me")).content.decode()
    assert reverse("worker:points_review") in nav
    assert re.search(r"1条积分申请待审核", nav)  # her one village item
    _login(client, w.dispatcher)
    assert "2条积分申请待审核" in client.get(reverse("command:home")).content.decode()
    _login(client, office["supervisor"])
    home = client.get(reverse("command:home")).content.decode()
    assert reverse("command:points_review") in home and "积分申请待审核" not in home


def test_the_queue_filters_by_status_and_keeps_the_oldest_first(client, office, claims, tree):
    w = office["w"]
    second = award_services.submit_claim(user=w.resident_user, item=w.rule(DRIVE), note="参加广场舞比赛",
                                         photos=[phone_photo()])
    _login(client, w.village_admin)
    text = client.get(reverse("worker:points_review")).content.decode()
    assert text.index(claim_url("worker", claims["village"])) < text.index(claim_url("worker", second))
    client.post(claim_url("worker", second, "reject"), {"reject-note": "当月已参加活动次数不符"})
    assert claim_url("worker", second) not in client.get(reverse("worker:points_review")).content.decode()
    rejected = client.get(reverse("worker:points_review") + "?status=rejected").content.decode()
    assert claim_url("worker", second) in rejected and claim_url("worker", claims["village"]) not in rejected
    _login(client, w.dispatcher)
    village2 = reverse("command:points_review") + f"?village={tree['village2'].pk}"
    assert claim_url("command", claims["village"]) not in client.get(village2).content.decode()


# ---------------------------------------------------------------------------------------------------------
# The decisions


def test_approving_credits_once_even_when_the_form_is_sent_again(client, office, claims):
    w = office["w"]
    _login(client, w.village_admin)
    url = claim_url("worker", claims["village"], "approve")
    first = client.post(url, {"approve-note": ""})
    assert first.status_code == 302 and first["Location"] == claim_url("worker", claims["village"])
    again = client.post(url, {"approve-note": ""})
    assert again.status_code == 302
    assert Award.objects.filter(claim=claims["village"]).count() == 1
    assert _balance(w) == 10
    page = client.get(claim_url("worker", claims["village"])).content.decode()
    assert "已通过" in page and 'id="approve"' not in page


def test_rejecting_needs_a_reason(client, office, claims):
    w = office["w"]
    _login(client, w.village_admin)
    url = claim_url("worker", claims["village"], "reject")
    response = client.post(url, {"reject-note": "  "})
    assert response.status_code == 422
    assert "请填写驳回原因。" in response.content.decode()
    assert Claim.objects.get(pk=claims["village"].pk).status == Claim.Status.SUBMITTED
    assert client.post(url, {"reject-note": "照片与事迹不符"}).status_code == 302
    claim = Claim.objects.get(pk=claims["village"].pk)
    assert claim.status == Claim.Status.REJECTED and claim.review_note == "照片与事迹不符"
    assert _balance(w) == 0


def test_asking_for_more_needs_what_is_missing(client, office, claims):
    w = office["w"]
    _login(client, w.village_admin)
    url = claim_url("worker", claims["village"], "more")
    response = client.post(url, {"more-note": ""})
    assert response.status_code == 422 and "请写明需要补充的材料。" in response.content.decode()
    assert client.post(url, {"more-note": "请补充村民小组证明"}).status_code == 302
    assert Claim.objects.get(pk=claims["village"].pk).status == Claim.Status.MORE_NEEDED
    page = client.get(claim_url("worker", claims["village"])).content.decode()
    assert "已请群众补充材料" in page and 'id="approve"' not in page


def test_a_claim_decided_otherwise_meanwhile_is_refused_with_a_message(client, office, claims):
    w = office["w"]
    _login(client, w.village_admin)
    client.post(claim_url("worker", claims["village"], "reject"), {"reject-note": "不符"})
    response = client.post(claim_url("worker", claims["village"], "approve"))
    assert response.status_code == 422
    assert "该申请当前为“未通过”，不能再审核。" in response.content.decode()
    assert _balance(w) == 0


def test_an_unknown_decision_is_not_found(client, office, claims):
    _login(client, office["w"].village_admin)
    assert client.post(claim_url("worker", claims["village"], "maybe")).status_code == 404


def test_a_claim_notice_opens_the_review_page_and_is_read_there(client, office, django_capture_on_commit_callbacks):
    w = office["w"]
    with django_capture_on_commit_callbacks(execute=True):
        award_services.submit_claim(user=w.resident_user, item=w.rule(FILIAL), note="照顾婆婆", photos=[phone_photo()])
        award_services.submit_claim(user=w.resident_user, item=w.rule(DAUGHTER_IN_LAW), note="好媳妇",
                                    photos=[phone_photo()])
    notice = Notification.objects.filter(recipient=w.village_admin, target_type="claim").first()
    assert notice is not None
    assert url_for(notice, portal="worker") == claim_url("worker", Claim.objects.get(pk=notice.target_id))
    _login(client, w.village_admin)
    client.get(url_for(notice, portal="worker"))
    notice.refresh_from_db()
    assert notice.read_at is not None
    dispatcher_notice = Notification.objects.filter(recipient=w.dispatcher, target_type="claim").first()
    assert url_for(dispatcher_notice, portal="command") == reverse("command:points_claim",
                                                                   args=[dispatcher_notice.target_id])


# ---------------------------------------------------------------------------------------------------------
# The village ledger


def test_the_village_ledger_lists_every_household_with_points_and_stars(client, office, neighbour):
    w = office["w"]
    award_services.award_directly(actor=w.village_admin, resident=w.head, item=w.rule(FILIAL), reason="事迹突出")
    award_services.award_directly(actor=w.village_admin, resident=neighbour["resident"], item=w.rule(DRIVE),
                                  reason="参加广场舞")
    _login(client, w.village_admin)
    # One village: the ledger link goes straight to it.
    assert client.get(reverse("worker:points_villages"))["Location"] == reverse("worker:points_village",
                                                                              args=[w.village.pk])
    url = reverse("worker:points_village", args=[w.village.pk])
    text = client.get(url).content.decode()
    assert "H-P01" in text and "H-P02" in text and "王秀兰" in text and "李美珍" in text
    assert 'aria-label="1星"' in text  # 10 points: one star on the preset scale
    by_stars = client.get(url + "?sort=stars").content.decode()
    assert by_stars.index("H-P01") < by_stars.index("H-P02")
    by_number = client.get(url + "?sort=number").content.decode()
    assert by_number.index("H-P01") < by_number.index("H-P02")
    found = client.get(url + "?q=李美").content.decode()
    assert "H-P02" in found and "H-P01" not in found
    found = client.get(url + "?q=p01").content.decode()
    assert "H-P01" in found and "H-P02" not in found


@pytest.mark.parametrize("sort", ["number", "stars", "balance"])
def test_the_village_ledger_costs_the_same_queries_however_many_households(client, office, sort):
    w = office["w"]
    _login(client, w.dispatcher)
    url = reverse("command:points_village", args=[w.village.pk]) + f"?sort={sort}"
    client.get(url)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    few = queries()
    for i in range(12):
        home = Household.objects.create(village=w.village, grid=w.head.grid, number=f"H-Q{i:02d}", address="x")
        resident, _user = make_verified_resident(grid=w.head.grid, household=home, username=f"q{i}", name=f"村民{i}",
                                                 id_number=_id(i))
        award_services.award_directly(actor=w.dispatcher, resident=resident, item=w.rule(DRIVE), reason="活动")
    assert queries() == few


def _id(i: int) -> str:
    from stdnum.cn import ric

    base = f"62110219900101{i:03d}"
    return base + ric.calc_check_digit(base)


def test_a_households_page_costs_the_same_queries_however_many_awards(client, office):
    w = office["w"]
    award_services.award_directly(actor=w.village_admin, resident=w.head, item=w.rule(DRIVE), reason="活动",
                                  photos=[phone_photo()])
    _login(client, w.village_admin)
    url = reverse("worker:points_household", args=[w.household.pk])
    client.get(url)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    few = queries()
    for i in range(8):
        award_services.award_directly(actor=w.village_admin if i % 2 else w.dispatcher, resident=w.head,
                                      item=w.rule(DRIVE), reason=f"活动{i}", photos=[phone_photo()])
    assert queries() == few
    url += "?view=ledger"  # the ledger tab costs no more
    client.get(url)
    assert queries() <= few


def test_the_dispatcher_chooses_among_the_townships_villages(client, office):
    _login(client, office["w"].dispatcher)
    text = client.get(reverse("command:points_villages")).content.decode()
    assert "小山村" in text and "大湾村" in text and "东关社区" not in text


# ---------------------------------------------------------------------------------------------------------
# Giving, deducting, correcting


def _award_url(portal, household, kind):
    return reverse(f"{portal}:points_household_award", args=[household.pk, kind])


def test_giving_points_on_the_household_page_books_once_per_form(client, office):
    w = office["w"]
    _login(client, w.village_admin)
    page = client.get(reverse("worker:points_household", args=[w.household.pk])).content.decode()
    assert 'id="give"' in page and 'id="deduct"' in page
    assert DAUGHTER_IN_LAW not in page  # a township item is not hers to give
    item = w.rule(FILIAL)
    data = {"give-rule_item": str(item.pk), "give-reason": "照顾婆婆", "give-client_key": "k1",
            "give-photos": [phone_photo()]}
    assert client.post(_award_url("worker", w.household, "give"), data).status_code == 302
    data["give-photos"] = [phone_photo()]
    assert client.post(_award_url("worker", w.household, "give"), data).status_code == 302
    assert Award.objects.filter(account__household=w.household).count() == 1
    assert _balance(w) == 10
    award = Award.objects.get(account__household=w.household)
    assert award.actor == w.village_admin and award.photos.count() == 1
    page = client.get(reverse("worker:points_household", args=[w.household.pk])).content.decode()
    assert "照顾婆婆" in page and award.photos.first().thumbnail.url in page


def test_the_award_form_explains_what_is_missing(client, office):
    w = office["w"]
    _login(client, w.village_admin)
    url = _award_url("worker", w.household, "give")
    response = client.post(url, {"give-rule_item": "", "give-reason": "x"})
    assert response.status_code == 422 and "请选择积分事项。" in response.content.decode()
    response = client.post(url, {"give-rule_item": str(w.rule(FILIAL).pk), "give-reason": ""})
    assert response.status_code == 422 and "请填写事由。" in response.content.decode()
    township = w.rule(DAUGHTER_IN_LAW)
    response = client.post(url, {"give-rule_item": str(township.pk), "give-reason": "评上了"})
    assert response.status_code == 422 and "该积分事项已停用或已修改，请重新选择。" in response.content.decode()
    # A deduction item is not among the gifts (and the other way round).
    response = client.post(url, {"give-rule_item": str(w.rule(BURNING).pk), "give-reason": "x"})
    assert response.status_code == 422
    assert not Award.objects.exists()
    # The cap: 孝老敬亲 once a year.
    client.post(url, {"give-rule_item": str(w.rule(FILIAL).pk), "give-reason": "第一次", "give-client_key": "a"})
    response = client.post(url, {"give-rule_item": str(w.rule(FILIAL).pk), "give-reason": "第二次",
                                 "give-client_key": "b"})
    assert response.status_code == 422 and "本户已达上限" in response.content.decode()
    assert Award.objects.count() == 1


def test_a_deduction_larger_than_the_balance_books_what_there_is(client, office):
    w = office["w"]
    _login(client, w.village_admin)
    client.post(_award_url("worker", w.household, "give"),
                {"give-rule_item": str(w.rule(DRIVE).pk), "give-reason": "广场舞", "give-client_key": "g"})
    response = client.post(_award_url("worker", w.household, "deduct"),
                           {"deduct-rule_item": str(w.rule(BURNING).pk), "deduct-reason": "麦收后焚烧秸秆",
                            "deduct-client_key": "d"}, follow=True)
    text = response.content.decode()
    assert "实际扣减2分" in text
    assert _balance(w) == 0
    deduction = Award.objects.get(rule_item=w.rule(BURNING))
    assert deduction.points == -10 and deduction.booked == -2
    assert "积分不足，实际记账-2分" in text


def test_a_supervisor_may_not_give_points(client, office):
    w = office["w"]
    _login(client, office["supervisor"])
    page = client.get(reverse("command:points_household", args=[w.household.pk])).content.decode()
    assert 'id="give"' not in page and 'id="deduct"' not in page
    response = client.post(_award_url("command", w.household, "give"),
                           {"give-rule_item": str(w.rule(FILIAL).pk), "give-reason": "x"})
    assert response.status_code == 403
    assert not Award.objects.exists()


def test_a_correction_asks_for_confirmation_and_a_reason_and_happens_once(client, office):
    w = office["w"]
    award = award_services.award_directly(actor=w.village_admin, resident=w.head, item=w.rule(FILIAL),
                                          reason="误给")
    _login(client, w.village_admin)
    page = client.get(reverse("worker:points_household", args=[w.household.pk])).content.decode()
    url = reverse("worker:points_reverse", args=[award.pk])
    assert url in page
    confirm = client.get(url)
    assert confirm.status_code == 200 and "确认更正" in confirm.content.decode()
    assert _balance(w) == 10  # asking changes nothing
    response = client.post(url, {"reason": ""})
    assert response.status_code == 422 and "请填写更正原因。" in response.content.decode()
    assert client.post(url, {"reason": "重复给予"}).status_code == 302
    assert _balance(w) == 0
    assert client.post(url, {"reason": "再来一次"}).status_code == 302
    assert Award.objects.filter(origin=Award.Origin.CORRECTION).count() == 1
    page = client.get(reverse("worker:points_household", args=[w.household.pk])).content.decode()
    assert url not in page and "已更正" in page
    # The ledger tab shows both movements.
    ledger = client.get(reverse("worker:points_household", args=[w.household.pk]) + "?view=ledger").content.decode()
    assert ledger.count("孝老敬亲") >= 2


def test_a_village_administrator_may_not_correct_a_township_award(client, office):
    w = office["w"]
    award = award_services.award_directly(actor=w.dispatcher, resident=w.head, item=w.rule(DAUGHTER_IN_LAW),
                                          reason="县级好媳妇")
    _login(client, w.village_admin)
    assert reverse("worker:points_reverse", args=[award.pk]) not in client.get(
        reverse("worker:points_household", args=[w.household.pk])).content.decode()
    assert client.post(reverse("worker:points_reverse", args=[award.pk]), {"reason": "x"}).status_code == 403
    _login(client, office["other_dispatcher"])
    assert client.get(reverse("command:points_reverse", args=[award.pk])).status_code == 404
    assert _balance(w) == 20


def test_a_resident_without_a_household_has_a_personal_account_in_the_ledger(client, office):
    w = office["w"]
    tenant, _user = make_verified_resident(grid=w.head.grid, household=None, username="zk", name="赵租客",
                                           id_number="621102197505050026", head=False)
    _login(client, w.village_admin)
    url = reverse("worker:points_village", args=[w.village.pk])
    assert "赵租客" not in client.get(url).content.decode()  # no account yet
    award_services.award_directly(actor=w.village_admin, resident=tenant, item=w.rule(DRIVE), reason="参加演出")
    text = client.get(url).content.decode()
    person = reverse("worker:points_person", args=[tenant.pk])
    assert person in text and "赵租客" in text
    page = client.get(person).content.decode()
    assert "个人账户" in page and "参加演出" in page
    response = client.post(reverse("worker:points_person_award", args=[tenant.pk, "give"]),
                           {"give-rule_item": str(w.rule(DRIVE).pk), "give-reason": "再次参加", "give-client_key": "t"})
    assert response.status_code == 302 and response["Location"] == person
    assert Account.objects.get(resident=tenant).balance == 4
    assert client.get(reverse("worker:points_person", args=[w.head.pk])).status_code == 404  # a household's member


# ---------------------------------------------------------------------------------------------------------
# Photos


def _status(client, user, url):
    if user is None:
        client.logout()
    else:
        client.force_login(user)
    return client.get(url).status_code


def test_a_claims_photos_are_served_to_the_claimant_and_the_village_only(client, office, claims, neighbour):
    w = office["w"]
    photo = EvidencePhoto.objects.get(claim=claims["village"])
    for url in (photo.file.url, photo.thumbnail.url):
        assert url.startswith("/media/points/")
        assert _status(client, w.resident_user, url) == 200
        assert _status(client, w.village_admin, url) == 200
        assert _status(client, w.dispatcher, url) == 200
        assert _status(client, office["supervisor"], url) == 200
        assert _status(client, neighbour["user"], url) == 404
        assert _status(client, office["other_dispatcher"], url) == 404
        assert _status(client, office["grid_worker"], url) == 404
        assert _status(client, None, url) == 404


def test_an_awards_evidence_is_served_to_the_household_and_the_village_only(client, office, neighbour):
    w = office["w"]
    award = award_services.award_directly(actor=w.village_admin, resident=w.head, item=w.rule(BURNING),
                                          reason="焚烧秸秆", photos=[phone_photo()])
    url = award.photos.get().file.url
    assert _status(client, w.resident_user, url) == 200
    assert _status(client, w.village_admin, url) == 200
    assert _status(client, neighbour["user"], url) == 404
    assert _status(client, office["other_admin"], url) == 404
