"""The command centre's tables on a 360 px phone and a 1920 px screen: a number (case number, date and time,
count) always stays on one line, and a table wider than the screen scrolls sideways inside its own frame while
the page itself never gets wider than the screen."""

import re

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from gongzhi.accounts.models import Role
from gongzhi.cases.factories import act, make_categories, make_resident, report
from gongzhi.cases.workflow import Action
from gongzhi.org.factories import make_tree

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SIZES = [(360, 740), (1920, 1080)]

# Text nodes holding a digit that the browser laid out on more than one line, in cells other than free text.
WRAPPED_NUMBERS = """(table) => {
  const wrapped = [];
  for (const cell of table.querySelectorAll("th, td")) {
    if (cell.classList.contains("text")) continue;
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      const text = walker.currentNode;
      if (!/\\d/.test(text.data)) continue;
      const range = document.createRange();
      range.selectNodeContents(text);
      const tops = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
      if (tops.size > 1) wrapped.push(text.data.trim());
    }
  }
  return wrapped;
}"""


@pytest.fixture
def desk(make_staff):
    tree = make_tree()
    cats = make_categories()
    resident = make_resident("res", "王秀兰", tree["grid"])
    dispatcher = make_staff("李调度", tree["town"], Role.DISPATCHER)
    texts = ["村口路灯坏了一个月，晚上看不见路，老人出门很不方便，希望尽快修好。",
             "邻里因宅基地边界发生争执，双方各执一词，希望村里出面调解。",
             "小山村二社水渠堵塞，雨天积水漫进院子。"]
    for n, text in enumerate(texts * 2):
        case = report(resident, cats["env" if n % 2 else "family"], description=text)
        if n % 3:
            act(dispatcher, case, Action.ACCEPT)
    return {"tree": tree, "dispatcher": dispatcher}


def sign_in(page, base_url: str, user) -> None:
    client = Client()
    client.force_login(user)
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "url": base_url,
                               "value": client.cookies[settings.SESSION_COOKIE_NAME].value}])


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_numbers_stay_on_one_line_and_wide_tables_scroll_in_their_frame(new_page, live_server, desk, shot,
                                                                        width, height):
    page = new_page(width=width, height=height)
    sign_in(page, live_server.url, desk["dispatcher"])
    for name, path, region in [
        ("cases", "/command/cases/", "全部事件"),
        ("intake", "/command/cases/intake/", "事件受理"),
        ("unit", f"/command/units/{desk['tree']['town'].pk}/", "下级单位列表"),
    ]:
        page.goto(live_server.url + path)
        frame = page.get_by_role("region", name=region)
        expect(frame).to_be_visible()
        table = frame.locator("table.data")
        page.wait_for_load_state()  # the stylesheet applied before measuring
        shot(page, f"command-table-{name}-{width}")
        if name == "cases":  # the long numbers are there to be measured: 14-digit case numbers, dates and times
            expect(table.locator("tbody tr").first.locator("td").nth(1)).to_have_text(re.compile(r"^\d{14}"))
            expect(table.locator("tbody tr td", has_text=re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d$"))
                   .first).to_be_visible()
        assert table.evaluate(WRAPPED_NUMBERS) == [], f"{path} at {width} px"
        # The page fits the screen; anything wider scrolls inside the table's frame (focusable, so a keyboard
        # can scroll it too).
        assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{path} at {width} px"
        assert frame.get_attribute("tabindex") == "0"
        overflow = frame.evaluate("el => el.scrollWidth - el.clientWidth")
        if width >= 1920:
            assert overflow <= 0, f"{path}: no sideways scrolling on a big screen"
        elif name != "unit":
            assert overflow > 0, f"{path}: the case table is wider than a phone and scrolls in its frame"
