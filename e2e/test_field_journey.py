"""The grid worker's round, start to end, on a 360 px phone with the position mocked: registers a rented house
with two tenants, starts a patrol, reports a matter found on the way (linked to the patrol), and ends the patrol;
the house, the tenants, the case and the track are all there afterwards, once each."""

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from gongzhi.accounts.models import Role
from gongzhi.accounts.tests.helpers import valid_id
from gongzhi.cases.models import Case
from gongzhi.registry.models import House, Patrol, Resident, TrackPoint
from gongzhi.worker import fieldwork_views

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LAT, LNG = 35.5852, 104.6052  # inside tree["grid"]
STEP = 0.00004  # about 4.5 m


def sign_in(page, base_url: str, user) -> None:
    client = Client()
    client.force_login(user)
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "url": base_url,
                               "value": client.cookies[settings.SESSION_COOKIE_NAME].value}])


def walk(page, steps: int, start: int = 0) -> None:
    for i in range(start, start + steps):
        page.context.set_geolocation({"latitude": LAT + STEP * i, "longitude": LNG, "accuracy": 8})
        page.wait_for_timeout(1100)


def test_a_grid_workers_round(new_page, live_server, tree, make_staff, cats, monkeypatch, shot):
    monkeypatch.setattr(fieldwork_views, "TRACK_INTERVAL_SECONDS", 1)
    worker = make_staff("王网格", tree["grid"], Role.GRID_WORKER)
    page = new_page(width=360, height=740, geolocation={"latitude": LAT, "longitude": LNG, "accuracy": 8},
                    permissions=["geolocation"])
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, live_server.url, worker)

    # A rented house with two tenants, from the grid's page.
    page.goto(live_server.url + "/worker/")
    page.get_by_role("link", name="人口、房屋和单位").click()
    page.get_by_role("link", name="登记出租房屋").click()
    page.get_by_label("街路巷/小区/自然村(社)").fill("幸福路")
    page.get_by_label("门牌号").fill("12")
    tenants = (("赵租客", valid_id(birth="19920304", seq="131"), "13900002222"),
               ("钱租客", valid_id(birth="19950607", seq="242"), ""))
    for i, (name, id_number, phone) in enumerate(tenants):
        if i:
            page.get_by_role("button", name="再加一位租客").click()
        block = page.locator(".tenant-block").nth(i)
        block.get_by_label("租客姓名").fill(name)
        block.get_by_label("身份证号").fill(id_number)
        if phone:
            block.get_by_label("手机号").fill(phone)
    page.get_by_role("button", name="登记", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("幸福路12号")
    expect(page.locator("#tenants")).to_contain_text("赵租客")
    expect(page.locator("#tenants")).to_contain_text("钱租客")
    shot(page, "journey-house-360")

    # The patrol: started from the 巡查 tab, the phone's points arrive as the worker walks.
    page.locator(".bottom-nav a").filter(has_text="巡查").click()
    page.get_by_role("button", name="开始巡查").click()
    expect(page.get_by_role("heading", name="巡查中", exact=True)).to_be_visible()
    walk(page, 4)
    expect(page.locator("[data-pending]")).to_contain_text("轨迹已全部上传")

    # A matter found on the way, reported from the patrol.
    page.get_by_role("link", name="上报事件").click()
    expect(page.locator("#report-patrol")).to_contain_text("本事件将记入这次巡查")
    page.get_by_label("具体事项").select_option(label="垃圾清运")
    page.get_by_label("要说的事").fill("幸福路12号门前堆放建筑垃圾，堵住了消防通道。")
    page.get_by_role("button", name="提交").click()
    expect(page.get_by_text("已提交，事件编号")).to_be_visible()

    # Back on the patrol, a few more steps, then the end.
    page.locator(".bottom-nav a").filter(has_text="巡查").click()
    case = Case.objects.get()
    expect(page.locator("#patrol-cases")).to_contain_text(case.number)
    walk(page, 3, start=4)
    page.get_by_label("巡查情况（可选）").fill("巡查幸福路，新登记出租房屋1处，发现垃圾堆放1处。")
    page.get_by_role("button", name="结束巡查").click()
    expect(page.get_by_text("巡查已结束")).to_be_visible()
    shot(page, "journey-patrol-ended-360")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    house = House.objects.get()
    assert house.use == House.Use.RENTED and house.tenancies.filter(ended_on__isnull=True).count() == 2
    assert Resident.objects.filter(tenancies__house=house, residence_type="floating").count() == 2
    patrol = Patrol.objects.get()
    assert patrol.worker == worker and patrol.ended_at is not None and case.patrol_id == patrol.pk
    assert TrackPoint.objects.filter(patrol=patrol).count() == patrol.point_count >= 5
    assert patrol.distance_m > 10
    assert not errors, errors
