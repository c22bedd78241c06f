"""一标三实 in the browser: a grid worker registers a rented house with two tenants on a 360 px phone and sees them
on the house page; the record pages and the command portal's lists at phone and desk width."""

import datetime

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from gongzhi.accounts.models import Role
from gongzhi.accounts.tests.helpers import valid_id
from gongzhi.registry.models import Establishment, House, Household, Resident, SpecialGroup

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TENANT_A = valid_id(birth="19920304", seq="131")
TENANT_B = valid_id(birth="19950607", seq="242")


def sign_in(page, base_url: str, user) -> None:
    client = Client()
    client.force_login(user)
    page.context.clear_cookies()
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "url": base_url,
                               "value": client.cookies[settings.SESSION_COOKIE_NAME].value}])


@pytest.fixture
def grid(tree):
    # The seeded list, emptied by an earlier browser test's flush.
    for order, (code, name) in enumerate((("dibao", "低保"), ("disabled", "残疾"), ("veteran", "退役军人"))):
        SpecialGroup.objects.get_or_create(code=code, defaults={"name": name, "order": order})
    home = Household.objects.create(village=tree["village"], grid=tree["grid"], number="621102101201001-0001",
                                    address="小山村一社3号")
    for name, id_number, relation, phone in (("王建国", valid_id(birth="19650101", seq="111"), "head", "13900001111"),
                                             ("李秀英", valid_id(birth="19670202", seq="222"), "spouse", "")):
        Resident.objects.create(grid=tree["grid"], household=home, name=name, id_number=id_number, phone=phone,
                                gender="M" if int(id_number[16]) % 2 else "F",
                                birth_date=datetime.date(int(id_number[6:10]), int(id_number[10:12]),
                                                         int(id_number[12:14])), relation=relation)
    Establishment.objects.create(grid=tree["grid"], name="小山村便民超市", kind="shop", address_text="小山村一社5号")
    return home


def no_sideways_scroll(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_a_grid_worker_registers_a_rented_house_with_two_tenants_on_a_phone(new_page, live_server, tree, make_staff,
                                                                           grid, shot):
    worker = make_staff("王网格", tree["grid"], Role.GRID_WORKER)
    page = new_page(width=360, height=740)
    sign_in(page, live_server.url, worker)
    page.goto(live_server.url + "/worker/")
    page.get_by_role("link", name="人口、房屋和单位").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("小山村第1网格")
    page.get_by_role("link", name="登记出租房屋").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("登记出租房屋")
    page.get_by_label("街路巷/小区/自然村(社)").fill("幸福路")
    page.get_by_label("门牌号").fill("12")
    expect(page.get_by_label("门牌号")).to_have_attribute("inputmode", "numeric")
    first = page.locator(".tenant-block").nth(0)
    first.get_by_label("租客姓名").fill("赵租客")
    first.get_by_label("身份证号").fill(TENANT_A)
    first.get_by_label("手机号").fill("13900002222")
    page.get_by_role("button", name="再加一位租客").click()
    expect(page.locator(".tenant-block")).to_have_count(2)
    second = page.locator(".tenant-block").nth(1)
    expect(second.locator("legend")).to_have_text("租客2")
    second.get_by_label("租客姓名").fill("钱租客")
    second.get_by_label("身份证号").fill(TENANT_B)
    no_sideways_scroll(page, 360)
    shot(page, "records-rented-form-360")
    page.get_by_role("button", name="登记", exact=True).click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("幸福路12号")
    tenants = page.locator("#tenants")
    expect(tenants).to_contain_text("赵租客")
    expect(tenants).to_contain_text("钱租客")
    expect(tenants).to_contain_text("139****2222")
    assert "13900002222" not in page.content() and TENANT_A not in page.content()
    expect(page.locator(".record-history")).to_contain_text("租客新增")
    no_sideways_scroll(page, 360)
    shot(page, "records-house-360")
    house = House.objects.get()
    assert house.use == House.Use.RENTED and house.tenancies.count() == 2
    assert set(Resident.objects.filter(tenancies__house=house).values_list("residence_type", flat=True)) == {
        "floating"}


@pytest.mark.parametrize("width,height", [(360, 740), (1920, 1080)])
def test_registry_pages_fit_the_phone_and_the_desk(new_page, live_server, tree, make_staff, grid, shot, width,
                                                    height):
    admin = make_staff("村管理员", tree["village"], Role.VILLAGE_ADMIN)
    dispatcher = make_staff("调度员", tree["town"], Role.DISPATCHER)
    page = new_page(width=width, height=height)
    sign_in(page, live_server.url, admin)
    head = grid.members.get(relation="head")
    for name, path in (("grid", f"/worker/grids/{tree['grid'].pk}/"),
                       ("grid-units", f"/worker/grids/{tree['grid'].pk}/?tab=units"),
                       ("household", f"/worker/registry/households/{grid.pk}/"),
                       ("resident", f"/worker/registry/residents/{head.pk}/"),
                       ("resident-edit", f"/worker/registry/residents/{head.pk}/edit/"),
                       ("resident-new", f"/worker/registry/residents/new/?grid={tree['grid'].pk}")):
        page.goto(live_server.url + path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert "13900001111" not in page.content()
        no_sideways_scroll(page, width)
        shot(page, f"records-worker-{name}-{width}")
    page.goto(live_server.url + f"/worker/grids/{tree['grid'].pk}/")
    page.get_by_role("searchbox").fill("王建")
    page.get_by_role("button", name="查找").click()
    expect(page.locator("#search-results")).to_contain_text("王建国")
    shot(page, f"records-worker-search-{width}")

    sign_in(page, live_server.url, dispatcher)
    for name, path in (("hub", "/command/registry/"), ("people", "/command/registry/lists/people/"),
                       ("units", "/command/registry/lists/units/"),
                       ("household", f"/command/registry/households/{grid.pk}/")):
        page.goto(live_server.url + path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        if width > 1000:
            no_sideways_scroll(page, width)
        shot(page, f"records-command-{name}-{width}")
    page.goto(live_server.url + "/command/registry/")
    page.get_by_role("searchbox").fill(head.id_number.reveal())
    page.get_by_role("button", name="查找").click()
    expect(page.locator("#search-results")).to_contain_text("王建国")
    assert head.id_number.reveal() not in page.url
