"""The axe-core check every browser test gets (e2e/conftest.py, e2e/axe_check.js) catches what it is there to
catch: it is tried here on pages made up for the purpose, served by Playwright itself (no live server)."""

import pytest

pytestmark = [pytest.mark.e2e]

BROKEN = """<!doctype html><html lang="zh-Hans"><head><meta charset="utf-8"><title>测试</title></head><body><main>
<h1>测试</h1>
<details><summary><a href="/units/1/">八里镇</a></summary><p>下级</p></details>
<label for="id_x">身份证号</label><input id="id_x" aria-invalid="true" aria-describedby="id_x_error">
</main></body></html>"""
FINE = """<!doctype html><html lang="zh-Hans"><head><meta charset="utf-8"><title>测试</title></head><body><main>
<h1>测试</h1><p><a href="/units/1/">八里镇</a></p></main></body></html>"""


def serve(page, url: str, html: str) -> None:
    page.route(url, lambda route: route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html))


def found(accessibility) -> set[str]:
    rules = {v["id"] for v in accessibility.violations}
    accessibility.violations.clear()  # this test's own pass or fail is what it asserts
    return rules


def test_nested_controls_and_a_reference_to_a_missing_error_are_caught(page, accessibility):
    serve(page, "http://a11y.test/broken/", BROKEN)
    page.goto("http://a11y.test/broken/")
    page.get_by_role("heading").click()  # anything after the load: the check ran before it
    assert found(accessibility) == {"nested-interactive", "aria-valid-attr-value"}


def test_a_page_of_the_same_shape_is_checked_once_and_a_clean_page_passes(new_page, accessibility):
    page = new_page()
    serve(page, "http://a11y.test/fine/**", FINE)
    for n in (1, 2):
        page.goto(f"http://a11y.test/fine/{n}/")
    assert found(accessibility) == set()
    assert accessibility.checked == ["http://a11y.test/fine/1/"]


@pytest.mark.axe_exempt("nested-interactive", reason="this test checks that an exemption turns the rule off")
def test_an_exempted_rule_is_not_reported_and_the_others_still_are(page, accessibility):
    serve(page, "http://a11y.test/broken/", BROKEN)
    page.goto("http://a11y.test/broken/")
    assert found(accessibility) == {"aria-valid-attr-value"}
