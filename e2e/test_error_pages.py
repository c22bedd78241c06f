"""The error pages in a real browser: each portal's 404 and 500 in its own look, in Chinese, fitting a 360 px
phone and a 1920 px screen, with a way home (and, like every page here, checked with axe-core)."""

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True),
              pytest.mark.urls("gongzhi.web.tests.boom_urls")]  # the site plus views that fail on purpose


@pytest.mark.parametrize(("width", "height"), [(360, 740), (1920, 1080)])
def test_every_portals_404_and_500_pages(new_page, live_server, shot, width, height):
    page = new_page(width=width, height=height)
    for portal, prefix, brand in [("resident", "/", "共治 · 群众端"), ("worker", "/worker/", "共治 · 网格端"),
                                  ("command", "/command/", "共治 · 指挥中心")]:
        for status, path, title in [(404, "no-such-page/", "未找到"), (500, "boom/error/", "服务器出错")]:
            response = page.goto(live_server.url + prefix + path)
            assert response.status == status
            expect(page.get_by_role("heading", level=1)).to_have_text(title)
            expect(page.get_by_role("link", name=brand)).to_be_visible()
            expect(page).to_have_title(f"{title} · 共治")
            page.wait_for_load_state()  # the stylesheet applied before measuring
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            shot(page, f"error-{status}-{portal}-{width}")
            page.get_by_role("link", name="返回首页").click()
            expect(page).to_have_url(live_server.url + prefix if portal == "resident"
                                     else live_server.url + f"/command/login/?next={prefix.replace('/', '%2F')}")
