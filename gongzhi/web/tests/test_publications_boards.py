"""The 红黑榜 and 建言献策 pages: staff add entries and decide appeals, residents appeal and suggest; refused input
answers 422 with nothing changed, other villages' items 404."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from gongzhi.publications.factories import make_pub_world
from gongzhi.publications.models import BoardAppeal, BoardCriterion, BoardEntry, Publication, Status, Suggestion
from gongzhi.publications.services import boards as services
from gongzhi.publications.services import core

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def pub(tree):
    return make_pub_world(tree)


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def board(pub):
    services.install_preset_criteria(actor=pub.village_admin, unit=pub.tree["village"])
    return services.create_board(actor=pub.village_admin, author_unit=pub.tree["village"],
                                 title="小山村2026年第四季度红黑榜",
                                 publish_until=timezone.now() + datetime.timedelta(days=30))


def _criterion(pub, name):
    return BoardCriterion.objects.get(unit=pub.tree["village"], name=name)


def test_staff_add_an_entry_and_see_the_board_page(pub, board):
    client = _client(pub.village_admin)
    page = client.get(reverse("worker:board_manage", args=[board.pk]))
    assert page.status_code == 200
    assert "添加条目" in page.content.decode()
    url = reverse("worker:board_entry_add", args=[board.pk])
    data = {"criterion": _criterion(pub, "孝老爱亲").pk, "name": "王秀兰家", "reason": "照顾婆婆十年",
            "client_key": "a"}
    assert client.post(url, data).status_code == 302
    assert client.post(url, data).status_code == 302  # the same form again
    assert BoardEntry.objects.filter(publication=board).count() == 1
    refused = client.post(url, {**data, "name": "", "client_key": "b"})
    assert refused.status_code == 422
    assert "请填写姓名或户名" in refused.content.decode()
    assert BoardEntry.objects.filter(publication=board).count() == 1
    settings_url = reverse("worker:board_settings", args=[board.pk])
    assert client.post(settings_url, {"black_display": "counts"}).status_code == 302
    assert client.post(settings_url, {"black_display": "nope"}).status_code == 422
    entry = BoardEntry.objects.get(publication=board)
    assert client.post(reverse("worker:board_entry_remove", args=[entry.pk])).status_code == 302
    assert not BoardEntry.objects.filter(publication=board).exists()


def test_another_village_gets_404(pub, board):
    client = _client(pub.other_village_admin)
    assert client.get(reverse("worker:board_manage", args=[board.pk])).status_code == 404
    response = client.post(reverse("worker:board_entry_add", args=[board.pk]),
                           {"criterion": _criterion(pub, "孝老爱亲").pk, "name": "x", "reason": "y"})
    assert response.status_code == 404


def test_criteria_page(pub):
    client = _client(pub.village_admin)
    url = reverse("worker:board_criteria")
    assert client.get(url).status_code == 200
    assert client.post(url, {"unit": pub.tree["village"].pk, "list": "black", "name": "乱倒垃圾"}).status_code == 302
    assert client.post(url, {"unit": pub.tree["village"].pk, "list": "black", "name": ""}).status_code == 422
    assert client.get(url, {"unit": pub.tree["village2"].pk}).status_code == 404
    assert BoardCriterion.objects.filter(name="乱倒垃圾").count() == 1


def test_a_resident_appeals_and_staff_decide(pub, board):
    services.add_entry(actor=pub.village_admin, publication=board, criterion=_criterion(pub, "大操大办"),
                       name="李大海", reason="儿子婚礼摆宴60桌")
    core.submit(actor=pub.village_admin, publication=board)
    core.approve(actor=pub.dispatcher, publication=board)
    entry = BoardEntry.objects.get(publication=board)
    resident = _client(pub.resident)
    url = reverse("resident:board_appeal", args=[entry.pk])
    page = resident.get(url)
    assert page.status_code == 200 and "李某某" in page.content.decode() and "李大海" not in page.content.decode()
    assert resident.post(url, {"reason": ""}).status_code == 422
    assert resident.post(url, {"reason": "只摆了20桌，都是亲戚"}).status_code == 302
    assert _client(pub.village2_resident).get(url).status_code == 404
    appeal = BoardAppeal.objects.get(entry=entry)
    staff = _client(pub.village_admin)
    decide = reverse("worker:board_appeal_decide", args=[appeal.pk])
    assert staff.post(decide, {"outcome": "rejected", "decision": ""}).status_code == 422
    assert staff.post(decide, {"outcome": "upheld", "decision": "经核实属实"}).status_code == 302
    entry.refresh_from_db()
    assert entry.removed_at is not None
    assert _client(pub.other_village_admin).post(decide, {"outcome": "upheld"}).status_code == 404


def test_the_suggestion_pages(pub):
    resident = _client(pub.resident)
    assert resident.get(reverse("resident:suggestion_new")).status_code == 200
    assert resident.post(reverse("resident:suggestion_new"), {"title": "", "body": "x"}).status_code == 422
    response = resident.post(reverse("resident:suggestion_new"), {
        "title": "建议村里建一个老年人日间照料中心", "body": "村里留守老人多。", "may_publish": "on",
        "client_key": "k"})
    assert response.status_code == 302
    item = Publication.objects.get(kind="suggestion")
    assert resident.get(reverse("resident:suggestions_mine")).status_code == 200
    assert resident.get(reverse("resident:suggestion_mine", args=[item.pk])).status_code == 200
    assert _client(pub.neighbour).get(reverse("resident:suggestion_mine", args=[item.pk])).status_code == 404
    staff = _client(pub.village_admin)
    assert staff.get(reverse("worker:suggestion_manage", args=[item.pk])).status_code == 200
    assert staff.post(reverse("worker:suggestion_reply", args=[item.pk]), {"reply": ""}).status_code == 422
    response = staff.post(reverse("worker:suggestion_reply", args=[item.pk]),
                          {"reply": "已向镇里申请项目资金。", "then": "publish"})
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == Status.PUBLISHED
    neighbour = _client(pub.neighbour)
    for _ in range(2):
        assert neighbour.post(reverse("resident:suggestion_support", args=[item.pk])).status_code == 302
    assert Suggestion.objects.get(publication=item).support_count == 1
    assert _client(pub.village2_resident).post(
        reverse("resident:suggestion_support", args=[item.pk])).status_code == 404


def test_an_unverified_resident_is_told_to_get_verified(pub):
    page = _client(pub.unverified).get(reverse("resident:suggestion_new"))
    assert page.status_code == 200 and "实名核验" in page.content.decode()
    refused = _client(pub.unverified).post(reverse("resident:suggestion_new"), {"title": "x", "body": "y"})
    assert refused.status_code == 200


def test_the_shared_item_pages_show_the_board(pub, board):
    services.add_entry(actor=pub.village_admin, publication=board, criterion=_criterion(pub, "孝老爱亲"),
                       name="王秀兰家", reason="照顾婆婆十年")
    services.add_entry(actor=pub.village_admin, publication=board, criterion=_criterion(pub, "大操大办"),
                       name="李大海", reason="儿子婚礼摆宴60桌")
    staff = _client(pub.village_admin).get(reverse("worker:publication", args=[board.pk])).content.decode()
    assert "添加条目" in staff and "李大海" in staff
    core.submit(actor=pub.village_admin, publication=board)
    core.approve(actor=pub.dispatcher, publication=board)
    reader = _client(pub.neighbour).get(reverse("resident:publication", args=[board.pk])).content.decode()
    assert "王秀兰家" in reader and "照顾婆婆十年" in reader
    assert "李某某" in reader and "李大海" not in reader and "摆宴" not in reader
    assert "个人信息保护法" in reader
    entry = BoardEntry.objects.get(publication=board, name="李大海")
    assert reverse("resident:board_appeal", args=[entry.pk]) in reader


def test_the_shared_item_pages_show_a_suggestion(pub):
    item = services.submit_suggestion(actor=pub.resident, title="建议硬化通组道路", body="雨天泥泞。", may_publish=True)
    staff = _client(pub.village_admin).get(reverse("worker:publication", args=[item.pk])).content.decode()
    assert "答复并公开" in staff
    services.reply_suggestion(actor=pub.village_admin, publication=item, reply="已报镇交通所。")
    services.publish_suggestion(actor=pub.village_admin, publication=item)
    reader = _client(pub.neighbour).get(reverse("resident:publication", args=[item.pk])).content.decode()
    assert "已报镇交通所" in reader and reverse("resident:suggestion_support", args=[item.pk]) in reader


def test_nominations_from_points_and_cases_on_the_staff_page(pub, board, tree):
    from gongzhi.cases import factories as case_factories
    from gongzhi.cases.models import Case
    from gongzhi.points.factories import make_verified_resident
    from gongzhi.points.models import Award, RuleItem
    from gongzhi.points.services import ledger, rules
    from gongzhi.registry.models import Household

    rules.install_preset(actor=None, township=tree["town"])
    household = Household.objects.create(village=tree["village"], grid=tree["grid"], number="H-101",
                                         address="小山村一社3号")
    make_verified_resident(grid=tree["grid"], household=household, username="hh", name="陈玉梅",
                           id_number="621102196504123826")
    Award.objects.create(account=ledger.account_for_household(household), village=tree["village"],
                         path=tree["village"].path, origin=Award.Origin.DIRECT, points=30, booked=30,
                         reason="义务巡逻", created_at=timezone.now() - datetime.timedelta(days=3),
                         rule_item=RuleItem.objects.first())
    categories = case_factories.make_categories()
    case = case_factories.report(pub.resident, categories["env"], description="村口柴草乱堆乱放")
    Case.objects.filter(pk=case.pk).update(status="closed", closed_at=timezone.now() - datetime.timedelta(days=1))
    client = _client(pub.village_admin)
    page = client.get(reverse("worker:publication", args=[board.pk])).content.decode()
    assert "陈玉梅家" in page and "列入红榜" in page and f"case:{case.pk}" in page
    response = client.post(reverse("worker:board_entry_add", args=[board.pk]), {
        "source": "points", "source_ref": f"household:{household.pk}", "household": household.pk,
        "name": "陈玉梅家", "reason": "本期获得积分30分", "criterion": _criterion(pub, "好人好事").pk})
    assert response.status_code == 302
    entry = BoardEntry.objects.get(publication=board)
    assert entry.household == household and entry.household_number == "H-101" and entry.source == "points"
    response = client.post(reverse("worker:board_entry_add", args=[board.pk]), {
        "source": "case", "source_ref": f"case:{case.pk}", "name": "", "reason": "x",
        "criterion": _criterion(pub, "乱堆乱放").pk})
    assert response.status_code == 422
