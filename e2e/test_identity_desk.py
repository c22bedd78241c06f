"""The village administrator's identity desk in a phone browser: 当面核验 and 换绑手机号."""

import datetime

import pytest
from playwright.sync_api import expect

from gongzhi.accounts import selectors
from gongzhi.accounts.models import AccountEvent, Role, User
from gongzhi.accounts.tests.helpers import last_code, make_resident_account, valid_id
from gongzhi.registry.models import Household, Resident

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WANG = valid_id(birth="19700506", seq="222")
LI = valid_id(seq="333")


@pytest.fixture
def village(tree):
    """王秀英 signed up on a phone the register does not know; 李四 is a verified household head."""
    home = Household.objects.create(village=tree["village"], grid=tree["grid"], number="H001", address="小山村1号")
    Resident.objects.create(household=home, name="王秀英", id_number=WANG, phone="13900000000", gender="F",
                            birth_date=datetime.date(1970, 5, 6), relation=Resident.Relation.HEAD)
    waiting = make_resident_account(id_number=WANG, phone="13700000000", name="王秀英")
    li = make_resident_account(id_number=LI, phone="13600000000", name="李四")
    other = Household.objects.create(village=tree["village"], grid=tree["grid"], number="H002", address="小山村2号")
    Resident.objects.create(household=other, name="李四", id_number=LI, phone="13600000000", gender="M",
                            birth_date=datetime.date(1980, 1, 1), relation=Resident.Relation.HEAD, user=li)
    return {"waiting": waiting, "li": li}


def log_in(page, live_server, username: str) -> None:
    page.goto(live_server.url + "/command/login/?next=/worker/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill("Gongzhi#2026")
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(live_server.url + "/worker/")


@pytest.mark.parametrize("width,height", [(360, 740), (1920, 1080)])
def test_the_village_admin_verifies_in_person_and_rebinds_a_phone(new_page, live_server, tree, make_staff,
                                                                   village, shot, width, height):
    make_staff("村管理员", tree["village"], Role.VILLAGE_ADMIN)
    page = new_page(width=width, height=height)
    log_in(page, live_server, "村管理员")
    page.get_by_role("link", name="身份核验（1人待核验）").click()
    item = page.locator("article.identity-item")
    expect(item).to_contain_text("王秀英", use_inner_text=True)
    expect(item).to_contain_text("137****0000", use_inner_text=True)  # masked: the number is never shown whole
    expect(item).to_contain_text("139****0000", use_inner_text=True)
    assert "13700000000" not in page.content()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shot(page, f"identity-desk-{width}")

    item.get_by_label("核验方式").fill("")  # offered pre-filled; emptied, it must be refused
    item.get_by_role("button", name="本人已到场，确认核验").click()
    expect(page.locator("article.identity-item")).to_contain_text("请填写核验方式", use_inner_text=True)
    assert not selectors.is_verified_resident(User.objects.get(pk=village["waiting"].pk))

    page.locator("article.identity-item").get_by_label("核验方式").fill("查验身份证原件")
    page.locator("article.identity-item").get_by_role("button", name="本人已到场，确认核验").click()
    expect(page.locator("main")).to_contain_text("已核实王秀英的身份", use_inner_text=True)
    expect(page.locator("main")).to_contain_text("暂无待核验的居民", use_inner_text=True)
    assert selectors.is_verified_household_head(User.objects.get(pk=village["waiting"].pk))

    rebind = page.locator("section", has=page.get_by_role("heading", name="换绑手机号"))
    rebind.get_by_label("身份证号").fill(LI)
    rebind.get_by_label("新手机号").fill("13500000000")
    rebind.get_by_label("换绑事由").fill("原手机丢失，已查验身份证")
    rebind.get_by_role("button", name="发送验证码到新手机").click()
    expect(rebind).to_contain_text("验证码已发送到135****0000", use_inner_text=True)
    rebind.get_by_label("新手机收到的验证码").fill(last_code("13500000000"))
    rebind.get_by_label("新手机收到的验证码").press("Enter")  # Enter confirms; it does not send another code
    expect(page.locator("main")).to_contain_text("135****0000", use_inner_text=True)
    shot(page, f"identity-desk-rebound-{width}")
    assert User.objects.get(pk=village["li"].pk).phone == "13500000000"
    assert AccountEvent.objects.filter(user=village["li"], kind=AccountEvent.Kind.PHONE_REBOUND).count() == 1
