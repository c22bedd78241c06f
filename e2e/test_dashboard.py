"""数据看板 and 大屏 in the browser: a township dispatcher opens the dashboard, a resident reports a case (through the
service) and it appears in the live stream within 5 s without a reload; the trend switches to weeks; the page fits
a 360 px phone; the big screen at 1920×1080 shows its panels, which take turns by themselves (a fake clock).
Screenshots with GONGZHI_E2E_SCREENSHOTS=/some/dir."""

import datetime

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from gongzhi.accounts.models import Role
from gongzhi.analytics import rollups, services
from gongzhi.cases.factories import act, make_categories, make_resident, report
from gongzhi.cases.models import Category
from gongzhi.cases.workflow import Action
from gongzhi.org.factories import make_tree

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PLACES = [(35.585, 104.605), (35.585, 104.615), (35.595, 104.605)]  # 小山村 grids 1 and 2, 大湾村
CODES = ["talk-environment", "talk-environment", "talk-safety", "talk-policy", "talk-service", "talk-development",
         "talk-dispute-neighbour", "talk-environment-garbage", "talk-safety-traffic"]


@pytest.fixture
def township(make_staff):
    """八里镇 with 60 cases over the last 40 days (the last five today), a third answered on the spot, folded and the
    grid states made."""
    tree = make_tree()
    make_categories()
    resident = make_resident("res", "王秀兰", tree["grid"])
    worker = make_staff("张网格", tree["grid"], Role.GRID_WORKER)
    dispatcher = make_staff("乡镇调度员", tree["town"], Role.DISPATCHER)
    categories = [Category.objects.get(code=code) for code in CODES]
    now = timezone.now()
    for n in range(60):
        moment = now - datetime.timedelta(days=40 * (60 - n) / 60, hours=n % 5)
        if n >= 55:  # a few today
            moment = now - datetime.timedelta(minutes=5 * (60 - n))
        lat, lng = PLACES[n % 3]
        with time_machine.travel(moment, tick=False):
            case = report(resident, categories[n % len(categories)], lat=lat, lng=lng,
                          description=f"第{n}件：村口路灯坏了。")
        if n % 3 == 0 and n < 55:
            with time_machine.travel(moment + datetime.timedelta(hours=2), tick=False):
                act(worker, case, Action.RESOLVE_ON_SPOT)
    rollups.catch_up(now=now + datetime.timedelta(minutes=1))
    services.refresh_grid_states()
    return {"tree": tree, "resident": resident, "dispatcher": dispatcher, "categories": categories}


def sign_in(page, base_url, user):
    client = Client()
    client.force_login(user)
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "url": base_url,
                               "value": client.cookies[settings.SESSION_COOKIE_NAME].value}])


def test_a_new_case_appears_in_the_live_stream_without_a_reload(new_page, live_server, township, shot):
    page = new_page(width=1920, height=1080)
    sign_in(page, live_server.url, township["dispatcher"])
    page.goto(f"{live_server.url}/command/dashboard/")
    expect(page.get_by_role("heading", name="八里镇 数据看板")).to_be_visible()
    expect(page.locator("#trend-chart canvas")).to_be_visible()
    expect(page.locator("#mix-year-chart canvas")).to_be_visible()
    expect(page.locator("#tile-reported-month .kpi-value")).not_to_have_text("0")
    page.get_by_role("button", name="按周").click()
    expect(page.get_by_role("button", name="按周")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("[data-scale-table=week]")).to_be_attached()
    page.get_by_role("button", name="按日").click()
    shot(page, "dashboard-1920")

    page.evaluate("window.__notReloaded = true")
    before = page.locator("#live-stream li").count()
    report(township["resident"], Category.objects.get(code="talk-safety-fire"), lat=35.585, lng=104.605,
           description="仓库旁边堆了很多柴草。")
    newest = page.locator("#live-stream li").first
    expect(newest).to_contain_text("消防安全隐患", timeout=5000)
    expect(newest).to_contain_text("小山村第1网格")
    assert page.evaluate("window.__notReloaded") is True
    assert page.locator("#live-stream li").count() == min(before + 1, 12)
    shot(page, "dashboard-1920-new-case")

    page.set_viewport_size({"width": 360, "height": 740})
    page.wait_for_timeout(300)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shot(page, "dashboard-360")


def test_the_big_screen_shows_its_panels_in_turn(new_page, live_server, township, shot):
    page = new_page(width=1920, height=1080)
    sign_in(page, live_server.url, township["dispatcher"])
    page.goto(f"{live_server.url}/command/dashboard/screen/")
    expect(page.get_by_role("heading", name="八里镇 · 社会治理数据大屏")).to_be_visible()
    expect(page.locator("#trend-chart canvas")).to_be_visible()
    expect(page.locator("[data-panel=mix]")).to_be_hidden()
    expect(page.locator("#live-stream li").first).to_be_visible()
    shot(page, "screen-1920x1080-trend")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1920
    assert page.evaluate("document.documentElement.scrollHeight") <= 1080, page.evaluate(
        "[...document.querySelectorAll('header, main > *, main .screen-body > *')].map("
        "e => e.className + ':' + Math.round(e.getBoundingClientRect().top) + '-' "
        "+ Math.round(e.getBoundingClientRect().bottom)).join(' ')")
    for name, panel in (("类别", "mix"), ("热点", "hotspots"), ("排行", "rankings")):
        page.locator(".panel-tabs").get_by_role("button", name=name).click()
        expect(page.locator(f"[data-panel={panel}]")).to_be_visible()
        expect(page.locator("[data-panel=trend]")).to_be_hidden()
        shot(page, f"screen-1920x1080-{panel}")
    expect(page.locator("#rankings")).to_contain_text("小山村")


def test_the_big_screen_turns_its_panels_by_itself(new_page, live_server, township):
    page = new_page(width=1920, height=1080)
    page.clock.install()
    sign_in(page, live_server.url, township["dispatcher"])
    page.goto(f"{live_server.url}/command/dashboard/screen/")
    expect(page.locator("[data-panel=trend]")).to_be_visible()
    page.clock.fast_forward(16_000)
    expect(page.locator("[data-panel=mix]")).to_be_visible()
    expect(page.locator("[data-panel=trend]")).to_be_hidden()
    page.clock.fast_forward(15_000)
    expect(page.locator("[data-panel=hotspots]")).to_be_visible()
    expect(page.locator("#live-stream li").first).to_be_visible()  # the stream stays
