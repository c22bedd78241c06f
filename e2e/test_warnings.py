"""风险预警 in the browser at phone (360 px) and desk (1920 px) width: the warnings of the viewer's scope with
their rule in words and their cases, the table scrolling in its own frame, and an acknowledgement with a note."""

import datetime

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from gongzhi.accounts.models import Role
from gongzhi.analytics import services
from gongzhi.cases.factories import make_categories, make_resident, report
from gongzhi.cases.models import Category
from gongzhi.org.factories import make_tree

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def desk(make_staff):
    tree = make_tree()
    cats = make_categories()
    resident = make_resident("res", "王秀兰", tree["grid"])
    dispatcher = make_staff("李调度", tree["town"], Role.DISPATCHER)
    report(resident, Category.objects.get(code="dispute-marriage"), description="夫妻因家务多次争吵，女方要求调解。")
    for _n in range(4):
        report(resident, cats["env"])
    services.refresh_warnings(now=timezone.now() + datetime.timedelta(minutes=1))
    return {"tree": tree, "dispatcher": dispatcher}


def sign_in(page, base_url: str, user) -> None:
    client = Client()
    client.force_login(user)
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "url": base_url,
                               "value": client.cookies[settings.SESSION_COOKIE_NAME].value}])


@pytest.mark.parametrize(("width", "height"), [(360, 740), (1920, 1080)])
def test_the_warnings_fit_the_screen_and_are_acknowledged_with_a_note(new_page, live_server, desk, shot, width,
                                                                      height):
    page = new_page(width=width, height=height)
    sign_in(page, live_server.url, desk["dispatcher"])
    page.goto(live_server.url + "/command/warnings/")
    frame = page.get_by_role("region", name="风险预警")
    expect(frame.locator("tbody tr")).to_have_count(2)  # the 民转刑 risk and the grid's hotspot
    expect(frame).to_contain_text("泊松分布单侧检验")
    page.wait_for_load_state()
    shot(page, f"command-warnings-{width}")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    row = frame.locator("tbody tr", has_text="民转刑风险")
    row.get_by_label("签收说明").fill("已联系村调委会上门调解")
    row.get_by_role("button", name="签收").click()
    expect(page.get_by_text("已签收该风险预警。")).to_be_visible()
    expect(frame.locator("tbody tr", has_text="民转刑风险")).to_contain_text("李调度 于")
    expect(frame.locator("tbody tr", has_text="民转刑风险")).to_contain_text("已联系村调委会上门调解")
