"""积分管理 (web/points_admin.py) in the command portal (township dispatchers, supervisors, system
administrators) and the worker portal (a village administrator): who sees and changes what, the versioned
catalogue, validation at the field, the star scale, shops, the statistics on a small known data set and their
Excel file, the ledger checks."""

import datetime
import io

import pytest
import time_machine
from django.utils import timezone
from openpyxl import load_workbook

from gongzhi.accounts.models import Role
from gongzhi.core.models import Job
from gongzhi.notifications.models import Notification
from gongzhi.points.factories import make_verified_resident
from gongzhi.points.models import Award, LedgerCheck, RuleCategory, RuleItem, Shop, ShopItem, StarScale
from gongzhi.points.services import awards, checks, redemptions, rules, shops
from gongzhi.points.services.awards import ReviewDecision
from gongzhi.registry.models import Household
from gongzhi.web.targets import url_for

pytestmark = pytest.mark.django_db

MEETING = "按时参加村民（代表）大会"
NEIGHBOURS = "邻里和睦"
DUMPING = "乱倒垃圾"


@pytest.fixture
def world(points_world):
    return points_world


@pytest.fixture
def staff(world, tree, make_staff):
    return {
        "supervisor": make_staff("dc", tree["town"], Role.SUPERVISOR),
        "other_dispatcher": make_staff("odisp", tree["other_town"], Role.DISPATCHER),
        "county_dispatcher": make_staff("cdisp", tree["county"], Role.DISPATCHER),
        "other_admin": make_staff("cunguan2", tree["village2"], Role.VILLAGE_ADMIN),
        "grid_worker": make_staff("wgy", tree["grid"], Role.GRID_WORKER),
        "system_admin": make_staff("sysadmin", tree["city"], Role.SYSTEM_ADMIN),
    }


def text(response) -> str:
    return response.content.decode()


def item_post(**overrides):
    data = {"name": "清扫村道", "points": "3", "evidence": "照片", "photo_required": "on", "claimable": "on",
            "cap_count": "4", "cap_period": "month", "awarder": "village", "trigger": ""}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def village_category(world, name="小山村自定"):
    return rules.add_category(actor=world.village_admin, township=world.town, village=world.village, name=name)


# ---- navigation and scope ------------------------------------------------------------------------------------

def test_the_nav_offers_points_to_those_who_may(client, world, staff):
    client.force_login(world.village_admin)
    # Her 积分 tab opens the review queue (she reviews); 积分管理 is one tap further, in its sub-navigation.
    assert 'href="/worker/points/review/"' in text(client.get("/worker/"))
    assert 'href="/worker/points/manage/"' in text(client.get("/worker/points/review/"))
    client.force_login(staff["grid_worker"])
    assert "/points/manage/" not in text(client.get("/worker/"))
    assert client.get("/worker/points/manage/").status_code == 404
    client.force_login(world.dispatcher)
    page = text(client.get("/command/"))
    assert 'href="/command/points/manage/"' in page
    hub = client.get("/command/points/manage/")
    assert hub.status_code == 200 and "积分细则" in text(hub) and "账本核验" in text(hub)


def test_a_dispatcher_of_another_township_gets_404_everywhere(client, world, staff):
    item = world.rule(MEETING)
    client.force_login(staff["other_dispatcher"])
    assert client.get(f"/command/points/manage/catalogue/?unit={world.town.pk}").status_code == 404
    assert client.get(f"/command/points/manage/catalogue/items/{item.pk}/").status_code == 404
    assert client.get(f"/command/points/manage/catalogue/items/{item.pk}/edit/").status_code == 404
    assert client.post(f"/command/points/manage/catalogue/items/{item.pk}/edit/", item_post()).status_code == 404
    assert client.get(f"/command/points/manage/shops/{world.shop.pk}/").status_code == 404
    assert client.get(f"/command/points/manage/shop-items/{world.item.pk}/edit/").status_code == 404
    assert client.get(f"/command/points/manage/stats/?unit={world.village.pk}").status_code == 404
    assert client.get(f"/command/points/manage/stats/export/?unit={world.town.pk}").status_code == 404
    assert client.get("/command/points/manage/catalogue/?unit=abc").status_code == 404
    # Their own township has no catalogue yet: the preset button, for them only.
    page = text(client.get("/command/points/manage/catalogue/"))
    assert "城关镇" in page and "安装预设细则" in page and "points-category" not in page


def test_a_supervisor_reads_but_changes_nothing(client, world, staff):
    item = world.rule(MEETING)
    client.force_login(staff["supervisor"])
    page = text(client.get("/command/points/manage/catalogue/"))
    assert MEETING in page and "/edit/" not in page and "添加类别" not in page and "安装预设细则" not in page
    assert client.get(f"/command/points/manage/catalogue/items/{item.pk}/").status_code == 200
    assert client.get(f"/command/points/manage/catalogue/items/{item.pk}/edit/").status_code == 403
    assert client.post(f"/command/points/manage/catalogue/items/{item.pk}/retire/").status_code == 403
    assert client.post("/command/points/manage/stars/", {"basis": "year"}).status_code == 403
    shop_page = text(client.get(f"/command/points/manage/shops/{world.shop.pk}/"))
    assert "大米5斤" in shop_page and "上架商品" not in shop_page and "保存商铺管理员" not in shop_page
    assert client.post(f"/command/points/manage/shops/{world.shop.pk}/items/new/",
                       {"name": "油", "price": "5", "stock": "1"}).status_code == 403
    assert client.get("/command/points/manage/stats/").status_code == 200
    assert client.get("/command/points/manage/ledger/").status_code == 404  # dispatchers and system admins only
    item.refresh_from_db()
    assert item.retired_at is None and ShopItem.objects.count() == 1


def test_a_village_administrator_edits_only_their_village(client, world, staff):
    own = village_category(world)
    theirs = rules.add_category(actor=staff["other_admin"], township=world.town,
                                village=staff["other_admin"].memberships.get().unit, name="大湾村自定")
    their_item = rules.add_item(actor=staff["other_admin"], category=theirs, fields=rules.ItemFields(
        name="大湾村清扫", points=2))
    township_item = world.rule(MEETING)
    client.force_login(world.village_admin)
    page = text(client.get("/worker/points/manage/catalogue/"))
    assert "小山村" in page and MEETING in page and "小山村自定" in page and "大湾村自定" not in page
    assert f"/worker/points/manage/catalogue/categories/{own.pk}/items/new/" in page
    assert f"/worker/points/manage/catalogue/items/{township_item.pk}/edit/" not in page
    # The township's items: seen, not changed.
    assert client.get(f"/worker/points/manage/catalogue/items/{township_item.pk}/").status_code == 200
    assert client.post(f"/worker/points/manage/catalogue/items/{township_item.pk}/edit/",
                       item_post(name=MEETING)).status_code == 403
    assert client.post(f"/worker/points/manage/catalogue/items/{township_item.pk}/retire/").status_code == 403
    # Another village's: not there at all.
    assert client.get(f"/worker/points/manage/catalogue/items/{their_item.pk}/").status_code == 404
    assert client.post(f"/worker/points/manage/catalogue/categories/{theirs.pk}/items/new/",
                       item_post()).status_code == 404
    # Their own: added, versioned.
    response = client.post(f"/worker/points/manage/catalogue/categories/{own.pk}/items/new/", item_post())
    assert response.status_code == 302
    added = RuleItem.objects.get(category=own)
    assert (added.points, added.cap_count, added.cap_period, added.photo_required) == (3, 4, "month", True)
    # The township's catalogue and star scale are not theirs; the township's figures neither.
    assert client.post("/worker/points/manage/catalogue/categories/new/?unit=" + str(world.town.pk),
                       {"name": "新类别", "owner": ""}).status_code == 422
    assert not RuleCategory.objects.filter(name="新类别").exists()
    assert client.get(f"/worker/points/manage/stats/?unit={world.town.pk}").status_code == 404
    assert client.get("/worker/points/manage/stats/").status_code == 200
    assert client.get("/worker/points/manage/ledger/").status_code == 404


# ---- the catalogue -----------------------------------------------------------------------------------------------

def test_editing_an_item_makes_a_new_version_and_past_awards_keep_the_old_one(client, world):
    first = world.rule(NEIGHBOURS)
    award = awards.award_directly(actor=world.village_admin, resident=world.head, item=first, reason="调解邻里")
    client.force_login(world.dispatcher)
    form = text(client.get(f"/command/points/manage/catalogue/items/{first.pk}/edit/"))
    assert "当前为第1版" in form and 'value="5"' in form
    response = client.post(f"/command/points/manage/catalogue/items/{first.pk}/edit/",
                           item_post(name=first.name, points="8", cap_count="2", cap_period="year"))
    second = RuleItem.objects.get(previous=first)
    assert response.status_code == 302
    assert response["Location"] == f"/command/points/manage/catalogue/items/{second.pk}/"
    first.refresh_from_db()
    award.refresh_from_db()
    assert first.retired_at is not None and second.retired_at is None and second.points == 8
    assert award.rule_item_id == first.pk and award.points == 5
    page = text(client.get(response["Location"]))
    assert "已保存为第2版" in page and "第2版" in page and "第1版" in page and "已按此版给予1次" in page
    assert "<dt>分值</dt><dd><del>5</del> → <ins>8</ins></dd>" in page
    assert "<dt>上限周期</dt>" not in page and "<dt>次数上限</dt><dd><del>4</del> → <ins>2</ins></dd>" in page
    # The catalogue shows the live version, marked 第2版.
    catalogue = text(client.get("/command/points/manage/catalogue/"))
    assert f"/catalogue/items/{second.pk}/" in catalogue and f"/catalogue/items/{first.pk}/" not in catalogue
    # The same edit sent again (a retried post) answers with the version it made; the old page leads on.
    again = client.post(f"/command/points/manage/catalogue/items/{first.pk}/edit/",
                        item_post(name=first.name, points="8", cap_count="2", cap_period="year"))
    assert again.status_code == 302 and RuleItem.objects.filter(lineage=first.lineage).count() == 2
    assert client.get(f"/command/points/manage/catalogue/items/{first.pk}/edit/")["Location"].endswith(
        f"/items/{second.pk}/edit/")
    # Retiring: gone from the catalogue, kept on its page.
    assert client.post(f"/command/points/manage/catalogue/items/{second.pk}/retire/").status_code == 302
    assert f"/catalogue/items/{second.pk}/" not in text(client.get("/command/points/manage/catalogue/"))
    assert "已停用" in text(client.get(f"/command/points/manage/catalogue/items/{second.pk}/"))


def test_bad_input_is_shown_at_its_field_and_changes_nothing(client, world):
    category = village_category(world)
    client.force_login(world.village_admin)
    new = f"/worker/points/manage/catalogue/categories/{category.pk}/items/new/"

    def error_at(response, field):
        """The errors shown in the field's own block."""
        block = text(response).split(f'id="id_{field}-field"')[1].split('<div class="field"')[0]
        return block.split("errorlist")[1] if "errorlist" in block else ""

    response = client.post(new, item_post(points="0"))
    assert response.status_code == 422 and "分值须为-1000到1000之间的非零整数。" in error_at(response, "points")
    response = client.post(new, item_post(points="很多"))
    assert response.status_code == 422 and "请输入整数。" in error_at(response, "points")
    response = client.post(new, item_post(name=""))
    assert response.status_code == 422 and "请填写积分事项。" in error_at(response, "name")
    response = client.post(new, item_post(cap_count="0"))
    assert response.status_code == 422 and "次数上限须为1到1000之间的整数" in error_at(response, "cap_count")
    response = client.post(new, item_post(awarder="township"))
    assert response.status_code == 422 and error_at(response, "awarder")
    assert not RuleItem.objects.filter(category=category).exists()
    # A deduction is never claimable, whatever the form says.
    assert client.post(new, item_post(name="乱扔垃圾", points="-3")).status_code == 302
    assert RuleItem.objects.get(category=category).claimable is False
    # The same item twice: the retried post adds nothing; another item of that name is refused at its name.
    assert client.post(new, item_post(name="乱扔垃圾", points="-3")).status_code == 302
    response = client.post(new, item_post(name="乱扔垃圾", points="-4"))
    assert response.status_code == 422 and "该类别已有同名事项" in error_at(response, "name")
    assert RuleItem.objects.filter(category=category).count() == 1


def test_a_category_is_added_once_and_a_township_without_catalogue_installs_the_preset(client, world, staff):
    client.force_login(world.dispatcher)
    for _attempt in range(2):
        response = client.post(f"/command/points/manage/catalogue/categories/new/?unit={world.town.pk}",
                               {"name": "平安建设", "owner": ""})
        assert response.status_code == 302
    assert RuleCategory.objects.filter(name="平安建设", township=world.town, village=None).count() == 1
    response = client.post(f"/command/points/manage/catalogue/categories/new/?unit={world.town.pk}",
                           {"name": "", "owner": ""})
    assert response.status_code == 422 and "请填写类别名称。" in text(response)

    client.force_login(staff["other_dispatcher"])
    other_town = staff["other_dispatcher"].memberships.get().unit
    assert client.post("/command/points/manage/catalogue/preset/").status_code == 302
    assert RuleItem.objects.filter(category__township=other_town).count() == 62
    assert StarScale.objects.filter(township=other_town).exists()
    assert client.post("/command/points/manage/catalogue/preset/").status_code == 302  # twice: nothing more
    assert RuleItem.objects.filter(category__township=other_town).count() == 62
    page = text(client.get("/command/points/manage/catalogue/"))
    assert "文化振兴" in page and "安装预设细则" not in page and 'class="points-value text-red"' in page


# ---- the star scale ----------------------------------------------------------------------------------------------

def test_the_star_scale_is_set_by_the_township_and_counts_households(client, world):
    awards.award_directly(actor=world.village_admin, resident=world.head, item=world.rule(NEIGHBOURS), reason="好")
    client.force_login(world.dispatcher)
    thresholds = {f"star{n}": str(n * 5) for n in range(1, 11)}
    bad = client.post("/command/points/manage/stars/", {"basis": "lifetime", **thresholds, "star3": "2"})
    assert bad.status_code == 422 and "请按一星到十星填写10个逐级递增的正整数。" in text(bad)
    empty = client.post("/command/points/manage/stars/", {"basis": "lifetime", **thresholds, "star10": ""})
    assert empty.status_code == 422 and "请填写此项。" in text(empty)
    assert not StarScale.objects.filter(township=world.town, basis="lifetime").exists()
    assert client.post("/command/points/manage/stars/", {"basis": "lifetime", **thresholds}).status_code == 302
    scale = StarScale.objects.get(township=world.town)
    assert scale.basis == "lifetime" and scale.thresholds == [n * 5 for n in range(1, 11)]
    page = text(client.get("/command/points/manage/stars/"))
    # One household with 5 points = 1 star; none else in the township.
    counts = page[page.index('class="data star-counts"'):]
    assert "历年累计" in page and "1星</th>" in counts
    rows = counts.split("<tr>")
    one_star = next(r for r in rows if "1星</th>" in r)
    assert '<td class="num">5</td><td class="num">1</td>' in one_star
    assert '<td class="num">1</td></tr></tfoot>' in counts
    client.force_login(world.village_admin)
    page = text(client.get("/worker/points/manage/stars/"))
    assert "1星：5分" in page and "<form" not in page.split("各星级所需积分")[1]


# ---- shops -------------------------------------------------------------------------------------------------------

def test_a_village_administrator_runs_their_own_love_supermarket(client, world, staff, tree):
    alliance = shops.create_shop(actor=None, unit=world.town, fields=shops.ShopFields(
        name="八里镇联盟超市", kind=Shop.Kind.ALLIANCE))
    their_shop = shops.create_shop(actor=None, unit=tree["village2"], fields=shops.ShopFields(
        name="大湾村爱心超市", kind=Shop.Kind.LOVE_SUPERMARKET))
    client.force_login(world.village_admin)
    page = text(client.get("/worker/points/manage/shops/"))
    assert "小山村爱心超市" in page and "八里镇联盟超市" in page and "大湾村爱心超市" not in page
    assert client.get(f"/worker/points/manage/shops/{their_shop.pk}/").status_code == 404
    assert client.post(f"/worker/points/manage/shops/{alliance.pk}/items/new/",
                       {"name": "油", "price": "5", "stock": "1"}).status_code == 403
    new_item = f"/worker/points/manage/shops/{world.shop.pk}/items/new/"
    oil_form = {"name": "食用油", "price": "5", "stock": "4", "is_active": "on"}
    for _attempt in range(2):  # a retried post adds it once
        assert client.post(new_item, oil_form).status_code == 302
    oil = ShopItem.objects.get(shop=world.shop, name="食用油")
    bad = client.post(new_item, {"name": "肥皂", "price": "0", "stock": "2"})
    assert bad.status_code == 422 and "不能小于1。" in text(bad)
    # A held redemption reserves one: the stock cannot go below it.
    awards.award_directly(actor=world.village_admin, resident=world.head, item=world.rule(NEIGHBOURS), reason="好")
    redemptions.hold(user=world.resident_user, item=oil)
    bad = client.post(f"/worker/points/manage/shop-items/{oil.pk}/edit/",
                      {"name": "食用油", "price": "5", "stock": "0", "is_active": "on"})
    assert bad.status_code == 422 and "已有1件被兑换待领取，库存不能少于1。" in text(bad)
    assert client.post(f"/worker/points/manage/shop-items/{oil.pk}/edit/",
                       {"name": "食用油", "price": "25", "stock": "6", "is_active": "on"}).status_code == 302
    oil.refresh_from_db()
    assert (oil.price, oil.stock, oil.reserved, oil.available) == (25, 6, 1, 5)
    page = text(client.get(f"/worker/points/manage/shops/{world.shop.pk}/"))
    assert '<td class="num">25</td><td class="num">6</td><td class="num">1</td><td class="num">5</td>' in page
    # Opening a shop: only in their village.
    form = text(client.get("/worker/points/manage/shops/new/"))
    assert 'type="hidden" name="unit"' in form
    response = client.post("/worker/points/manage/shops/new/", {
        "unit": str(world.village.pk), "kind": "supermarket", "name": "小山村第二爱心超市", "is_active": "on"})
    assert response.status_code == 302
    assert Shop.objects.get(name="小山村第二爱心超市").village == world.village
    assert client.post("/worker/points/manage/shops/new/", {
        "unit": str(world.town.pk), "kind": "alliance", "name": "镇上新店"}).status_code == 422


def test_a_dispatcher_sets_the_shop_managers_from_the_townships_merchants(client, world, staff, make_staff, tree):
    other_merchant = make_staff("oshanghu", tree["other_town"], Role.MERCHANT)
    second = make_staff("shanghu2", world.town, Role.MERCHANT)
    client.force_login(world.dispatcher)
    page = text(client.get(f"/command/points/manage/shops/{world.shop.pk}/"))
    assert "shanghu2" in page and "oshanghu" not in page and "李村官" in page
    response = client.post(f"/command/points/manage/shops/{world.shop.pk}/managers/",
                           {"managers": [world.merchant.pk, second.pk]})
    assert response.status_code == 302
    assert set(world.shop.managers.all()) == {world.merchant, second}
    bad = client.post(f"/command/points/manage/shops/{world.shop.pk}/managers/", {"managers": [other_merchant.pk]})
    assert bad.status_code == 422
    assert set(world.shop.managers.all()) == {world.merchant, second}
    response = client.post(f"/command/points/manage/shops/{world.shop.pk}/edit/", {
        "kind": "supermarket", "name": "小山村爱心超市", "address": "村委会东", "phone": "0932-1234567",
        "hours": "每天 8:00-18:00"})
    assert response.status_code == 302
    world.shop.refresh_from_db()
    assert world.shop.is_active is False and world.shop.hours == "每天 8:00-18:00"  # the box left unticked


# ---- statistics ---------------------------------------------------------------------------------------------------

@pytest.fixture
def figures(world, tree, make_staff):
    """A small known month (March 2026) in 八里镇, and one award of the year before:
    小山村: H-P01 (王秀兰) claims 邻里和睦 (+5, approved) and 村民大会 (+2, left waiting), gets 村民大会 (+2)
    directly, redeems 大米5斤 (10, picked up) and 肥皂 (2, cancelled); H-P02 (李志强) claims 邻里和睦
    (rejected), gets 村民大会 +2 and is deducted 乱倒垃圾 -5 (books 2, all there is).
    大湾村: H-P03 (赵六) gets 邻里和睦 +5. Last year: H-P01 got 邻里和睦 +5 (not in any of this year's figures)."""
    merchant = world.merchant
    second_household = Household.objects.create(village=world.village, grid=tree["grid"], number="H-P02",
                                                address="小山村二社3号")
    li, li_user = make_verified_resident(grid=tree["grid"], household=second_household, username="lzq",
                                         name="李志强", id_number="621102197001012316")
    third_household = Household.objects.create(village=tree["village2"], grid=tree["grid3"], number="H-P03",
                                               address="大湾村一社1号")
    zhao, _zhao_user = make_verified_resident(grid=tree["grid3"], household=third_household, username="zl",
                                              name="赵六", id_number="621102197502021519")
    admin2 = make_staff("cunguan2", tree["village2"], Role.VILLAGE_ADMIN)
    neighbours, meeting, dumping = world.rule(NEIGHBOURS), world.rule(MEETING), world.rule(DUMPING)
    with time_machine.travel(datetime.datetime(2025, 6, 1, 10, tzinfo=datetime.UTC), tick=False):
        awards.award_directly(actor=world.village_admin, resident=world.head, item=neighbours, reason="去年")
    with time_machine.travel(datetime.datetime(2026, 3, 10, 10, tzinfo=datetime.UTC), tick=True):
        claim = awards.submit_claim(user=world.resident_user, item=neighbours, note="调解了邻居的纠纷")
        awards.review_claim(actor=world.village_admin, claim=claim, decision=ReviewDecision.APPROVE)
        awards.submit_claim(user=world.resident_user, item=meeting, note="参加了村民大会")
        rejected = awards.submit_claim(user=li_user, item=neighbours, note="帮助邻居")
        awards.review_claim(actor=world.village_admin, claim=rejected, decision=ReviewDecision.REJECT, note="无证明")
        awards.award_directly(actor=world.village_admin, resident=world.head, item=meeting, reason="三月大会")
        awards.award_directly(actor=world.village_admin, resident=li, item=meeting, reason="三月大会")
        awards.award_directly(actor=world.village_admin, resident=li, item=dumping, reason="乱倒垃圾")
        awards.award_directly(actor=admin2, resident=zhao, item=neighbours, reason="调解")
        kept = redemptions.hold(user=world.resident_user, item=world.item)
        redemptions.capture_code(merchant=merchant, shop=world.shop, code=kept.code)
        soap = shops.add_item(actor=None, shop=world.shop, fields=shops.ItemFields(name="肥皂", price=2, stock=3))
        dropped = redemptions.hold(user=world.resident_user, item=soap)
        redemptions.cancel(user=world.resident_user, redemption=dropped)
    return {"today": datetime.datetime(2026, 3, 20, 10, tzinfo=datetime.UTC)}


# 村(社区): 申请, 通过, 驳回, 发放, 扣减, 兑换, 余额
SMALL_HILL = [3, 1, 1, 9, 2, 10, 2]  # H-P01: 5 + 5 (last year) + 2 - 10 = 2; H-P02: 2 - 2 = 0
BIG_BAY = [0, 0, 0, 5, 0, 0, 5]


def rows_of(page: str, table_id: str) -> list[list[str]]:
    table = page[page.index(f'id="{table_id}"'):]
    table = table[:table.index("</table>")]
    rows = []
    for chunk in table.split("<tr>")[2:]:
        cells = []
        for part in chunk.split("<t")[1:]:
            if part.startswith(("d", "h")):
                content = part.split(">", 1)[1]
                cells.append(content.split("</t")[0].split("<br>")[0].strip())
        rows.append(cells)
    return rows


def test_statistics_per_village_item_and_shop_match_the_known_month(client, world, figures):
    client.force_login(world.dispatcher)
    with time_machine.travel(figures["today"], tick=False):
        page = text(client.get("/command/points/manage/stats/"))
        villages = rows_of(page, "village-stats")
        assert villages[0] == ["小山村", *map(str, SMALL_HILL)]
        assert villages[1] == ["大湾村", *map(str, BIG_BAY)]
        assert villages[2] == ["合计", *[str(a + b) for a, b in zip(SMALL_HILL, BIG_BAY, strict=True)]]
        items = {row[0]: row[1:] for row in rows_of(page, "item-stats")}
        assert items[world.rule(NEIGHBOURS).name] == ["2", "10"]
        assert items[world.rule(MEETING).name] == ["2", "4"]
        assert items[world.rule(DUMPING).name] == ["1", "-5"]
        shops_ = {row[0]: row[1:] for row in rows_of(page, "shop-stats")}
        assert shops_["小山村爱心超市"] == ["1", "1", "10"]
        # 积分榜 (the preset scale counts the calendar year): 王秀兰's household 7, 李志强's -3 (not listed).
        board = rows_of(page, "board")
        assert board[0][:5] == ["1", "王秀兰", "H-P01", "小山村", "7"]
        assert board[1][:5] == ["2", "赵六", "H-P03", "大湾村", "5"] and len(board) == 2
        # This year = the same month here; last June counts only in a custom period covering it.
        year = text(client.get("/command/points/manage/stats/?period=year"))
        assert rows_of(year, "village-stats")[0] == ["小山村", *map(str, SMALL_HILL)]
        last_year = text(client.get("/command/points/manage/stats/?period=custom&start=2025-01-01&end=2025-12-31"))
        assert rows_of(last_year, "village-stats")[0] == ["小山村", "0", "0", "0", "5", "0", "0", "2"]
        # Dates changed by hand count whatever the choice says: 3 March only has nothing.
        by_hand = text(client.get("/command/points/manage/stats/?period=month&start=2026-03-01&end=2026-03-03"))
        assert rows_of(by_hand, "village-stats")[0] == ["小山村", "0", "0", "0", "0", "0", "0", "2"]
        assert 'value="2026-03-03"' in by_hand and "period=custom&amp;start=2026-03-01&amp;end=2026-03-03" in by_hand
        bad = client.get("/command/points/manage/stats/?period=custom&start=2026-03-10&end=2026-03-01")
        assert bad.status_code == 422 and "结束日期不能早于开始日期。" in text(bad)
    # The village administrator sees their village only, its board without the village column.
    client.force_login(world.village_admin)
    with time_machine.travel(figures["today"], tick=False):
        page = text(client.get("/worker/points/manage/stats/"))
        tiles = page[page.index('id="village-figures"'):page.index("</ul>", page.index('id="village-figures"'))]
        assert [t.split("</strong>")[0] for t in tiles.split('class="kpi-value')[1:]] == [
            f'{" text-red" if n == 4 else ""}">{v}' for n, v in enumerate(SMALL_HILL)]
        assert rows_of(page, "board")[0][:4] == ["1", "王秀兰", "H-P01", "7"]


def test_the_statistics_excel_file_has_the_same_numbers(client, world, figures):
    client.force_login(world.dispatcher)
    with time_machine.travel(figures["today"], tick=False):
        response = client.get(f"/command/points/manage/stats/export/?unit={world.town.pk}&period=month")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert book.sheetnames == ["按村统计", "按事项统计", "按商铺统计", "积分榜"]
    villages = [list(row) for row in book["按村统计"].iter_rows(min_row=3, values_only=True)]
    assert villages == [["小山村", *SMALL_HILL], ["大湾村", *BIG_BAY],
                        ["合计", *[a + b for a, b in zip(SMALL_HILL, BIG_BAY, strict=True)]]]
    items = {row[1]: row[2:] for row in book["按事项统计"].iter_rows(min_row=3, values_only=True)}
    assert items[world.rule(DUMPING).name] == (-5, 1, -5, -2)
    shop = next(row for row in book["按商铺统计"].iter_rows(min_row=3, values_only=True) if row[0] == "小山村爱心超市")
    assert shop[3:] == (1, 1, 10)
    board = list(book["积分榜"].iter_rows(min_row=3, values_only=True))
    assert board[0] == (1, "王秀兰", "H-P01", "小山村", 7, 0)


# ---- the ledger checks ---------------------------------------------------------------------------------------------

def test_the_ledger_check_runs_at_once_on_a_short_ledger(client, world, staff):
    awards.award_directly(actor=world.village_admin, resident=world.head, item=world.rule(NEIGHBOURS), reason="好")
    client.force_login(world.dispatcher)
    assert "还没有核验记录" in text(client.get("/command/points/manage/ledger/"))
    response = client.post("/command/points/manage/ledger/run/")
    assert response.status_code == 302
    check = LedgerCheck.objects.get()
    assert check.ok and check.entries == 2
    page = text(client.get(response["Location"]))
    assert "核验完成：2条流水，未发现问题。" in page and "正常" in page
    client.force_login(staff["supervisor"])
    assert client.post("/command/points/manage/ledger/run/").status_code == 404
    assert LedgerCheck.objects.count() == 1


def test_a_long_ledger_is_checked_in_the_background_once(client, world, staff, monkeypatch,
                                                         django_capture_on_commit_callbacks):
    awards.award_directly(actor=world.village_admin, resident=world.head, item=world.rule(NEIGHBOURS), reason="好")
    monkeypatch.setattr(checks, "SYNC_ENTRIES", 1)
    client.force_login(staff["system_admin"])
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.post("/command/points/manage/ledger/run/")
    job = Job.objects.get(kind=checks.LEDGER_CHECK_JOB)
    assert response.status_code == 302 and job.status == Job.Status.QUEUED and not LedgerCheck.objects.exists()
    page = text(client.get("/command/points/manage/ledger/"))
    assert "正在后台进行" in page and "立即核验" not in page
    client.post("/command/points/manage/ledger/run/")  # pressed again: the same job
    assert Job.objects.filter(kind=checks.LEDGER_CHECK_JOB).count() == 1
    for callback in queued:
        callback()
    job.refresh_from_db()
    check = LedgerCheck.objects.get()
    assert job.status == Job.Status.DONE and job.summary == {"check": check.pk, "ok": True, "entries": 2}
    assert "立即核验" in text(client.get("/command/points/manage/ledger/"))


def test_a_broken_ledger_notice_opens_the_ledger_checks(client, world, staff, django_capture_on_commit_callbacks):
    awards.award_directly(actor=world.village_admin, resident=world.head, item=world.rule(NEIGHBOURS), reason="好")
    from gongzhi.points.models import LedgerEntry

    LedgerEntry.objects.filter(seq=2).update(amount=6)  # an edit made in the database
    with django_capture_on_commit_callbacks(execute=True):
        checks.run_check()
    notice = Notification.objects.get(recipient=staff["system_admin"])
    assert url_for(notice, portal="command") == "/command/points/manage/ledger/"
    client.force_login(staff["system_admin"])
    page = text(client.get("/command/points/manage/ledger/"))
    assert "异常" in page and "第2条流水的内容与其哈希不符" in page


def test_award_counts_stay_on_their_version_in_the_statistics(client, world):
    """Per item the statistics add up all versions of an item, under its current name."""
    first = world.rule(NEIGHBOURS)
    awards.award_directly(actor=world.village_admin, resident=world.head, item=first, reason="一")
    second = rules.change_item(actor=world.dispatcher, item=first, fields=rules.ItemFields(
        name="邻里和睦（新）", points=6, claimable=True, cap_count=4))
    awards.award_directly(actor=world.village_admin, resident=world.head, item=second, reason="二")
    assert list(Award.objects.order_by("id").values_list("rule_item_id", "points")) == [(first.pk, 5), (second.pk, 6)]
    client.force_login(world.dispatcher)
    items = {row[0]: row[1:] for row in rows_of(text(client.get("/command/points/manage/stats/")), "item-stats")}
    assert items == {"邻里和睦（新）": ["2", "11"]}
    assert timezone.now()


def test_the_statistics_ask_as_many_queries_for_many_villages_as_for_two(client, world, tree, figures):
    """Grouped queries, never one per village: seven more villages, each with a household and an award, cost
    the page no query more."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from gongzhi.org.factories import make_unit
    from gongzhi.org.models import Level

    client.force_login(world.dispatcher)
    with time_machine.travel(figures["today"], tick=False), CaptureQueriesContext(connection) as few:
        assert len(rows_of(text(client.get("/command/points/manage/stats/")), "village-stats")) == 3
    for n in range(7):
        village = make_unit(f"新村{n}", f"62110210130{n}", Level.VILLAGE, world.town)
        grid = make_unit(f"新村{n}第1网格", f"62110210130{n}001", Level.GRID, village)
        household = Household.objects.create(village=village, grid=grid, number=f"H-N{n}", address=f"新村{n}")
        person, _user = make_verified_resident(grid=grid, household=household, username=f"n{n}", name=f"新{n}",
                                               id_number=["110101199003070011", "110101199003070038",
                                                          "110101199003070054", "110101199003070070",
                                                          "110101199003070097", "11010119900307011X",
                                                          "110101199003070134"][n])
        with time_machine.travel(datetime.datetime(2026, 3, 11, 10, tzinfo=datetime.UTC), tick=True):
            awards.award_directly(actor=world.dispatcher, resident=person, item=world.rule(NEIGHBOURS), reason="好")
    with time_machine.travel(figures["today"], tick=False), CaptureQueriesContext(connection) as many:
        rows = rows_of(text(client.get("/command/points/manage/stats/")), "village-stats")
    assert len(rows) == 10 and rows[-1][4] == str(9 + 5 + 7 * 5)
    def page_queries(queries):  # the session's own saves come with the clock, not the page
        return [q for q in queries.captured_queries if "django_session" not in q["sql"] and "SAVEPOINT" not in q["sql"]]

    assert len(page_queries(many)) == len(page_queries(few)) <= 25


def test_a_county_dispatcher_chooses_among_townships_and_a_village_station_only_reads(client, world, staff, tree,
                                                                                     make_staff):
    client.force_login(staff["county_dispatcher"])
    page = text(client.get("/command/points/manage/catalogue/"))
    assert f'<option value="{world.town.pk}" selected>八里镇</option>' in page
    assert f'<option value="{tree["other_town"].pk}">城关镇</option>' in page and "　小山村" in page
    other = text(client.get(f"/command/points/manage/catalogue/?unit={tree['other_town'].pk}"))
    assert "安装预设细则" in other  # they manage every township of the county
    assert client.get(f"/command/points/manage/stats/?unit={tree['other_town'].pk}").status_code == 200
    station = make_staff("zhan", tree["village"], Role.VILLAGE_STATION)
    client.force_login(station)
    hub = text(client.get("/worker/points/manage/"))
    assert "积分管理 · 小山村" in hub and "本月申请" in hub
    page = text(client.get("/worker/points/manage/catalogue/"))
    assert "添加类别" not in page and "/edit/" not in page
    assert client.post(f"/worker/points/manage/shops/{world.shop.pk}/items/new/",
                       {"name": "油", "price": "5", "stock": "1"}).status_code == 403
